-- resident_communes: the commune each resident of a province deployment
-- chose (one bot for the province), kept in the default store. choosing is
-- 1 while they are picking one (after /doixa).
CREATE TABLE resident_communes (
    user_key   TEXT PRIMARY KEY,
    commune    TEXT NOT NULL DEFAULT '',
    choosing   INTEGER NOT NULL DEFAULT 0,
    updated_at TEXT NOT NULL
);
