-- postfach account index, version 2: tombstone retention (RFC 7162 QRESYNC).

-- When each message was expunged (Unix seconds), so old tombstones can be pruned.
ALTER TABLE expunged ADD COLUMN expunged_at INTEGER NOT NULL DEFAULT 0;

-- Tombstones with modseq <= tombstone_floor may have been pruned: a client
-- resynchronising from an older MODSEQ gets the full answer (every known UID
-- that no longer exists) instead of an incomplete VANISHED list.
ALTER TABLE mailboxes ADD COLUMN tombstone_floor INTEGER NOT NULL DEFAULT 0;
