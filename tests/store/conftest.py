"""The account store every contract test runs against: memory, SQLite and PostgreSQL
(a test module that needs a history store defines its own ``store``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from chatroom.server.store.base import Store
from chatroom.server.store.factory import open_store
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
