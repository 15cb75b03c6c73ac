"""Schema migrations for the SQLite store.

Rules: a migration is a file ``migrations/NNN_name.sql`` shipped as package data; numbers
start at 001 and have no gaps; a shipped file is never edited, only followed by a new one.
``PRAGMA user_version`` records the last applied number, and each file runs in the same
transaction as the bump of that number, so a crash leaves the schema at a whole step.
Adding history or channels later means dropping in ``002_history.sql``, nothing else.
"""

from __future__ import annotations

import logging
import re
import sqlite3
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Literal

from chatroom.server.store.private import private_dir, private_file, tighten

__all__ = ["Migration", "SchemaTooNewError", "available_migrations", "migrate", "rollback"]

_NAME = re.compile(r"^(\d{3})_[a-z0-9_]+\.sql$")

log = logging.getLogger("chatroom.store")


class SchemaTooNewError(RuntimeError):
    """The database was written by a newer ChatRoom; refusing beats corrupting it."""


@dataclass(frozen=True, slots=True)
class Migration:
    number: int
    name: str
    sql: str


def available_migrations(directory: str = "migrations") -> list[Migration]:
    """Every shipped migration in order; raises if the numbering has a gap or a repeat.

    ``directory`` names a folder of this package: each database file has its own
    (``history_migrations`` for history.db), numbered independently, and PostgreSQL has
    its twins under ``postgres/`` (same numbers, same meaning, its own SQL dialect).
    """
    folder = resources.files("chatroom.server.store").joinpath(*directory.split("/"))
    found: list[Migration] = []
    for entry in folder.iterdir():
        match = _NAME.match(entry.name)
        if match:
            found.append(Migration(int(match.group(1)), entry.name, entry.read_text("utf-8")))
    found.sort(key=lambda m: m.number)
    numbers = [m.number for m in found]
    if numbers != list(range(1, len(found) + 1)):
        raise RuntimeError(f"migration files must be numbered 001.. without gaps: {numbers}")
    return found


def migrate(conn: sqlite3.Connection, migrations: list[Migration] | None = None) -> int:
    """Bring the schema up to date; returns the resulting ``user_version``.

    ``conn`` must be in autocommit mode (``isolation_level=None``): each step opens its own
    ``BEGIN IMMEDIATE`` so two processes opening the same file do not both migrate.
    """
    steps = available_migrations() if migrations is None else migrations
    latest = steps[-1].number if steps else 0
    current = _user_version(conn)
    if current > latest:
        raise SchemaTooNewError(
            f"database schema version {current} is newer than this ChatRoom knows ({latest})"
        )
    for step in steps:
        if step.number <= current:
            continue
        try:
            conn.execute("BEGIN IMMEDIATE")
            # Another process may have migrated while we waited for the write lock.
            if _user_version(conn) >= step.number:
                conn.execute("ROLLBACK")
                continue
            for statement in _statements(step.sql):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {step.number:d}")
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        current = step.number
    return _user_version(conn)


BUSY_TIMEOUT_MS = 5000


def open_database(
    path: Path,
    *,
    synchronous: Literal["NORMAL", "FULL"],
    migrations: list[Migration] | None = None,
    foreign_keys: bool = False,
) -> sqlite3.Connection:
    """Open (creating its folder) a WAL-mode SQLite file and bring its schema up to date.

    The folder, if made here, is 0700 and the file, with its -wal and -shm, 0600
    (``store/private.py``), whatever the umask.

    Both stores open their files this way: autocommit (they issue BEGIN/COMMIT
    themselves), usable from any thread behind their own lock, waiting up to
    ``BUSY_TIMEOUT_MS`` for ``chatroom admin`` in another process. A failed migration
    closes the connection before raising.
    """
    private_dir(path.parent)
    private_file(path)  # before SQLite creates it: its -wal and -shm files take its mode
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    try:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS:d}")
        conn.execute("PRAGMA journal_mode = WAL")
        tighten(path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm"))
        conn.execute(f"PRAGMA synchronous = {synchronous}")
        if foreign_keys:
            conn.execute("PRAGMA foreign_keys = ON")
        before = _user_version(conn)
        after = migrate(conn, migrations)
    except BaseException:
        conn.close()
        raise
    if 0 < before < after:
        # An upgrade changed an existing file: the operator sees it happened, and when.
        log.info(
            "database schema upgraded",
            extra={"file": str(path), "from_version": before, "to_version": after},
        )
    return conn


def data_version(conn: sqlite3.Connection) -> int:
    """Changes when another connection commits: how a server notices ``chatroom admin``."""
    return int(conn.execute("PRAGMA data_version").fetchone()[0])


def _user_version(conn: sqlite3.Connection) -> int:
    row = conn.execute("PRAGMA user_version").fetchone()
    return int(row[0])


def _statements(sql: str) -> list[str]:
    """Split a script into statements (``executescript`` would commit on our behalf)."""
    statements: list[str] = []
    pending = ""
    for line in sql.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            if pending.strip():
                statements.append(pending.strip())
            pending = ""
    if pending.strip() and not all(
        part.strip().startswith("--") or not part.strip() for part in pending.splitlines()
    ):
        raise ValueError(f"incomplete SQL statement at end of migration: {pending.strip()!r}")
    return statements


def rollback(conn: sqlite3.Connection) -> None:
    """Undo what is left of a failed transaction. After some errors (a full disk:
    SQLITE_FULL) SQLite has rolled it back itself, and a ROLLBACK then would raise "no
    transaction is active" over the error that says what happened."""
    if conn.in_transaction:
        conn.execute("ROLLBACK")
