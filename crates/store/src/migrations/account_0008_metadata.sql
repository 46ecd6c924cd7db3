-- METADATA (RFC 5464): annotations of the account's mailboxes and the
-- account's own server annotations (GETMETADATA "" /private/...).
-- mailbox_id 0 means the server (the mailbox name "" on the wire); other
-- values are mailboxes(id), whose rows DELETE removes and RENAME keeps (ids
-- are never reused). /private and /shared entries of a mailbox both live
-- here: without ACLs only the owner sees the mailbox. Server-wide /shared
-- entries are global and live in the directory (server_metadata).
CREATE TABLE metadata (
    mailbox_id INTEGER NOT NULL,   -- 0 = server
    entry      TEXT    NOT NULL,   -- lower-case, e.g. '/private/comment'
    value      BLOB    NOT NULL,   -- octets as sent (NIL deletes the row)
    PRIMARY KEY (mailbox_id, entry)
) WITHOUT ROWID;
