"""Fixtures shared by every test package: a real PostgreSQL, started once per session on
first use (tests that never ask for it never start it), stopped at the end."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.postgres_server import TempPostgres


@pytest.fixture(scope="session")
def postgres() -> Iterator[TempPostgres]:
    server = TempPostgres()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def postgres_url(postgres: TempPostgres) -> str:
    """The URL of a new, empty database: each test starts from nothing."""
    return postgres.new_database()


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """``store.url`` of a new, empty store on each durable backend in turn: the test runs
    once on SQLite files and once on PostgreSQL."""
    if request.param == "postgres":
        return str(request.getfixturevalue("postgres_url"))
    return f"sqlite://{tmp_path_factory.mktemp('store')}"
