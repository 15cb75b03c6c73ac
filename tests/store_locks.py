"""Holding a store's write lock from a test, on either backend, to make "before the
commit" observable: while it is held, no other writer (the server, ``chatroom admin``)
can commit, so whatever they confirm meanwhile was confirmed too early.

SQLite: ``BEGIN IMMEDIATE`` on the database file. PostgreSQL: the row every ChatRoom
transaction updates first (``store_meta``), locked ``FOR UPDATE``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from chatroom.server.store.url import SqliteLocation, parse_store_url


class WriteLock:
    """One open transaction holding the write lock; SQL uses ``?`` placeholders."""

    def __init__(self, url: str) -> None:
        location = parse_store_url(url, Path("/nonexistent"))
        self._sqlite: sqlite3.Connection | None = None
        self._pg: Any = None
        if isinstance(location, SqliteLocation):
            self._sqlite = sqlite3.connect(location.store_path, isolation_level=None)
            self._sqlite.execute("BEGIN IMMEDIATE")
        else:
            import psycopg

            self._pg = psycopg.connect(location.conninfo)
            self._pg.execute("SELECT generation FROM store_meta WHERE id = 1 FOR UPDATE")
        self.open = True

    def execute(self, sql: str, params: tuple[object, ...] = ()) -> None:
        if self._sqlite is not None:
            self._sqlite.execute(sql, params)
        else:
            self._pg.execute(sql.replace("?", "%s"), params)

    def commit(self) -> None:
        self._end("COMMIT")

    def rollback(self) -> None:
        self._end("ROLLBACK")

    def _end(self, how: str) -> None:
        if not self.open:
            return
        self.open = False
        if self._sqlite is not None:
            self._sqlite.execute(how)
            self._sqlite.close()
        else:
            self._pg.commit() if how == "COMMIT" else self._pg.rollback()
            self._pg.close()


@contextmanager
def write_lock(url: str) -> Iterator[WriteLock]:
    """The lock, released (rolled back unless committed) at the end."""
    lock = WriteLock(url)
    try:
        yield lock
    finally:
        lock.rollback()
