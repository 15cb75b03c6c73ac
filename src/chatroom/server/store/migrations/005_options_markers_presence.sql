-- One person, many devices: per-account options (NickServ SET MULTICLIENT / ALWAYS-ON),
-- IRCv3 read markers per account and target, and the presence an always-on user keeps
-- while none of its connections is attached (its nick, away text, user modes and rooms,
-- in order).
-- All of it belongs to an account: a dropped account takes it along.

CREATE TABLE account_options (
    account_key TEXT NOT NULL REFERENCES accounts (key) ON DELETE CASCADE,
    name TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (account_key, name)
);

CREATE TABLE read_markers (
    account_key TEXT NOT NULL REFERENCES accounts (key) ON DELETE CASCADE,
    target TEXT NOT NULL,
    at REAL NOT NULL,
    PRIMARY KEY (account_key, target)
);

CREATE TABLE account_presence (
    account_key TEXT PRIMARY KEY REFERENCES accounts (key) ON DELETE CASCADE,
    nick TEXT NOT NULL,
    away TEXT,
    modes TEXT NOT NULL DEFAULT '',
    last_seen REAL NOT NULL
);

CREATE TABLE presence_channels (
    account_key TEXT NOT NULL REFERENCES account_presence (account_key) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    channel TEXT NOT NULL,
    PRIMARY KEY (account_key, position)
);
