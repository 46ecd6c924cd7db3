-- RFC 3501 §2.3.2 \Recent: the highest UID of the mailbox that some
-- read-write IMAP4rev1 session has already been told of. Messages above it
-- are recent for the next session that selects the mailbox (or, while one is
-- selected, for the first session to learn of them). Existing mailboxes start
-- with nothing recent.
ALTER TABLE mailboxes ADD COLUMN recent_uid INTEGER NOT NULL DEFAULT 0;
UPDATE mailboxes SET recent_uid = uidnext - 1;
