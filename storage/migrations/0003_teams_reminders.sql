-- Community digital technology teams (one per village), their members, and
-- scheduled reminders with per-run, per-recipient delivery records.

CREATE TABLE teams (
    id         INTEGER PRIMARY KEY,
    village    TEXT NOT NULL UNIQUE,
    group_chat TEXT NOT NULL DEFAULT '', -- Telegram group chat id, '' if none
    join_code  TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL
);

-- team_members: a user belongs to at most one team; leaving keeps the row
-- with active = 0 (history of acknowledgements stays readable).
CREATE TABLE team_members (
    id           INTEGER PRIMARY KEY,
    team_id      INTEGER NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    user_id      INTEGER NOT NULL UNIQUE REFERENCES users(id) ON DELETE CASCADE,
    display_name TEXT NOT NULL DEFAULT '', -- optional, given at /dangky
    joined_at    TEXT NOT NULL,
    active       INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX team_members_team ON team_members(team_id, active);

-- reminders: cron is a standard 5-field spec, always read in
-- Asia/Ho_Chi_Minh. target is 'all', 'teams:1,2' or 'groups'. anchor is the
-- time after which the scheduler looks for due slots (creation, resume, last
-- handled slot).
CREATE TABLE reminders (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    cron       TEXT NOT NULL,
    target     TEXT NOT NULL DEFAULT 'all',
    template   TEXT NOT NULL,
    enabled    INTEGER NOT NULL DEFAULT 1,
    seed_key   TEXT UNIQUE, -- set on seeded defaults
    anchor     TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

-- reminder_seeds: defaults that were seeded once; never re-created, even
-- after an admin deleted them.
CREATE TABLE reminder_seeds (
    seed_key  TEXT PRIMARY KEY,
    seeded_at TEXT NOT NULL
);

-- reminder_runs: one per (reminder, scheduled slot). status: running | done.
CREATE TABLE reminder_runs (
    id            INTEGER PRIMARY KEY,
    reminder_id   INTEGER NOT NULL REFERENCES reminders(id) ON DELETE CASCADE,
    scheduled_for TEXT NOT NULL,
    started_at    TEXT NOT NULL,
    finished_at   TEXT,
    late          INTEGER NOT NULL DEFAULT 0,
    status        TEXT NOT NULL DEFAULT 'running',
    UNIQUE (reminder_id, scheduled_for)
);
CREATE INDEX reminder_runs_status ON reminder_runs(status);

-- reminder_deliveries: one per (run, recipient). recipient is 'user:<key>'
-- or 'group:<team id>'. state: pending -> sending -> sent | failed | blocked
-- | undeliverable; a row found in 'sending' after a crash becomes 'unknown'
-- (possibly sent) and is never sent again; pending rows of a run too old to
-- finish become 'skipped'.
CREATE TABLE reminder_deliveries (
    id         INTEGER PRIMARY KEY,
    run_id     INTEGER NOT NULL REFERENCES reminder_runs(id) ON DELETE CASCADE,
    recipient  TEXT NOT NULL,
    user_id    INTEGER REFERENCES users(id) ON DELETE SET NULL,
    team_id    INTEGER REFERENCES teams(id) ON DELETE SET NULL,
    text       TEXT NOT NULL,
    state      TEXT NOT NULL DEFAULT 'pending',
    error      TEXT NOT NULL DEFAULT '',
    sent_at    TEXT,
    ack_at     TEXT,
    ack_user   INTEGER REFERENCES users(id) ON DELETE SET NULL,
    nudged_at  TEXT,
    UNIQUE (run_id, recipient)
);
CREATE INDEX reminder_deliveries_state ON reminder_deliveries(state, ack_at, nudged_at);
