"""PostgreSQL killed with SIGKILL under a running server (the OOM killer, a crash): the
server stays up and its clients stay connected; what needs the database is refused
meanwhile, not left hanging; chat lines sent meanwhile are saved once PostgreSQL is back;
and changes from another process reach the server again (its LISTEN reconnects)."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from chatroom import admin
from chatroom.server.store.factory import open_history, open_store
from chatroom.server.store.url import parse_store_url
from tests.postgres_server import TempPostgres
from tests.realserver import ServerThread, Wire, guest_wire, make_config

DEADLINE = 60.0  # far beyond what each step takes; no test asserts a time


@pytest.fixture
def own_postgres() -> Iterator[TempPostgres]:
    """A PostgreSQL of this test's own: killing it disturbs no other test."""
    server = TempPostgres()
    try:
        yield server
    finally:
        server.stop()


def _register(port: int, wires: list[Wire], nick: str) -> str:
    wire = guest_wire(port, wires, nick)
    wire.write(f"REGISTER * * {nick}-password")
    return wire.until(("REGISTER SUCCESS", "FAIL REGISTER"), limit=DEADLINE)[-1]


def _saved_lines(url: str) -> list[str]:
    history = open_history(parse_store_url(url, Path("/nonexistent")))
    try:
        return [record.text for record in history.export("#lobby")]
    finally:
        history.close()


def test_a_server_outlives_postgresql_killed_and_saves_again_once_it_is_back(
    tmp_path: Path, own_postgres: TempPostgres, wires: list[Wire], caplog: pytest.LogCaptureFixture
) -> None:
    url = own_postgres.new_database()
    server = ServerThread(make_config(tmp_path, store_url=url)).start()
    try:
        talker = guest_wire(server.port, wires, "talker")
        talker.write("JOIN #lobby", "PRIVMSG #lobby :before the crash", "PING joined")
        talker.until("PONG")
        caplog.set_level(logging.WARNING, logger="chatroom")
        own_postgres.kill()

        # Down: the server answers, and refuses what needs the database instead of hanging.
        refused = _register(server.port, wires, "early")
        assert refused.split()[1:4] == ["FAIL", "REGISTER", "TEMPORARILY_UNAVAILABLE"]
        talker.write("PRIVMSG #lobby :while the database is down", "PING alive")
        talker.until("PONG")

        own_postgres.start()
        deadline = time.monotonic() + DEADLINE
        attempts = iter(range(1000))  # a new nick each time: the earlier ones stay online
        while "REGISTER SUCCESS" not in (
            answer := _register(server.port, wires, f"later{next(attempts)}")
        ):
            assert time.monotonic() < deadline, answer
            time.sleep(0.5)
        while "while the database is down" not in _saved_lines(url):
            assert time.monotonic() < deadline, _saved_lines(url)
            time.sleep(0.5)
        # (The line before the crash may be gone: history commits asynchronously, and a
        # crash of the database may lose its last moment; docs/architecture.md.)

        # Another process's change reaches the server again: its LISTEN came back.
        store = open_store(parse_store_url(url, Path("/nonexistent")))
        try:
            admin.add_ban(store, "talker!*@*", "after the crash")
        finally:
            store.close()
        assert any("after the crash" in line for line in talker.until("ERROR", limit=DEADLINE))
    finally:
        server.stop()
    # The history writer's tries while the database was away: one line each, no traceback
    # (it tries twice a second; an outage of minutes must not bury the log).
    retries = [r for r in caplog.records if r.getMessage() == "history write failed; retrying"]
    assert retries
    assert [r.exc_info for r in retries] == [None] * len(retries)
    # The LISTEN connection's loss is one warning, and libpq's several-line messages are
    # one line in it (they used to show "␊" between their parts).
    assert any(r.getMessage() == "store listener lost its connection" for r in caplog.records)
    errors = [str(r.__dict__["error"]) for r in caplog.records if "error" in r.__dict__]
    assert errors
    assert [e for e in errors if "\n" in e] == []
