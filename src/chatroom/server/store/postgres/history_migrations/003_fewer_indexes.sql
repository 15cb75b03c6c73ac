-- Cheaper writes (issue 18): the twin of ../../history_migrations/003_fewer_indexes.sql.
-- Every index costs one more B-tree insert (and WAL record) for each line stored and
-- one more dead entry when retention deletes it. messages_by_time (at) served only
-- retention by age and TARGETS; messages_by_target_time (target, at) serves both:
-- retention by age walks it one conversation at a time, TARGETS reads the asker's rooms
-- through it and their private conversations through messages_by_sender and
-- messages_by_recipient.
DROP INDEX messages_by_time;
