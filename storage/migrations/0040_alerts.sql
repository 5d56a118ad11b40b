-- Alerts and commune announcements: residents who opted in, send jobs (one
-- per alert) with one delivery row per recipient, and the lease that lets
-- one process at a time send.

-- alert_jobs: an alert (scam warning, notice, disaster warning) and the job
-- that sends it. text/group_text are the messages exactly as residents and
-- team groups get them (restricted Markdown). status: scheduled -> running
-- -> done, or paused/cancelled by an admin. priority 0 (disaster) is sent
-- before 1 (everything else).
CREATE TABLE alert_jobs (
    id            INTEGER PRIMARY KEY,
    kind          TEXT NOT NULL CHECK (kind IN ('scam', 'notice', 'disaster')),
    title         TEXT NOT NULL,
    body          TEXT NOT NULL,
    link          TEXT NOT NULL DEFAULT '',
    image         TEXT NOT NULL DEFAULT '',
    entries       TEXT NOT NULL DEFAULT '', -- knowledge-base entry ids, comma-separated
    villages      TEXT NOT NULL DEFAULT '', -- '' = the whole commune
    channels      TEXT NOT NULL DEFAULT '', -- '' = every channel
    text          TEXT NOT NULL,
    group_text    TEXT NOT NULL DEFAULT '',
    priority      INTEGER NOT NULL DEFAULT 1,
    status        TEXT NOT NULL DEFAULT 'scheduled',
    scheduled_for TEXT NOT NULL,
    expires_at    TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    created_by    TEXT NOT NULL, -- who confirmed the send, and from where
    planned       INTEGER NOT NULL DEFAULT 0, -- recipients counted at confirmation
    recipients    INTEGER NOT NULL DEFAULT 0, -- delivery rows created at start
    started_at    TEXT,
    finished_at   TEXT
);
CREATE INDEX alert_jobs_status ON alert_jobs(status, priority, id);
CREATE INDEX alert_jobs_expires ON alert_jobs(expires_at);

-- alert_subscribers: residents who asked for alerts, with the village they
-- chose ('' = none: only commune-wide alerts). Unsubscribing keeps the row
-- (active = 0) with the reason ('user': /huytheodoi or "dừng"; 'blocked':
-- the platform refused delivery) and the alert that caused it, if any.
CREATE TABLE alert_subscribers (
    user_id         INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    village         TEXT NOT NULL DEFAULT '',
    active          INTEGER NOT NULL DEFAULT 1,
    subscribed_at   TEXT NOT NULL,
    unsubscribed_at TEXT,
    unsub_reason    TEXT NOT NULL DEFAULT '',
    unsub_job       INTEGER REFERENCES alert_jobs(id) ON DELETE SET NULL
);
CREATE INDEX alert_subscribers_active ON alert_subscribers(active, village);
CREATE INDEX alert_subscribers_unsub ON alert_subscribers(unsub_job);

-- alert_offers: residents who were asked once whether they want alerts.
CREATE TABLE alert_offers (
    user_id    INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    offered_at TEXT NOT NULL
);

-- alert_deliveries: one per (job, recipient), all written when the job
-- starts, before the first message. recipient is 'user:<key>' or
-- 'group:<team id>'. state: pending -> sending (claimed, committed before
-- the send) -> sent | failed | blocked | undeliverable; a row found in
-- 'sending' by a new sender (the previous one stopped) becomes 'unknown'
-- and is never sent again; pending rows of a cancelled job become
-- 'cancelled'.
CREATE TABLE alert_deliveries (
    id        INTEGER PRIMARY KEY,
    job_id    INTEGER NOT NULL REFERENCES alert_jobs(id) ON DELETE CASCADE,
    recipient TEXT NOT NULL,
    channel   TEXT NOT NULL,
    user_id   INTEGER REFERENCES users(id) ON DELETE SET NULL,
    team_id   INTEGER REFERENCES teams(id) ON DELETE SET NULL,
    state     TEXT NOT NULL DEFAULT 'pending',
    error     TEXT NOT NULL DEFAULT '',
    done_at   TEXT, -- when the outcome was recorded
    UNIQUE (job_id, recipient)
);
CREATE INDEX alert_deliveries_job ON alert_deliveries(job_id, state, id);
CREATE INDEX alert_deliveries_user ON alert_deliveries(user_id, done_at);

-- alert_sender: at most one row, the process allowed to send alerts until
-- expires_at (renewed while it runs). A server holds it while it runs; the
-- CLI sends itself only when nobody holds it.
CREATE TABLE alert_sender (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    owner      TEXT NOT NULL,
    since      TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
