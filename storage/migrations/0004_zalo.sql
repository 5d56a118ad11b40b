-- Zalo Official Account channel: OAuth tokens, processed webhook events,
-- per-user messaging-window state and the numbered choices last offered.

-- zalo_tokens holds exactly one row: the current access/refresh token pair.
-- The refresh token is single-use, so the pair is replaced in one statement.
CREATE TABLE zalo_tokens (
    id            INTEGER PRIMARY KEY CHECK (id = 1),
    access_token  TEXT NOT NULL,
    refresh_token TEXT NOT NULL,
    expires_at    TEXT NOT NULL,  -- '' when unknown
    updated_at    TEXT NOT NULL
);

-- zalo_events remembers webhook deliveries already accepted, so that Zalo's
-- retries are answered once even across restarts. Old rows are pruned.
CREATE TABLE zalo_events (
    event_id    TEXT PRIMARY KEY,
    received_at TEXT NOT NULL
);
CREATE INDEX zalo_events_received ON zalo_events(received_at);

-- zalo_users keeps, per pseudonymous user key, the last time the resident
-- wrote to (or followed) the OA, which opens the messaging window, and
-- whether they still follow it.
CREATE TABLE zalo_users (
    user_key     TEXT PRIMARY KEY,
    last_inbound TEXT NOT NULL,
    followed     INTEGER NOT NULL DEFAULT 1
);

-- zalo_offers keeps the payloads of the buttons last sent to a user, in
-- order, so that typing "1", "2"… picks one (newline-separated).
CREATE TABLE zalo_offers (
    user_key   TEXT PRIMARY KEY,
    payloads   TEXT NOT NULL,
    created_at TEXT NOT NULL
);
