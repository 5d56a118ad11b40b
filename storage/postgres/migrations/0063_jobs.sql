-- Leases and shared pacing (as storage/migrations/0063_jobs.sql).
CREATE TABLE leases (
    name       TEXT PRIMARY KEY,
    owner      TEXT NOT NULL,
    expires_at TEXT NOT NULL
);

CREATE TABLE pacing (
    name         TEXT PRIMARY KEY,
    next_at      BIGINT NOT NULL DEFAULT 0,
    paused_until BIGINT NOT NULL DEFAULT 0
);
