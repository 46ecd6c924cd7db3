-- postfach account index, version 3: RFC 8474 OBJECTID and RFC 8514 SAVEDATE.
--
-- Object ids are random: 'F' (mailboxes), 'M' (messages, EMAILID) or 'T'
-- (threads, THREADID) followed by 24 lower-case hex digits (96 bits).

-- MAILBOXID: kept by RENAME, never reused (a recreated mailbox gets a new one).
ALTER TABLE mailboxes ADD COLUMN object_id TEXT NOT NULL DEFAULT '';
UPDATE mailboxes SET object_id = 'F' || lower(hex(randomblob(12)));
CREATE UNIQUE INDEX mailboxes_object_id ON mailboxes(object_id);

-- EMAILID (copied by COPY/MOVE), THREADID (shared by a thread, copied too),
-- SAVEDATE (Unix seconds the row was saved into its mailbox; COPY/MOVE set it
-- anew), and the ids named by In-Reply-To/References (space-separated,
-- nearest parent first) that threading looks up.
ALTER TABLE messages ADD COLUMN email_id   TEXT    NOT NULL DEFAULT '';
ALTER TABLE messages ADD COLUMN thread_id  TEXT    NOT NULL DEFAULT '';
ALTER TABLE messages ADD COLUMN savedate   INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN thread_refs TEXT   NOT NULL DEFAULT '';

-- Existing messages: a fresh EMAILID and THREADID each (their references were
-- not kept), then rows with identical content (same blob and prefix, i.e.
-- copies) share the smallest of their EMAILIDs and THREADIDs. Their save date
-- is unknown; INTERNALDATE is the best estimate (the delivery time for
-- delivered mail).
UPDATE messages SET email_id  = 'M' || lower(hex(randomblob(12))),
                    thread_id = 'T' || lower(hex(randomblob(12))),
                    savedate  = internaldate;
UPDATE messages SET email_id  = (SELECT min(m.email_id) FROM messages m
                                 WHERE m.blob = messages.blob AND m.prefix = messages.prefix),
                    thread_id = (SELECT min(m.thread_id) FROM messages m
                                 WHERE m.blob = messages.blob AND m.prefix = messages.prefix);

-- Threading at APPEND looks up the Message-IDs a new message refers to.
CREATE INDEX messages_message_id ON messages(message_id);
