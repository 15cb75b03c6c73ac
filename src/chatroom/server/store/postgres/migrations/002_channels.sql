-- Registered rooms (ChanServ) with their ops and mask lists, and server-wide mutes:
-- the twin of ../../migrations/002_channels.sql.

CREATE TABLE channels (
    key TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    founder TEXT NOT NULL,
    registered_at DOUBLE PRECISION NOT NULL,
    topic TEXT NOT NULL DEFAULT '',
    topic_set_by TEXT NOT NULL DEFAULT '',
    topic_set_at DOUBLE PRECISION NOT NULL DEFAULT 0,
    modes TEXT NOT NULL DEFAULT 'nt',
    channel_key TEXT,
    user_limit INTEGER
);

CREATE TABLE channel_ops (
    channel_key TEXT NOT NULL REFERENCES channels (key) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    account TEXT NOT NULL,
    PRIMARY KEY (channel_key, position)
);

CREATE TABLE channel_list_entries (
    channel_key TEXT NOT NULL REFERENCES channels (key) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    letter TEXT NOT NULL CHECK (letter IN ('b', 'e', 'I', 'q')),
    mask TEXT NOT NULL,
    set_by TEXT NOT NULL,
    set_at DOUBLE PRECISION NOT NULL,
    expires_at DOUBLE PRECISION,
    PRIMARY KEY (channel_key, position)
);

CREATE TABLE account_mutes (
    account_key TEXT PRIMARY KEY,
    account_name TEXT NOT NULL,
    reason TEXT NOT NULL,
    set_by TEXT NOT NULL,
    set_at DOUBLE PRECISION NOT NULL,
    expires_at DOUBLE PRECISION
);
