-- Core tables: settings, users and their delivery addresses, exchanges.
CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- users are pseudonymous: key is an HMAC of the channel and platform id.
CREATE TABLE users (
    id         INTEGER PRIMARY KEY,
    key        TEXT NOT NULL UNIQUE,
    channel    TEXT NOT NULL,
    active     INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    last_seen  TEXT NOT NULL
);

-- addresses keep the platform id needed to deliver messages (Telegram chat
-- id, Zalo user id), only for users the bot must write to first.
CREATE TABLE addresses (
    user_id    INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    address    TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE exchanges (
    id          INTEGER PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    channel     TEXT NOT NULL,
    question    TEXT NOT NULL,  -- redacted
    normalized  TEXT NOT NULL DEFAULT '',
    band        TEXT NOT NULL,
    entry_id    TEXT NOT NULL DEFAULT '',
    score       REAL NOT NULL DEFAULT 0,
    candidates  TEXT NOT NULL DEFAULT '', -- clarify candidates, comma-separated ids
    answer_mode TEXT NOT NULL DEFAULT 'base', -- base | composed | fallback
    created_at  TEXT NOT NULL
);
CREATE INDEX exchanges_created ON exchanges(created_at);
CREATE INDEX exchanges_user ON exchanges(user_id, created_at);
CREATE INDEX exchanges_band ON exchanges(band, created_at);
