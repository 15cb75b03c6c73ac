-- Registered rooms (ChanServ) with their ops and mask lists, and server-wide mutes.
-- A room's rows are always rewritten whole (PutChannel), so the child tables carry a
-- position to give lists back in the order they were set.

CREATE TABLE channels (
    key TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    founder TEXT NOT NULL,
    registered_at REAL NOT NULL,
    topic TEXT NOT NULL DEFAULT '',
    topic_set_by TEXT NOT NULL DEFAULT '',
    topic_set_at REAL NOT NULL DEFAULT 0,
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
    set_at REAL NOT NULL,
    expires_at REAL,
    PRIMARY KEY (channel_key, position)
);

CREATE TABLE account_mutes (
    account_key TEXT PRIMARY KEY,
    account_name TEXT NOT NULL,
    reason TEXT NOT NULL,
    set_by TEXT NOT NULL,
    set_at REAL NOT NULL,
    expires_at REAL
);
