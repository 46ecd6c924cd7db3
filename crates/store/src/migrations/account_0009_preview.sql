-- postfach account index: RFC 8970 PREVIEW text, computed at APPEND/delivery.
--
-- NULL means "not computed yet" (messages stored before this migration): the
-- first FETCH PREVIEW computes it from the message and stores it. An empty
-- string is a computed preview of a message without readable text.
ALTER TABLE messages ADD COLUMN preview TEXT;
