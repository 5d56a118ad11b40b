-- Zalo Official Account channel (as storage/migrations/0004_zalo.sql).
CREATE TABLE zalo_tokens (
    id            INTEGER PRIMARY KEY CHECK (id = 1),
    access_token  TEXT NOT NULL,
    refresh_token TEXT NOT NULL,
    expires_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);

CREATE TABLE zalo_events (
    event_id    TEXT PRIMARY KEY,
    received_at TEXT NOT NULL
);
CREATE INDEX zalo_events_received ON zalo_events(received_at);

CREATE TABLE zalo_users (
    user_key     TEXT PRIMARY KEY,
    last_inbound TEXT NOT NULL,
    followed     INTEGER NOT NULL DEFAULT 1
);

CREATE TABLE zalo_offers (
    user_key   TEXT PRIMARY KEY,
    payloads   TEXT NOT NULL,
    created_at TEXT NOT NULL
);
