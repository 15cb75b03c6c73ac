"""Fixtures shared by every test package: a real PostgreSQL, started once per session on
first use (tests that never ask for it never start it), stopped at the end; raw IRC
connections closed at the end of the test that made them; and the root logger put back
after each test."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from tests.closing import closed_at_end
from tests.postgres_server import TempPostgres
from tests.realserver import Wire


@pytest.fixture
def wires() -> Iterator[list[Wire]]:
    """Raw connections a test makes (``guest_wire``); every one is closed at the end."""
    yield from closed_at_end()


@pytest.fixture(autouse=True)
def _root_logger_put_back() -> Iterator[None]:
    """A test that runs ``chatroom serve`` in-process sets the root logger to write to
    the ``sys.stderr`` of that moment, pytest's capture for that test. Once the capture
    is closed, every later server's log line printed "--- Logging error ---" instead."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


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
