-- Satisfaction: ratings of answers, service surveys, pending conversation
-- states and survey offers.

-- ratings: one per answer (exchange); changing a rating keeps the latest.
CREATE TABLE ratings (
    exchange_id INTEGER PRIMARY KEY REFERENCES exchanges(id) ON DELETE CASCADE,
    user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    value       INTEGER NOT NULL CHECK (value IN (1, -1)),
    reason      TEXT NOT NULL DEFAULT '', -- sai | kho | thieu | khac (after 👎)
    comment     TEXT NOT NULL DEFAULT '', -- redacted
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE INDEX ratings_user ON ratings(user_id);

-- surveys: the official five-level satisfaction scale for one online public
-- service. level 5 = Rất hài lòng, 4 = Hài lòng, 3 = Bình thường,
-- 2 = Không hài lòng, 1 = Rất không hài lòng; satisfied means level >= 4.
CREATE TABLE surveys (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    channel    TEXT NOT NULL,
    service    TEXT NOT NULL, -- knowledge-base entry id, or 'khac'
    level      INTEGER NOT NULL CHECK (level BETWEEN 1 AND 5),
    comment    TEXT NOT NULL DEFAULT '', -- redacted
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX surveys_created ON surveys(created_at);
CREATE INDEX surveys_user ON surveys(user_id, created_at);

-- pending_states: what the next free text of a user means (a comment the
-- bot asked for), until expires_at.
CREATE TABLE pending_states (
    user_key   TEXT PRIMARY KEY,
    kind       TEXT NOT NULL,
    data       TEXT NOT NULL DEFAULT '',
    expires_at TEXT NOT NULL
);

-- survey_offers: when the survey was last offered to a user (at most once
-- per 30 days).
CREATE TABLE survey_offers (
    user_id    INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    offered_at TEXT NOT NULL
);
