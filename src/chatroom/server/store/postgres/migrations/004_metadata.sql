-- IRCv3 metadata (draft/metadata-2) of accounts: the twin of ../../migrations/004_metadata.sql.
-- The keys a logged-in user sets live as long as the account; a dropped account takes its
-- metadata with it.

CREATE TABLE account_metadata (
    account_key TEXT NOT NULL REFERENCES accounts (key) ON DELETE CASCADE,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (account_key, key)
);
