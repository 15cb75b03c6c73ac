"""The PostgreSQL store's LISTEN connection in a real server: no reload at start, and a
reconnect's reload logged as a reconnect.

At every start the listener used to reload the whole store it had just loaded, and log
that as "store changed outside the server"; after a lost connection it reloaded (rightly:
notifications sent meanwhile are lost) under the same wrong words.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest

from chatroom.server.store.base import Account, PutAccount
from chatroom.server.store.postgres.store import PostgresStore
from tests.realserver import ServerThread, make_config

DEADLINE = 30.0  # far beyond what each step takes; no test asserts a time


@pytest.fixture
def running(tmp_path: Path, postgres_url: str) -> Iterator[ServerThread]:
    server = ServerThread(make_config(tmp_path, store_url=postgres_url)).start()
    yield server
    server.stop()


def _listeners(url: str) -> list[int]:
    """Backend pids of the server's store listener connections."""
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
            " AND application_name = 'chatroom-listener'",
        ).fetchall()
    return [int(row[0]) for row in rows]


def _until(condition: Callable[[], object], what: str) -> None:
    deadline = time.monotonic() + DEADLINE
    while not condition():
        assert time.monotonic() < deadline, f"never: {what}"
        time.sleep(0.05)


def _create_outside(url: str, name: str) -> None:
    other = PostgresStore(url)  # another process's writer, as `chatroom admin` is
    try:
        other.apply([PutAccount(Account(name, name, "$argon2id$hash", None, None, 1.0))])
    finally:
        other.close()


def test_the_store_listener_reloads_nothing_at_start_and_names_a_reconnect(
    running: ServerThread, postgres_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="chatroom")
    _until(lambda: _listeners(postgres_url), "the server listens")
    _create_outside(postgres_url, "outsider")  # proves the listener is past its start
    _until(lambda: "applied by key" in caplog.text, "the change is applied")
    assert "reload" not in caplog.text, caplog.text
    assert "changed outside the server; reloaded" not in caplog.text

    caplog.clear()
    [pid] = _listeners(postgres_url)
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute("SELECT pg_terminate_backend(%s)", (pid,))
    _until(lambda: "store reloaded" in caplog.text, "the reconnect reloads")
    messages = [record.getMessage() for record in caplog.records]
    assert any(m.startswith("store listener reconnected") for m in messages), messages
    assert not any("changed outside the server" in m for m in messages), messages
