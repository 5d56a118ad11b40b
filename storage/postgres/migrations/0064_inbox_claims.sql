-- Inbox claims (as storage/migrations/0064_inbox_claims.sql).
ALTER TABLE inbox ADD COLUMN owner TEXT NOT NULL DEFAULT '';
ALTER TABLE inbox ADD COLUMN claim_until BIGINT NOT NULL DEFAULT 0;
CREATE INDEX inbox_owner ON inbox(channel, owner) WHERE state = 'pending';
CREATE INDEX inbox_chat ON inbox(channel, chat, id) WHERE state = 'pending';
