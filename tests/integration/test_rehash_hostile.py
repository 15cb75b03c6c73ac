"""REHASH against hostile or careless config files on a real ``chatroom serve``: an
error never shows a secret to the operator (nor the audit log), and a file that is not a
plain file, or is huge, is refused without stalling the server (docs/security.md)."""

from __future__ import annotations

import os
import threading
from pathlib import Path

from tests.integration import test_rehash
from tests.integration.crash_support import admin
from tests.integration.test_rehash import Running, _answer_to, _guest, _operator

running = test_rehash.running  # the fixture: ``chatroom serve --config FILE`` and an operator

SECRET = "12345678901234567890"


def _failure(running: Running) -> str:
    op = _operator(running)
    answer = _answer_to(op, "REHASH")
    fails = [m for m in answer if m.command == "FAIL"]
    assert fails, answer
    return fails[0].params[-1]


def test_a_server_password_of_the_wrong_type_is_not_shown_in_the_rehash_error(
    running: Running,
) -> None:
    running.write_config("m", f"password = {SECRET}")
    error = _failure(running)
    assert "server.password" in error
    assert SECRET not in error


def test_a_cluster_secret_of_the_wrong_type_is_not_shown_in_the_rehash_error(
    running: Running,
) -> None:
    running.write_config("m", "[cluster]", f"secret = {SECRET}")
    error = _failure(running)
    assert "cluster.secret" in error
    assert SECRET not in error


def test_a_password_in_a_bad_cluster_url_is_not_shown_in_the_rehash_error(
    running: Running,
) -> None:
    running.write_config("m", "[cluster]", f'url = "redis://:{SECRET}@localhost:99999/0"')
    error = _failure(running)
    assert "cluster.url" in error
    assert SECRET not in error


def test_a_password_in_a_bad_store_url_is_not_shown_in_the_rehash_error(
    running: Running,
) -> None:
    running.write_config("m", "[store]", f'url = "mysql://bob:{SECRET}@localhost/db"')
    error = _failure(running)
    assert "store.url" in error
    assert SECRET not in error


def _audit_lines(running: Running) -> str:
    shown = admin(running.data_dir, "audit")
    return shown.stdout + shown.stderr


def test_the_audit_log_of_a_refused_rehash_holds_no_secret(running: Running) -> None:
    running.write_config("m", f"password = {SECRET}")
    _failure(running)
    assert SECRET not in _audit_lines(running)


def test_a_config_path_that_is_a_fifo_is_refused_and_the_server_keeps_serving(
    running: Running,
) -> None:
    os.unlink(running.config)
    os.mkfifo(running.config)
    try:
        error = _failure(running)
        assert "regular file" in error
        guest = _guest(running, "stillhere")
        assert any(m.command == "PONG" for m in _answer_to(guest, "PING :x"))
    finally:
        _unblock(running.config)


def _unblock(fifo: Path) -> None:
    """Open the FIFO for writing once, so a server stuck reading it would go on."""

    def write() -> None:
        os.close(os.open(fifo, os.O_RDWR))  # never blocks on Linux

    threading.Thread(target=write, daemon=True).start()


def test_a_huge_config_file_is_refused_unread(running: Running) -> None:
    with running.config.open("a") as out:
        out.write(("# " + "x" * 1022 + "\n") * 2048)  # 2 MiB of comments
    error = _failure(running)
    assert "too large" in error


def test_the_restart_notice_names_changed_secret_keys_without_their_values(
    running: Running,
) -> None:
    url = f"postgresql://chat:{SECRET}@db.example.org/chat"
    running.write_config("m", f'password = "{SECRET}"', "[store]", f'url = "{url}"')
    op = _operator(running)
    answer = _answer_to(op, "REHASH")
    assert any(m.command == "382" for m in answer), answer
    notices = " ".join(m.params[-1] for m in answer if m.command == "NOTICE")
    assert "store.url" in notices
    assert SECRET not in " ".join(" ".join(m.params) for m in answer)
    assert SECRET not in _audit_lines(running)
