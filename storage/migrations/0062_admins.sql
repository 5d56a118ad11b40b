-- Dashboard accounts, sessions and login throttling, kept in the default
-- store (shared by every commune and every instance).
-- admin_accounts: commune '' is a province admin. hash is the bcrypt hash
-- of the password; must_change is 1 while the password is a one-time code
-- given by `trolyso admin add` (changed at first login).
CREATE TABLE admin_accounts (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    commune     TEXT NOT NULL DEFAULT '',
    hash        TEXT NOT NULL,
    must_change INTEGER NOT NULL DEFAULT 1,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);

-- admin_sessions: by SHA-256 of the cookie value. account_id 0 is the
-- single-password admin of a one-commune install; commune is the commune
-- whose dashboard the session shows.
CREATE TABLE admin_sessions (
    token_hash TEXT PRIMARY KEY,
    account_id INTEGER NOT NULL DEFAULT 0,
    commune    TEXT NOT NULL DEFAULT '',
    csrf       TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX admin_sessions_expires ON admin_sessions(expires_at);

-- login_failures: login attempts per client address in the current window.
CREATE TABLE login_failures (
    addr     TEXT PRIMARY KEY,
    count    INTEGER NOT NULL,
    first_at TEXT NOT NULL
);
