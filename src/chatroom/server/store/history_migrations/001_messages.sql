-- Message history: one row per PRIVMSG/NOTICE delivered to a room or a person.
-- Lives in its own file (history.db) so account and ban writes never queue behind it.

-- AUTOINCREMENT: ids are never reused after a purge, so id order stays the order in
-- which messages were sent, which is the order CHATHISTORY answers in.
CREATE TABLE messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    target TEXT NOT NULL,        -- conversation key: folded room, or "dm:<id> <id>"
    msgid TEXT NOT NULL,
    at INTEGER NOT NULL,         -- milliseconds since the epoch (the server-time tag)
    sender TEXT NOT NULL,        -- identity of the sender ("a:account" or "n:nick")
    recipient TEXT NOT NULL,     -- identity of a private message's recipient; '' in a room
    source TEXT NOT NULL,        -- nick!user@host as delivered
    command TEXT NOT NULL CHECK (command IN ('PRIVMSG', 'NOTICE')),
    target_name TEXT NOT NULL,   -- room name or recipient nick as delivered
    text TEXT NOT NULL,
    account TEXT,
    tags TEXT NOT NULL DEFAULT '{}'  -- JSON object: client-only tags and "bot"
);
CREATE INDEX messages_by_target ON messages (target, id);
CREATE INDEX messages_by_target_time ON messages (target, at);
CREATE INDEX messages_by_msgid ON messages (msgid);
CREATE INDEX messages_by_time ON messages (at);
CREATE INDEX messages_by_sender ON messages (sender, at) WHERE recipient != '';
CREATE INDEX messages_by_recipient ON messages (recipient, at) WHERE recipient != '';
