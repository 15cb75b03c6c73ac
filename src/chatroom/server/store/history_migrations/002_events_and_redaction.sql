-- Room events (draft/event-playback) and deleted messages (draft/message-redaction).
--
-- Events (JOIN, PART, QUIT, KICK, MODE, TOPIC, NICK, REDACT) share the messages table, so
-- one id order interleaves them with what was said. SQLite cannot drop the CHECK on
-- `command`, so the table is rebuilt with the same rows and ids; new ids stay above every
-- existing one, so id order is still send order.
CREATE TABLE messages_new (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    target TEXT NOT NULL,        -- conversation key: folded room, or "dm:<id> <id>"
    msgid TEXT NOT NULL,
    at INTEGER NOT NULL,         -- milliseconds since the epoch (the server-time tag)
    sender TEXT NOT NULL,        -- identity of the sender ("a:account" or "n:nick"); '' for most events
    recipient TEXT NOT NULL,     -- identity of a private message's recipient; '' in a room
    source TEXT NOT NULL,        -- nick!user@host as delivered
    command TEXT NOT NULL,       -- PRIVMSG, NOTICE, or an event's verb
    target_name TEXT NOT NULL,   -- room name or recipient nick as delivered
    text TEXT NOT NULL,          -- a message's text; '' for events and deleted messages
    account TEXT,
    tags TEXT NOT NULL DEFAULT '{}',  -- JSON object: client-only tags and "bot"
    params TEXT,                 -- JSON list: an event's parameters after the room; NULL for messages
    redacted_at INTEGER          -- when a REDACT deleted this message (text and tags are gone); NULL otherwise
);
INSERT INTO messages_new
    (id, target, msgid, at, sender, recipient, source, command, target_name, text, account, tags)
    SELECT id, target, msgid, at, sender, recipient, source, command, target_name, text, account, tags
    FROM messages;
DROP TABLE messages;
ALTER TABLE messages_new RENAME TO messages;
CREATE INDEX messages_by_target ON messages (target, id);
CREATE INDEX messages_by_target_time ON messages (target, at);
CREATE INDEX messages_by_msgid ON messages (msgid);
CREATE INDEX messages_by_time ON messages (at);
CREATE INDEX messages_by_sender ON messages (sender, at) WHERE recipient != '';
CREATE INDEX messages_by_recipient ON messages (recipient, at) WHERE recipient != '';
