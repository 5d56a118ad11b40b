-- The commune each resident chose (as storage/migrations/0061_resident_communes.sql).
CREATE TABLE resident_communes (
    user_key   TEXT PRIMARY KEY,
    commune    TEXT NOT NULL DEFAULT '',
    choosing   INTEGER NOT NULL DEFAULT 0,
    updated_at TEXT NOT NULL
);
