-- postfach directory, version 4: server-wide /shared METADATA entries
-- (RFC 5464 §3.2.1.1, e.g. /shared/comment, /shared/vendor/...), read by
-- every user with GETMETADATA "" and set by the administrator
-- (`postfach metadata set`). /shared/admin comes from the config instead.
CREATE TABLE server_metadata (
    entry TEXT PRIMARY KEY,   -- lower-case, starts with /shared/
    value BLOB NOT NULL
) WITHOUT ROWID;
