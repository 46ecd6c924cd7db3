-- postfach account index: SORT keys in a narrow table (issue #6).
--
-- SORT (RFC 5256 §3, RFC 5957) compares one or a few keys per message. The
-- message rows are wide (ENVELOPE and BODYSTRUCTURE are stored inline), so
-- the keys are kept apart, one short row per message, computed when the
-- message is stored: the numbers by the store, the strings by the IMAP
-- layer (base subject, first address, display name; case-folded, so that
-- comparing their UTF-8 bytes is the order SORT wants; see
-- src/imap/sort.rs). SORT reads the keys it needs from this table and
-- sorts in memory (crates/store/src/account/sort.rs). There is no index
-- per key: each would cost a page write per stored message, and sorting
-- 100 000 keys read from here takes about as long as reading them in order
-- from an index.
--
-- Messages stored before this migration (or stored without keys) have no
-- row here. SORT finds them missing, computes their keys from the message
-- row and adds them, so results are exact before and after.
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
