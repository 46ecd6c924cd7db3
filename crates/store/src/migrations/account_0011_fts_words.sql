-- postfach account index: the full-text index takes trigram words, and new
-- documents wait in a plain table until they are folded into it in batches
-- (LMTP delivery throughput, issues #4 and #6).
--
-- message_text now holds, per column, every distinct trigram of the text as
-- one word (crates/store/src/account/fts.rs, trigram_words) for the ascii
-- tokenizer, instead of the text itself for the trigram tokenizer: FTS5 then
-- sees each trigram once instead of once per occurrence. A message's
-- document is written to message_text_pending in the message's transaction;
-- the account's writer moves pending documents into message_text in one
-- transaction per batch (FTS5 writes a new segment per transaction, and
-- merging those was most of the cost of one document per delivery). The id
-- of a pending document is the rowid it gets in message_text.
--
-- The documents written by account_0007 cannot be converted here: every
-- message becomes unindexed (SEARCH reads it, so answers stay exact) until
-- `postfach index rebuild --user NAME` indexes it again; the server warns
-- about such messages when it opens the account.
DROP TRIGGER message_text_gc;
DROP TABLE message_text;
UPDATE messages SET text_id = NULL WHERE text_id IS NOT NULL;

CREATE VIRTUAL TABLE message_text USING fts5(
    subject, from_addr, to_addr, cc_addr, bcc, headers, body,
    content = '', contentless_delete = 1, detail = column,
    tokenize = 'ascii tokenchars _'
);

CREATE TABLE message_text_pending (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    subject TEXT NOT NULL,
    from_addr TEXT NOT NULL,
    to_addr TEXT NOT NULL,
    cc_addr TEXT NOT NULL,
    bcc TEXT NOT NULL,
    headers TEXT NOT NULL,
    body TEXT NOT NULL
);

CREATE TRIGGER message_text_gc AFTER DELETE ON messages
WHEN old.text_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM messages WHERE text_id = old.text_id)
BEGIN
    DELETE FROM message_text WHERE rowid = old.text_id
        AND NOT EXISTS (SELECT 1 FROM message_text_pending WHERE id = old.text_id);
    DELETE FROM message_text_pending WHERE id = old.text_id;
END;
