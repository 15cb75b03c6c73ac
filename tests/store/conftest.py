"""The stores every contract test runs against, on memory, SQLite and PostgreSQL: the
account store (``store``) and the history store (``history_store``; a history module
names it ``store`` for its own tests)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from chatroom.server.store.base import Store
from chatroom.server.store.factory import open_history, open_store
from chatroom.server.store.history import HistoryStore
from chatroom.server.store.history_memory import MemoryHistory
from chatroom.server.store.history_sqlite import SqliteHistory
from chatroom.server.store.memory import MemoryStore
from chatroom.server.store.sqlite import SqliteStore, default_db_path
from chatroom.server.store.url import parse_store_url


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    backend: Store
    if request.param == "memory":
        backend = MemoryStore()
    elif request.param == "sqlite":
        backend = SqliteStore(default_db_path(tmp_path))
    else:
        url = request.getfixturevalue("postgres_url")
        backend = open_store(parse_store_url(url, tmp_path))
    yield backend
    backend.close()


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def history_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[HistoryStore]:
    backend: HistoryStore
    if request.param == "memory":
        backend = MemoryHistory()
    elif request.param == "sqlite":
        backend = SqliteHistory(tmp_path / "history.db")
    else:
        url = request.getfixturevalue("postgres_url")
        backend = open_history(parse_store_url(url, Path("/nonexistent")))
    yield backend
    backend.close()
