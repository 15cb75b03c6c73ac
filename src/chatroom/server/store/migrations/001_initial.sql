-- Accounts, their certificate fingerprints, server bans and the audit log.
-- Each migration file runs in one transaction together with the bump of user_version.

CREATE TABLE store_meta (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    generation INTEGER NOT NULL
);
INSERT INTO store_meta (id, generation) VALUES (1, 0);

CREATE TABLE accounts (
    key TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    scram TEXT,
    email TEXT,
    created_at REAL NOT NULL,
    oper INTEGER NOT NULL DEFAULT 0 CHECK (oper IN (0, 1))
);

-- A fingerprint logs in exactly one account (SASL EXTERNAL), hence the primary key.
CREATE TABLE account_certfps (
    fingerprint TEXT PRIMARY KEY,
    account_key TEXT NOT NULL REFERENCES accounts (key) ON DELETE CASCADE,
    position INTEGER NOT NULL
);
CREATE INDEX account_certfps_by_account ON account_certfps (account_key, position);

CREATE TABLE server_bans (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL CHECK (kind IN ('account', 'nick', 'address', 'cidr')),
    mask TEXT NOT NULL,
    reason TEXT NOT NULL,
    set_by TEXT NOT NULL,
    set_at REAL NOT NULL,
    expires_at REAL,
    UNIQUE (kind, mask)
);

CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at REAL NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    reason TEXT NOT NULL
);
CREATE INDEX audit_log_by_time ON audit_log (at);
