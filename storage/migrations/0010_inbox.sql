-- inbox: every Telegram update and Zalo event is committed here before it
-- is acknowledged (the webhook's 200, or the getUpdates offset moving past
-- it), then answered by a worker and marked done. The unique key makes a
-- redelivery of a committed event a no-op in the same statement as the
-- insert; an event whose first delivery was never committed is simply new.
--
-- payload holds only what answering needs, with the resident's text
-- redacted (bot/privacy); it and the chat (a platform id, needed to reply)
-- are emptied once the row is done. Done rows are kept, for deduplication
-- only, until pruned.
CREATE TABLE inbox (
    id          INTEGER PRIMARY KEY,             -- arrival order
    channel     TEXT NOT NULL,                   -- telegram | zalo
    event_key   TEXT NOT NULL,                   -- platform id of the delivery
    chat        TEXT NOT NULL DEFAULT '',        -- ordering key while pending
    payload     TEXT NOT NULL DEFAULT '',
    state       TEXT NOT NULL DEFAULT 'pending', -- pending | done | failed
    attempts    INTEGER NOT NULL DEFAULT 0,      -- start-ups that found it pending
    received_at TEXT NOT NULL,
    handled_at  TEXT,
    UNIQUE (channel, event_key)
);
CREATE INDEX inbox_pending ON inbox(channel, id) WHERE state = 'pending';
CREATE INDEX inbox_handled ON inbox(channel, handled_at) WHERE state <> 'pending';

-- zalo_events (event ids recorded before processing) is replaced by inbox.
DROP TABLE zalo_events;
