"""The server on each durable backend (SQLite files, PostgreSQL): changes made by
``chatroom admin`` in another process reach it while it runs, and a name taken by
another process while a REGISTER is in flight is refused, not overwritten."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from chatroom.server.store.factory import open_store
from chatroom.server.store.url import parse_store_url
from tests.integration.crash_support import SERVE_ENV, LineClient, welcomed
from tests.realserver import ServerThread, make_config
from tests.store_locks import write_lock

# How long a test waits for a change made by the CLI to reach a running server: far
# beyond what it takes (see the docstrings), so a busy machine never fails a test. The
# issue asks for "within a second": PostgreSQL pushes a notification, SQLite's
# data_version is asked every 0.25 s (``WATCH_SECONDS``); no test asserts a time.
REACH_DEADLINE = 15.0


@pytest.fixture
def running(tmp_path: Path, store_url: str) -> Iterator[ServerThread]:
    server = ServerThread(make_config(tmp_path, store_url=store_url)).start()
    yield server
    server.stop()


def admin(store_url: str, tmp_path: Path, *args: str, stdin: str = "") -> str:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "chatroom",
            "admin",
            *args,
            "--store",
            store_url,
            "--data-dir",
            str(tmp_path / "data"),
        ],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, **SERVE_ENV},
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def guest(port: int, nick: str) -> LineClient:
    client = LineClient(port)
    client.send(f"NICK {nick}", f"USER {nick} 0 * :t")
    client.until(welcomed)
    return client


def test_a_ban_from_the_cli_disconnects_a_connected_user_while_the_server_runs(
    running: ServerThread, store_url: str, tmp_path: Path
) -> None:
    """The ban reaches the running server without a restart or a reload command.

    Observed from the CLI's exit to the ERROR line (2 shared cores, other agents busy):
    under a millisecond on PostgreSQL (the notification had arrived before the CLI exited)
    and 0.16 s on SQLite (the 0.25 s data_version check): well within the issue's second.
    """
    bob = guest(running.port, "bob")
    try:
        out = admin(store_url, tmp_path, "ban", "bob!*@*", "--reason", "from the shell")
        assert out.startswith("banned nick:bob!*@*")
        answers = bob.until(lambda m: m.command == "ERROR", deadline=REACH_DEADLINE)
    finally:
        bob.close()
    assert any(m.command == "465" and "from the shell" in m.params[-1] for m in answers)


def test_an_account_created_by_the_cli_can_log_in_without_a_restart(
    running: ServerThread, store_url: str, tmp_path: Path
) -> None:
    admin(store_url, tmp_path, "create", "carol", "--password-stdin", stdin="carols-password\n")
    deadline = time.monotonic() + REACH_DEADLINE
    client = guest(running.port, "visitor")
    try:
        while True:
            client.send("PRIVMSG NickServ :IDENTIFY carol carols-password")
            notice = client.until(
                lambda m: m.command == "NOTICE" and "NickServ" in (m.source or "")
            )
            if "identified" in notice[-1].params[-1] or time.monotonic() > deadline:
                break
            time.sleep(0.05)
    finally:
        client.close()
    assert "You are now identified for carol" in notice[-1].params[-1]


def test_register_racing_a_cli_create_is_refused_and_overwrites_nothing(
    running: ServerThread, store_url: str, tmp_path: Path
) -> None:
    """The server does not know "dave" when REGISTER arrives; while its insert waits for
    the write lock, another process creates "dave" and commits. The insert then finds the
    name taken: ACCOUNT_EXISTS, and the other process's account is the one kept."""
    client = guest(running.port, "dave")
    try:
        with write_lock(store_url) as lock:
            client.send("REGISTER * * daves-password")
            time.sleep(0.5)  # the hash is made and the insert queued behind the lock
            lock.execute(
                "INSERT INTO accounts (key, name, password_hash, scram, email, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                ("dave", "Dave", "the-other-process", None, None, 1.0),
            )
            lock.commit()
            answer = client.until(lambda m: m.command in ("REGISTER", "FAIL"))[-1]
    finally:
        client.close()
    assert answer.command == "FAIL"
    assert tuple(answer.params[:2]) == ("REGISTER", "ACCOUNT_EXISTS")
    store = open_store(parse_store_url(store_url, tmp_path / "data"))
    try:
        assert store.load().accounts["dave"].password_hash == "the-other-process"
    finally:
        store.close()
