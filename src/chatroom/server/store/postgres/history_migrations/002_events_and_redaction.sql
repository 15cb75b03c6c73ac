-- Room events (draft/event-playback) and deleted messages (draft/message-redaction): the
-- twin of ../../history_migrations/002_events_and_redaction.sql.
--
-- Events (JOIN, PART, QUIT, KICK, MODE, TOPIC, NICK, REDACT) share the messages table, so
-- one id order interleaves them with what was said. PostgreSQL can drop the CHECK on
-- `command` and add columns in place: rows and ids stay as they are.
ALTER TABLE messages DROP CONSTRAINT messages_command_check;
-- An event's parameters after the room, as a JSON list; NULL for messages.
ALTER TABLE messages ADD COLUMN params TEXT;
-- When a REDACT deleted this message (its text and tags are gone); NULL otherwise.
ALTER TABLE messages ADD COLUMN redacted_at BIGINT;
