"""The one place that opens the store and the history store from ``store.url``.

The server (``net/backends.py``), every ``chatroom admin`` command, ``chatroom init`` and
the benchmarks open their databases here, so a backend is added, or a location changed,
in one module. PostgreSQL's modules (and psycopg) are imported only for a PostgreSQL URL.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol

from chatroom.server.core.history import HistoryRecord
from chatroom.server.store.base import Store, StoreError
from chatroom.server.store.history import HistoryStore
from chatroom.server.store.url import PostgresLocation, StoreLocation, parse_store_url

__all__ = [
    "CopyableHistory",
    "CopyableStore",
    "open_history",
    "open_store",
    "store_location",
]


class CopyableHistory(HistoryStore, Protocol):
    """A history backend that can be read whole, page by page, deleted rows marked as
    such (``admin migrate``)."""

    def count(self) -> int: ...

    def records_after(
        self, after: int, limit: int
    ) -> list[tuple[int, HistoryRecord, int | None]]: ...


class CopyableStore(Store, Protocol):
    """A store backend whose rows can be counted (``admin migrate`` verifies a copy)."""

    def counts(self) -> dict[str, int]: ...


def store_location(url: str, data_dir: Path) -> StoreLocation:
    """Where ``url`` points (empty: the SQLite files in ``data_dir``); ValueError if bad."""
    return parse_store_url(url, data_dir)


def open_store(location: StoreLocation) -> CopyableStore:
    """Open (creating and migrating its schema) the accounts/bans/rooms store."""
    if isinstance(location, PostgresLocation):
        from chatroom.server.store.postgres.store import PostgresStore

        return PostgresStore(location.conninfo)
    from chatroom.server.store.sqlite import SqliteStore

    with _files_as_store_errors():
        return SqliteStore(location.store_path)


def open_history(location: StoreLocation) -> CopyableHistory:
    """Open (creating and migrating its schema) the message history."""
    if isinstance(location, PostgresLocation):
        from chatroom.server.store.postgres.history import PostgresHistory

        return PostgresHistory(location.conninfo)
    from chatroom.server.store.history_sqlite import SqliteHistory

    with _files_as_store_errors():
        return SqliteHistory(location.history_path)


@contextmanager
def _files_as_store_errors() -> Iterator[None]:
    """A directory that cannot be made or a path that is no directory: a ``StoreError``
    (reported in one line naming store.url), not a traceback."""
    try:
        yield
    except OSError as err:
        where = f": {err.filename}" if err.filename else ""
        raise StoreError(f"{err.strerror or err}{where}") from err
