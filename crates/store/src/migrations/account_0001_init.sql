-- postfach account index (DATA/accounts/<id>/index.sqlite), version 1.

CREATE TABLE mailboxes (
    id            INTEGER PRIMARY KEY AUTOINCREMENT, -- never reused
    name          TEXT    NOT NULL UNIQUE,           -- UTF-8, '/' separates levels, 'INBOX' spelled so
    uidvalidity   INTEGER NOT NULL,
    uidnext       INTEGER NOT NULL DEFAULT 1,        -- only grows
    highestmodseq INTEGER NOT NULL DEFAULT 1,        -- max modseq of any message or tombstone
    special_use   TEXT                               -- RFC 6154: \Sent, \Drafts, ...
);

CREATE TABLE messages (
    mailbox_id        INTEGER NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,
    uid               INTEGER NOT NULL,
    modseq            INTEGER NOT NULL,
    flags             INTEGER NOT NULL DEFAULT 0,  -- bits: 1 Seen, 2 Answered, 4 Flagged, 8 Deleted, 16 Draft
    keywords          TEXT    NOT NULL DEFAULT '', -- space-separated
    internaldate      INTEGER NOT NULL,            -- Unix seconds
    internaldate_zone INTEGER NOT NULL DEFAULT 0,  -- minutes east of UTC
    size              INTEGER NOT NULL,            -- RFC822.SIZE = length(prefix) + blob size
    blob              TEXT    NOT NULL,            -- SHA-256 hex, file DATA/blobs/ab/cdef...
    prefix            BLOB    NOT NULL DEFAULT x'',-- per-recipient trace headers served before the blob
    envelope          BLOB    NOT NULL DEFAULT x'',
    bodystructure     BLOB    NOT NULL DEFAULT x'',
    body              BLOB    NOT NULL DEFAULT x'',
    subject           TEXT    NOT NULL DEFAULT '',
    from_addr         TEXT    NOT NULL DEFAULT '',
    to_addr           TEXT    NOT NULL DEFAULT '',
    cc_addr           TEXT    NOT NULL DEFAULT '',
    sent_date         INTEGER,
    message_id        TEXT    NOT NULL DEFAULT '',
    PRIMARY KEY (mailbox_id, uid)
);
CREATE INDEX messages_modseq ON messages(mailbox_id, modseq);
CREATE INDEX messages_blob ON messages(blob);

-- Tombstones of expunged messages, so QRESYNC can answer VANISHED (EARLIER).
CREATE TABLE expunged (
    mailbox_id INTEGER NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,
    uid        INTEGER NOT NULL,
    modseq     INTEGER NOT NULL,
    PRIMARY KEY (mailbox_id, uid)
);
CREATE INDEX expunged_modseq ON expunged(mailbox_id, modseq);

-- Subscribed names; they need not exist (RFC 9051 §6.3.7).
CREATE TABLE subscriptions (
    name TEXT PRIMARY KEY
);

-- The last UIDVALIDITY handed out in this account, so that a recreated
-- mailbox never gets a value used before.
CREATE TABLE uidvalidity_seq (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    last INTEGER NOT NULL
);
INSERT INTO uidvalidity_seq (id, last) VALUES (1, 0);
