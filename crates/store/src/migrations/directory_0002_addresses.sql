-- postfach directory (DATA/directory.sqlite), version 2: addresses and served domains.

-- Domains this server receives mail for. An account `alice` receives mail for
-- `alice@<every domain here>`; while the table is empty, every domain counts
-- as served (the MTA in front already decided the mail is local).
CREATE TABLE domains (
    name TEXT PRIMARY KEY -- lower-case, no '@'
);

-- Addresses assigned to accounts: 'local@domain', or '@domain' for the
-- domain's catch-all. Matched after lower-casing.
CREATE TABLE addresses (
    address    TEXT    PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE
);
CREATE INDEX addresses_account ON addresses(account_id);
