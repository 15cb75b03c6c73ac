"""The data directory is private whatever the umask: 0700, and every file in it 0600.

It holds password hashes, private messages and the TLS key. Each test runs a real server
under umask 000, the worst an init system or a shell could hand it.
"""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from chatroom import cli
from chatroom.server.store.private import loose_files
from tests.realserver import Client, ServerThread, make_config


@pytest.fixture
def open_umask() -> Iterator[None]:
    previous = os.umask(0)
    try:
        yield
    finally:
        os.umask(previous)


# The SQLite files in the data directory are what these tests look at, also in a run that
# puts every other test's store in PostgreSQL (CHATROOM_TEST_STORE=postgres).
IN_THE_DATA_DIR = "sqlite://"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_data_dir_and_every_file_the_server_writes_are_private(
    tmp_path: Path, open_umask: None
) -> None:
    config = make_config(tmp_path, store_url=IN_THE_DATA_DIR)
    server = ServerThread(config).start()
    try:
        alice = Client(server.port, "alice")
        alice.wait_type("welcome")
        alice.conn.join("#lobby")
        alice.wait_type("join")
        alice.conn.privmsg("#lobby", "this line is stored in history.db")
        alice.conn.ping("synced")
        alice.wait_type("pong")
        alice.close()
        data = config.data_dir
        names = {p.name for p in data.iterdir()}
        assert {"chatroom.db", "history.db", "tls-key.pem", "tls-cert.pem"} <= names
        assert {"chatroom.db-wal", "chatroom.db-shm", "history.db-wal", "history.db-shm"} <= names
        assert mode(data) == 0o700
        assert {p.name: mode(p) for p in data.iterdir()} == dict.fromkeys(names, 0o600)
        assert loose_files(data) == []
    finally:
        server.stop()


def test_serve_warns_about_files_others_can_read_and_makes_its_databases_private(
    tmp_path: Path, open_umask: None, caplog: pytest.LogCaptureFixture
) -> None:
    config = make_config(tmp_path, store_url=IN_THE_DATA_DIR)
    data = config.data_dir
    data.mkdir(mode=0o755)
    (data / "chatroom.db").touch(mode=0o644)
    (data / "notes.txt").touch(mode=0o640)
    with caplog.at_level(logging.WARNING, logger="chatroom"):
        server = ServerThread(config).start()
        server.stop()
    [warning] = [r for r in caplog.records if "group or others have access" in r.getMessage()]
    text = warning.getMessage()
    assert f"{data} (0755)" in text
    assert f"{data / 'chatroom.db'} (0644)" in text
    assert f"{data / 'notes.txt'} (0640)" in text
    assert "chmod -R go-rwx" in text
    assert mode(data / "chatroom.db") == 0o600  # its own database, tightened on open
    assert mode(data / "notes.txt") == 0o640  # not the server's: only reported
    assert mode(data) == 0o755  # the operator's directory: only reported


def test_admin_backup_copies_are_private(tmp_path: Path, open_umask: None) -> None:
    data = tmp_path / "data"
    assert cli.main(["admin", "list", "--data-dir", str(data)]) == 0
    assert mode(data) == 0o700
    target = tmp_path / "backups" / "chatroom-backup.db"
    assert cli.main(["admin", "backup", str(target), "--data-dir", str(data)]) == 0
    assert mode(target) == 0o600
