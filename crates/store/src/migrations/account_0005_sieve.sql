-- Sieve (RFC 5228) filtering: the account's scripts (ManageSieve, RFC 5804),
-- the last runtime error of each, vacation (RFC 5230) reply tracking and the
-- duplicate test (RFC 7352).

-- One row per script. At most one is active (partial unique index below).
CREATE TABLE sieve_scripts (
    name       TEXT PRIMARY KEY,
    content    TEXT NOT NULL,
    active     INTEGER NOT NULL DEFAULT 0,
    updated_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX sieve_scripts_one_active ON sieve_scripts (active) WHERE active = 1;

-- The last runtime error of a script at delivery ("global:before" and
-- "global:after" for the admin's scripts). Cleared when the script is
-- replaced; shown by ManageSieve (GETSCRIPT/CHECKSCRIPT/SETACTIVE WARNINGS).
CREATE TABLE sieve_errors (
    script  TEXT PRIMARY KEY,
    message TEXT NOT NULL,
    at      INTEGER NOT NULL
);

-- Whom vacation answered, per vacation handle (RFC 5230 §4.2 :days/:seconds).
CREATE TABLE vacation_sent (
    handle  TEXT NOT NULL,
    sender  TEXT NOT NULL,
    sent_at INTEGER NOT NULL,
    PRIMARY KEY (handle, sender)
);

-- Message ids seen by the duplicate test, per handle.
CREATE TABLE sieve_duplicates (
    handle     TEXT NOT NULL,
    id         TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (handle, id)
);
