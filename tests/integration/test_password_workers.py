"""Password hashing runs in worker processes; losing one must not end logins.

A worker can die under the server (the kernel's OOM killer picks the process holding
19 MiB per hash). The login that was waiting on it fails like a wrong password would, and
the next one gets a fresh pool.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from chatroom import admin
from chatroom.server.auth.passwords import PasswordHasher, fast_params_for_tests
from chatroom.server.core.settings import Limits
from chatroom.server.store.factory import open_store
from tests.realserver import Client, ServerThread, make_config

PASSWORD = "tr0ub4dor&3-long"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerThread]:
    config = make_config(tmp_path, Limits(flood_per_second=0))
    config.data_dir.mkdir(parents=True)
    store = open_store(config.store)
    admin.create_account(store, PasswordHasher(fast_params_for_tests()), "alice", PASSWORD)
    store.close()
    running = ServerThread(config).start()
    yield running
    running.stop()


def _log_in(server: ServerThread, nick: str) -> list[str]:
    """SASL PLAIN as alice; the server's answers about it (900/903 or 904)."""
    client = Client(server.port, nick, PASSWORD, sasl_login="alice")
    try:
        client.wait_for(
            lambda e: (
                e.type == "all_raw_messages"
                and any(f" {code} " in e.arguments[0] for code in ("903", "904"))
            )
        )
        return [line for line in client.raw_lines() if " 90" in line]
    finally:
        client.close()


def _workers(server: ServerThread) -> list[int]:
    assert server.shell is not None
    assert server.shell.backends is not None
    return server.shell.backends.passwords.pids()


def test_hashing_runs_in_worker_processes_not_in_the_server(server: ServerThread) -> None:
    assert any(" 903 " in line for line in _log_in(server, "alice"))
    workers = _workers(server)
    assert workers
    assert os.getpid() not in workers


def test_logins_work_again_after_a_password_worker_is_killed(server: ServerThread) -> None:
    assert any(" 903 " in line for line in _log_in(server, "alice"))
    for pid in _workers(server):
        os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 30
    answers: list[list[str]] = []
    while time.monotonic() < deadline:
        answers.append(_log_in(server, f"alice{len(answers)}"))
        if any(" 903 " in line for line in answers[-1]):
            break
    assert any(" 903 " in line for line in answers[-1]), answers
    assert len(answers) <= 2, answers  # at most the login caught by the dying pool fails


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_password_workers_exit_when_the_server_is_killed(tmp_path: Path) -> None:
    """SIGKILL leaves no time for a clean shutdown; the workers must not outlive it."""
    out = tmp_path / "out.txt"
    command = [sys.executable, "-m", "chatroom", "serve", "--data-dir", str(tmp_path / "d"),
               "--port", "0", "--tls-port", "off", "--http-port", "off"]  # fmt: skip
    with out.open("wb") as sink:
        proc = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while "listening for IRC on" not in out.read_text() and time.monotonic() < deadline:
            assert proc.poll() is None, out.read_text()
            time.sleep(0.05)
        # The server hashed its dummy password at start: a worker exists, under the
        # fork server, which is the server's child.
        helpers = _children(proc.pid)
        workers = [pid for helper in helpers for pid in _children(helper)]
        assert workers, helpers
        proc.kill()
        proc.wait(timeout=10)
        deadline = time.monotonic() + 15
        while any(_running(pid) for pid in workers + helpers) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not [pid for pid in workers + helpers if _running(pid)]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
