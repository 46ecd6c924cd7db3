-- postfach directory (DATA/directory.sqlite), version 3: per-account quotas (RFC 9208).
-- Usage is not stored: it is the sum over the account's `messages` rows,
-- read inside the account's write transaction when a limit applies.
ALTER TABLE accounts ADD COLUMN quota_storage  INTEGER;                    -- octets; NULL = unlimited
ALTER TABLE accounts ADD COLUMN quota_messages INTEGER;                    -- NULL = unlimited
ALTER TABLE accounts ADD COLUMN quota_warned   INTEGER NOT NULL DEFAULT 0; -- 1 = usage warning delivered
