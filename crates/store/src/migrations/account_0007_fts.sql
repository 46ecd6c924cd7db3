-- postfach account index: full-text index for SEARCH (issue #7).
--
-- One document per distinct message text: the decoded, lower-cased text
-- that SEARCH's substring keys look at (see crates/store/src/account/fts.rs).
-- Copies of a message (COPY, MOVE, the same bytes appended twice) share one
-- document through messages.text_id; the document goes when its last
-- message does (trigger below). The trigram tokenizer indexes every three
-- consecutive characters, so any needle of three or more characters can be
-- looked up; the table is contentless (the text itself is not stored) and
-- SEARCH confirms every candidate against the message, so the index only
-- narrows and never decides.
CREATE VIRTUAL TABLE message_text USING fts5(
    subject, from_addr, to_addr, cc_addr, bcc, headers, body,
    content = '', contentless_delete = 1, detail = column,
    tokenize = 'trigram case_sensitive 1'
);

-- NULL: not indexed yet (rows stored before this migration, or a message the
-- indexer could not read). SEARCH treats such messages as candidates for
-- every text key, so results stay exact; `postfach index rebuild --user U`
-- indexes them.
ALTER TABLE messages ADD COLUMN text_id INTEGER;
CREATE INDEX messages_text ON messages(text_id, mailbox_id, uid);
CREATE INDEX messages_unindexed ON messages(mailbox_id, uid) WHERE text_id IS NULL;

CREATE TRIGGER message_text_gc AFTER DELETE ON messages
WHEN old.text_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM messages WHERE text_id = old.text_id)
BEGIN
    DELETE FROM message_text WHERE rowid = old.text_id;
END;
