-- inbox claims: on one database shared by several instances, each pending
-- inbox row is claimed by the instance answering it (owner, as named in
-- job leases) until claim_until (Unix microseconds). The owner renews its
-- claims while it runs; another instance takes over a row whose claim
-- expired (its owner died) or whose owner is known to be gone, and counts
-- an attempt. Rows pending before this migration have no owner and an
-- expired claim: the first instance to look takes them, as the start-up
-- recovery did.
ALTER TABLE inbox ADD COLUMN owner TEXT NOT NULL DEFAULT '';
ALTER TABLE inbox ADD COLUMN claim_until INTEGER NOT NULL DEFAULT 0;
-- An owner's pending rows (renewal), and a chat's pending rows in arrival
-- order (per-chat order across instances).
CREATE INDEX inbox_owner ON inbox(channel, owner) WHERE state = 'pending';
CREATE INDEX inbox_chat ON inbox(channel, chat, id) WHERE state = 'pending';
