-- Per-account options, read markers and the kept presence of always-on users: the twin
-- of ../../migrations/005_options_markers_presence.sql. A dropped account takes them along.

CREATE TABLE account_options (
    account_key TEXT NOT NULL REFERENCES accounts (key) ON DELETE CASCADE,
    name TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (account_key, name)
);

CREATE TABLE read_markers (
    account_key TEXT NOT NULL REFERENCES accounts (key) ON DELETE CASCADE,
    target TEXT NOT NULL,
    at DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (account_key, target)
);

CREATE TABLE account_presence (
    account_key TEXT PRIMARY KEY REFERENCES accounts (key) ON DELETE CASCADE,
    nick TEXT NOT NULL,
    away TEXT,
    modes TEXT NOT NULL DEFAULT '',
    last_seen DOUBLE PRECISION NOT NULL
);

CREATE TABLE presence_channels (
    account_key TEXT NOT NULL REFERENCES account_presence (account_key) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    channel TEXT NOT NULL,
    PRIMARY KEY (account_key, position)
);
