-- postfach account index: SORT and THREAD keys computed at delivery
-- (RFC 5256, RFC 5957), so that SORT/THREAD never re-parse messages.
-- Rows stored before this migration keep empty values: FROM/TO/CC and
-- DISPLAYFROM/DISPLAYTO sort them as absent, THREAD=REFERENCES sees no
-- references for them.

-- addr-mailbox of the first From/To/Cc address (RFC 5256 §3 FROM, TO, CC).
ALTER TABLE messages ADD COLUMN from_mailbox TEXT NOT NULL DEFAULT '';
ALTER TABLE messages ADD COLUMN to_mailbox   TEXT NOT NULL DEFAULT '';
ALTER TABLE messages ADD COLUMN cc_mailbox   TEXT NOT NULL DEFAULT '';
-- RFC 5957 §3 DISPLAY sort value of the first From/To address.
ALTER TABLE messages ADD COLUMN display_from TEXT NOT NULL DEFAULT '';
ALTER TABLE messages ADD COLUMN display_to   TEXT NOT NULL DEFAULT '';
-- RFC 5256 §4 references: normalized Message IDs, space-separated.
ALTER TABLE messages ADD COLUMN sort_refs    TEXT NOT NULL DEFAULT '';
