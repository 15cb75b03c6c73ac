"""Connections and versioned migrations for PostgreSQL.

Rules (as for SQLite, ``store/schema.py``): a migration is a shipped file
``postgres/migrations/NNN_name.sql`` (store) or ``postgres/history_migrations/NNN_name.sql``
(history), numbered from 001 without gaps, never edited once shipped. Numbers mirror the
SQLite files of the same meaning, so "schema 3" is the same schema on both backends.

One table, ``chatroom_schema (component, version)``, records how far each sequence got:
store and history share the database but migrate independently. Each file runs in one
transaction with the bump of its version, under a transaction-scoped advisory lock, so
two processes starting together never both migrate and a crash leaves a whole step.
"""

from __future__ import annotations

import logging
from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict

from chatroom.server.store.schema import Migration, SchemaTooNewError, available_migrations

__all__ = ["HISTORY", "STORE", "connect", "migrate"]

log = logging.getLogger("chatroom.store")

STORE = ("store", "postgres/migrations")
HISTORY = ("history", "postgres/history_migrations")
_MIGRATION_LOCK = 0x6368_6174_726F_6F6D  # "chatroom": one key for every ChatRoom database
CONNECT_TIMEOUT = 10
# As SQLite's busy timeout: a write that waits longer for a lock fails with a clear error
# instead of hanging (the writer reports it; ``chatroom admin`` prints it).
LOCK_TIMEOUT_MS = 5000


def connect(conninfo: str, **settings: str) -> psycopg.Connection[Any]:
    """An autocommit connection (transactions are explicit) with ChatRoom's settings."""
    return psycopg.connect(conninfo, autocommit=True, **connect_kwargs(conninfo, **settings))


def connect_kwargs(conninfo: str, **settings: str) -> dict[str, Any]:
    """Connection arguments: the lock timeout and ``settings`` added to any ``options`` the
    URL has; a name in ``pg_stat_activity`` and a connect timeout unless the URL sets them."""
    given = conninfo_to_dict(conninfo)
    options = {"lock_timeout": str(LOCK_TIMEOUT_MS), **settings}
    ours = " ".join(f"-c {name}={value}" for name, value in options.items())
    return {
        "connect_timeout": given.get("connect_timeout", CONNECT_TIMEOUT),
        "application_name": given.get("application_name", "chatroom"),
        "options": f"{given['options']} {ours}" if given.get("options") else ours,
    }


def migrate(
    conn: psycopg.Connection[Any], sequence: tuple[str, str], steps: list[Migration] | None = None
) -> int:
    """Bring one component's schema up to date; returns its version."""
    component, directory = sequence
    steps = available_migrations(directory) if steps is None else steps
    latest = steps[-1].number if steps else 0
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
        conn.execute(
            "CREATE TABLE IF NOT EXISTS chatroom_schema"
            " (component TEXT PRIMARY KEY, version INTEGER NOT NULL)"
        )
    current = before = _version(conn, component)
    if current > latest:
        raise SchemaTooNewError(
            f"{component} schema version {current} is newer than this ChatRoom knows ({latest})"
        )
    for step in steps:
        if step.number <= current:
            continue
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
            if _version(conn, component) >= step.number:
                continue  # another process migrated while we waited for the lock
            conn.execute(step.sql.encode())
            conn.execute(
                "INSERT INTO chatroom_schema (component, version) VALUES (%s, %s)"
                " ON CONFLICT (component) DO UPDATE SET version = excluded.version",
                (component, step.number),
            )
        current = step.number
    after = _version(conn, component)
    if 0 < before < after:
        # An upgrade changed an existing database: the operator sees it happened, and when.
        log.info(
            "database schema upgraded",
            extra={"component": component, "from_version": before, "to_version": after},
        )
    return after


def _version(conn: psycopg.Connection[Any], component: str) -> int:
    row = conn.execute(
        "SELECT version FROM chatroom_schema WHERE component = %s", (component,)
    ).fetchone()
    return int(row[0]) if row else 0
