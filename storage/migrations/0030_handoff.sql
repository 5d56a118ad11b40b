-- Handoff to commune staff: tickets (a resident's conversation with staff),
-- their messages, the staff-group posts that refer to them, the durable
-- outbox of everything sent on their behalf, and the log of knowledge-base
-- entries published from the dashboard.

-- tickets: status open -> closed. At most one open ticket per user (the
-- partial unique index). waiting_since is set by a resident message while
-- no staff reply answers it; card_post is the staff-group message staff
-- reply to; closed_by is a staff name, 'resident' or 'idle'.
CREATE TABLE tickets (
    id             INTEGER PRIMARY KEY,
    user_id        INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    channel        TEXT NOT NULL,
    status         TEXT NOT NULL DEFAULT 'open',
    created_at     TEXT NOT NULL,
    last_activity  TEXT NOT NULL,
    waiting_since  TEXT,
    first_reply_at TEXT,
    claimed_by     TEXT NOT NULL DEFAULT '',
    claimed_at     TEXT,
    card_post      TEXT NOT NULL DEFAULT '',
    reposted_at    TEXT,
    closed_at      TEXT,
    closed_by      TEXT NOT NULL DEFAULT '',
    close_reason   TEXT NOT NULL DEFAULT '', -- staff | resident | idle
    rating         INTEGER CHECK (rating IN (1, -1)),
    rated_at       TEXT,
    entry_id       TEXT NOT NULL DEFAULT '' -- knowledge entry published from it
);
CREATE UNIQUE INDEX tickets_one_open ON tickets(user_id) WHERE status = 'open';
CREATE INDEX tickets_status ON tickets(status, created_at);
CREATE INDEX tickets_created ON tickets(created_at);

-- ticket_messages: the conversation. author: resident | bot | staff |
-- system. Resident and bot texts are redacted; staff replies are kept as
-- written (they must be delivered as written) and never logged.
CREATE TABLE ticket_messages (
    id         INTEGER PRIMARY KEY,
    ticket_id  INTEGER NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
    author     TEXT NOT NULL,
    staff_name TEXT NOT NULL DEFAULT '',
    via        TEXT NOT NULL DEFAULT '', -- telegram | dashboard (staff)
    text       TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX ticket_messages_ticket ON ticket_messages(ticket_id, id);

-- ticket_posts maps the bot's messages in the staff group to their ticket,
-- so that a staff member's Telegram reply finds the resident.
CREATE TABLE ticket_posts (
    post_id   TEXT PRIMARY KEY,
    ticket_id INTEGER NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
    posted_at TEXT NOT NULL
);
CREATE INDEX ticket_posts_ticket ON ticket_posts(ticket_id);

-- handoff_outbox: every message sent for a ticket, committed before it is
-- sent. target 'resident' (channel telegram | zalo | web) or 'staff' (the
-- staff group). state: pending -> sending -> sent | failed | undeliverable
-- | blocked; a row found in 'sending' at start-up becomes 'unknown'
-- (possibly sent) and is never sent again; web rows are 'sent' once the
-- resident's browser fetched them. kind: reply | notice (resident); card |
-- post | edit (staff). Rows of one ticket and target leave in id order.
CREATE TABLE handoff_outbox (
    id         INTEGER PRIMARY KEY,
    ticket_id  INTEGER NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
    message_id INTEGER REFERENCES ticket_messages(id) ON DELETE SET NULL,
    target     TEXT NOT NULL,
    channel    TEXT NOT NULL,
    kind       TEXT NOT NULL,
    text       TEXT NOT NULL DEFAULT '',
    buttons    TEXT NOT NULL DEFAULT '', -- JSON [][]{label,payload}
    state      TEXT NOT NULL DEFAULT 'pending',
    attempts   INTEGER NOT NULL DEFAULT 0,
    not_before TEXT NOT NULL,
    error      TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    sent_at    TEXT
);
CREATE INDEX handoff_outbox_due ON handoff_outbox(state, target, not_before);
CREATE INDEX handoff_outbox_ticket ON handoff_outbox(ticket_id, target, id);

-- kb_publishes: every entry file written from the dashboard: who, when,
-- which file, and the file's previous content ('' when it was new).
CREATE TABLE kb_publishes (
    id         INTEGER PRIMARY KEY,
    file       TEXT NOT NULL,
    entry_id   TEXT NOT NULL,
    staff_name TEXT NOT NULL,
    ticket_id  INTEGER REFERENCES tickets(id) ON DELETE SET NULL,
    previous   TEXT NOT NULL DEFAULT '',
    content    TEXT NOT NULL,
    backup     TEXT NOT NULL DEFAULT '', -- path of the kept previous version
    created_at TEXT NOT NULL
);
