-- postfach account index: SORT keys in a narrow table (issue #6).
--
-- SORT (RFC 5256 §3, RFC 5957) compares one or a few keys per message. The
-- message rows are wide (ENVELOPE and BODYSTRUCTURE are stored inline), so
-- the keys are kept apart, one row per message, computed when the message
-- is stored: the numbers by the store, the strings by the IMAP layer (base
-- subject, first address, display name; case-folded, so that SQLite's
-- binary order is the order SORT wants; see src/imap/sort.rs). Each key has
-- an index (mailbox_id, key), which holds the UID too (the primary key):
-- SORT reads the UIDs in key order from one index, and ties come out by
-- UID, which is the order of sequence numbers that RFC 5256 §3 asks for.
--
-- Messages stored before this migration (or stored without keys) have no
-- row here. SORT finds them missing, computes their keys from the message
-- row and adds them (crates/store/src/account/sort.rs), so results are
-- exact before and after.
CREATE TABLE sort_keys (
    mailbox_id   INTEGER NOT NULL,
    uid          INTEGER NOT NULL,
    arrival      INTEGER NOT NULL, -- INTERNALDATE, Unix seconds
    date         INTEGER NOT NULL, -- sent date (RFC 5256 §2.2): Date: in UTC, else INTERNALDATE
    size         INTEGER NOT NULL, -- RFC822.SIZE
    subject      TEXT    NOT NULL, -- base subject (RFC 5256 §2.1)
    from_addr    TEXT    NOT NULL, -- addr-mailbox of the first From, To, Cc address
    to_addr      TEXT    NOT NULL,
    cc_addr      TEXT    NOT NULL,
    display_from TEXT    NOT NULL, -- RFC 5957 §3 display value of the first From, To address
    display_to   TEXT    NOT NULL,
    PRIMARY KEY (mailbox_id, uid),
    FOREIGN KEY (mailbox_id, uid) REFERENCES messages (mailbox_id, uid) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX sort_keys_arrival ON sort_keys (mailbox_id, arrival);
CREATE INDEX sort_keys_date ON sort_keys (mailbox_id, date);
CREATE INDEX sort_keys_size ON sort_keys (mailbox_id, size);
CREATE INDEX sort_keys_subject ON sort_keys (mailbox_id, subject);
CREATE INDEX sort_keys_from ON sort_keys (mailbox_id, from_addr);
CREATE INDEX sort_keys_to ON sort_keys (mailbox_id, to_addr);
CREATE INDEX sort_keys_cc ON sort_keys (mailbox_id, cc_addr);
CREATE INDEX sort_keys_display_from ON sort_keys (mailbox_id, display_from);
CREATE INDEX sort_keys_display_to ON sort_keys (mailbox_id, display_to);
