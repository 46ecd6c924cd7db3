-- postfach account index: a covering index for the per-message summary.
--
-- Message rows carry their ENVELOPE and BODYSTRUCTURE, so a scan of the
-- table reads every message's metadata. SELECT (UIDs, flags), STATUS
-- (counts, sizes) and FETCH FLAGS need only these columns: with this index
-- SQLite answers them from the index alone (bench/RESULTS.md: SELECT of a
-- 100 000-message mailbox).
CREATE INDEX messages_summary ON messages(mailbox_id, uid, modseq, flags, size, keywords);
