"""The SQLite ``Store``: one file, ``<data-dir>/chatroom.db``, in WAL mode.

One connection serves both the writer thread (``apply``) and the event loop (``load``,
``changed_since_load``), guarded by a lock. Sharing it matters: ``PRAGMA data_version``
changes only for commits made by *other* connections, so the server's own writes do not
look like outside edits, while a ``chatroom admin`` command in another process does.

The SQL of changes and reads is shared with PostgreSQL (``sql_changes.py``,
``sql_records.py``); what is SQLite's own stays here: the connection and its lock,
``BEGIN IMMEDIATE`` (the file's write lock, taken before the first write), a broken
constraint (``sqlite3.IntegrityError``) reported as ``ConflictError``, and following
other processes by ``PRAGMA data_version``, which says only *that* something changed.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from chatroom.server.store.base import (
    AuditEntry,
    Change,
    ConflictError,
    Snapshot,
    StoreDelta,
    Touched,
)
from chatroom.server.store.schema import data_version, open_database, rollback
from chatroom.server.store.sql_changes import Dialect, apply_changes
from chatroom.server.store.sql_records import count_rows, read_audit, read_delta, read_snapshot

__all__ = ["DB_FILENAME", "SqliteStore", "default_db_path"]

log = logging.getLogger("chatroom.store")

DB_FILENAME = "chatroom.db"
# How often a running server asks SQLite whether another process committed: a
# ``PRAGMA data_version`` costs microseconds, so a change from ``chatroom admin`` is seen
# well within a second.
WATCH_SECONDS = 0.25
# ``BEGIN IMMEDIATE`` holds the write lock of the whole file, so no row needs locking
# before it is rewritten; AUTOINCREMENT keeps a ban id given by a migration from being
# handed out again by itself.
SQLITE = Dialect(lock_row="", sync_ban_ids="")


def default_db_path(data_dir: Path) -> Path:
    """Where the server and ``chatroom admin`` both look for the database."""
    return data_dir / DB_FILENAME


class SqliteStore:
    """``Store`` on a SQLite file; safe to call from the writer thread and the loop."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        # FULL, not NORMAL: in WAL mode NORMAL already survives a killed process, but a
        # power cut or kernel crash can drop the last commits; then a user told "account
        # registered" would find it gone. Writes here are rare and batched by the writer
        # thread, so one fsync per transaction is cheap insurance.
        self._conn = open_database(self.path, synchronous="FULL", foreign_keys=True)
        self._seen_data_version = data_version(self._conn)

    def load(self) -> Snapshot:
        with self._reading() as conn:
            self._seen_data_version = data_version(conn)
            return read_snapshot(conn)

    def apply(self, changes: Sequence[Change]) -> list[int]:
        with self._lock, self._transaction() as conn:
            applied = apply_changes(conn, changes, SQLITE)
            conn.execute("UPDATE store_meta SET generation = generation + 1 WHERE id = 1")
            return applied.ban_ids

    def changed_since_load(self) -> bool:
        with self._lock:
            return data_version(self._conn) != self._seen_data_version

    async def watch(self) -> AsyncIterator[Touched | None]:
        """SQLite cannot say what changed, only that something did: yield None then."""
        while True:
            await asyncio.sleep(WATCH_SECONDS)
            if await asyncio.to_thread(self.changed_since_load):
                log.info("store changed outside the server; reloading")
                yield None

    def read_touched(self, touched: Touched) -> StoreDelta:
        # The server never asks SQLite for keys (``watch`` names none); this serves the
        # contract.
        with self._reading() as conn:
            return read_delta(conn, touched)

    def audit(self, since: float | None = None) -> list[AuditEntry]:
        with self._lock:
            return read_audit(self._conn, since)

    def counts(self) -> dict[str, int]:
        """Rows per table, for ``chatroom admin migrate`` to verify a copy."""
        with self._lock:
            return count_rows(self._conn)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    @contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection]:
        """One read transaction, so that the tables read inside agree with each other."""
        with self._lock:
            self._conn.execute("BEGIN")
            try:
                yield self._conn
            finally:
                self._conn.execute("COMMIT")

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        conn = self._conn
        # IMMEDIATE takes the write lock up front, so a concurrent admin command makes
        # us wait (busy_timeout) instead of failing half way through.
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except sqlite3.IntegrityError as exc:
            rollback(conn)
            raise ConflictError(str(exc)) from exc
        except BaseException:
            rollback(conn)
            raise
        conn.execute("COMMIT")
