-- postfach directory (DATA/directory.sqlite), version 1.
CREATE TABLE accounts (
    id            INTEGER PRIMARY KEY AUTOINCREMENT, -- never reused
    name          TEXT    NOT NULL UNIQUE,           -- login name, lower-case
    password_hash TEXT    NOT NULL,                  -- PHC string
    created       INTEGER NOT NULL                   -- Unix seconds
);
