-- leases: which process runs a job (a commune's reminders, the handoff
-- outbox) until expires_at, renewed while it runs; another process takes
-- it over once it expired (the holder died).
CREATE TABLE leases (
    name       TEXT PRIMARY KEY,
    owner      TEXT NOT NULL,
    expires_at TEXT NOT NULL
);

-- pacing: shared send pacing of a bot across instances. next_at and
-- paused_until are Unix microseconds.
CREATE TABLE pacing (
    name         TEXT PRIMARY KEY,
    next_at      INTEGER NOT NULL DEFAULT 0,
    paused_until INTEGER NOT NULL DEFAULT 0
);
