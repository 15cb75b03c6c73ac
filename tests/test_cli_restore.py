"""``chatroom admin backup`` and a restore as the README says ("Backup and restore"): the
restored server lets the accounts log in with their passwords, and the bans, rooms,
history, read markers and metadata are all there, under the same TLS certificate. A
backup never replaces what is not a backup file (a device, the live database)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from base64 import b64decode
from pathlib import Path

import pytest

from chatroom.cli import main
from chatroom.server.store.base import SetAccountCertfps
from chatroom.server.store.sqlite import SqliteStore, default_db_path
from tests.realserver import Wire
from tests.serve_process import CHEAP_ARGON2, ServeProcess
from tests.server.login_support import b64, scram_client_final

FINGERPRINT = "ab" * 32
CAPS = "CAP REQ :draft/chathistory batch server-time message-tags draft/read-marker"


def admin(data: Path, *argv: str, stdin: str = "") -> str:
    done = subprocess.run(
        [sys.executable, "-m", "chatroom", "admin", *argv, "--data-dir", str(data)],
        input=stdin,
        capture_output=True,
        text=True,
        env={**os.environ, **CHEAP_ARGON2},
        check=True,
    )
    return done.stdout


def login(port: int, password: str) -> Wire:
    wire = Wire(port)
    wire.write("CAP LS 302", CAPS, f"PASS alice:{password}", "NICK alice", "USER a 0 * :A")
    wire.write("CAP END")
    wire.until(" 376 ")
    return wire


def scram_login(port: int, password: str) -> list[str]:
    """SASL SCRAM-SHA-256 as alice: the lines up to the numeric that ends it."""
    wire = Wire(port)
    wire.write("CAP LS 302", "CAP REQ :sasl", "NICK alice", "USER a 0 * :A")
    wire.write("AUTHENTICATE SCRAM-SHA-256")
    wire.until("AUTHENTICATE +")
    bare = "n=alice,r=clientnonce123"
    wire.write("AUTHENTICATE " + b64(f"n,,{bare}".encode()))
    server_first = b64decode(wire.until("AUTHENTICATE ")[-1].split()[-1]).decode()
    wire.write("AUTHENTICATE " + b64(scram_client_final(password, bare, server_first).encode()))
    lines = wire.until(("AUTHENTICATE ", " 904 "))  # the server's signature, or refused
    if " 904 " not in lines[-1]:
        wire.write("AUTHENTICATE +")
        lines = wire.until((" 903 ", " 904 "))
    wire.close()
    return lines


def restore_as_the_readme_says(backup: Path, saved: Path, data: Path) -> None:
    """With the server stopped: ``chatroom admin restore``, then copy the saved files."""
    admin(data, "restore", str(backup))
    for name in ("tls-cert.pem", "tls-key.pem", "server-secret"):
        shutil.copy(saved / name, data / name)


def test_a_backup_restored_as_documented_serves_everything_it_held(tmp_path: Path) -> None:
    old_data, backup, saved = tmp_path / "old" / "data", tmp_path / "bk" / "chat.db", tmp_path
    admin(old_data, "create", "alice", "--password-stdin", stdin="alice-password\n")
    old = ServeProcess(tmp_path / "old", args=("--tls-port", "0"))
    try:
        wire = login(old.irc_port, "alice-password")
        wire.write("JOIN #ops", "PRIVMSG ChanServ :REGISTER #ops", "PRIVMSG #ops :before")
        wire.write("MARKREAD #ops timestamp=2020-01-01T00:00:00.000Z", "PING done")
        wire.until("PONG")
        wire.write("METADATA * SET url :https://example.org", "PING done2")
        wire.until("PONG")
        wire.close()
        admin(old_data, "ban", "evil", "--reason", "spam")
        store = SqliteStore(default_db_path(old_data))  # as NickServ CERT ADD saves it
        store.apply([SetAccountCertfps("alice", (FINGERPRINT,))])
        store.close()
        admin(old_data, "backup", str(backup))  # while it runs
        fingerprint = old.stdout().split("TLS certificate SHA-256 ")[1].split()[0]
    finally:
        old.stop()
    for name in ("tls-cert.pem", "tls-key.pem", "server-secret"):
        shutil.copy(old_data / name, saved / name)  # saved once, beside the backups

    new_data = tmp_path / "new" / "data"
    restore_as_the_readme_says(backup, saved, new_data)
    new = ServeProcess(tmp_path / "new", args=("--tls-port", "0"))
    try:
        assert f"TLS certificate SHA-256 {fingerprint}" in new.stdout()
        wire = login(new.irc_port, "alice-password")
        wire.write("JOIN #ops")
        joined = wire.until(" 366 ")
        assert any("MARKREAD #ops timestamp=2020-01-01T00:00:00.000Z" in x for x in joined)
        wire.write("CHATHISTORY LATEST #ops * 10", "METADATA alice GET url", "PING done")
        lines = wire.until("PONG")
        assert any(" PRIVMSG #ops " in line and "before" in line for line in lines)
        assert any("url * https://example.org" in line for line in lines)
        wire.close()
        assert " 903 " in scram_login(new.irc_port, "alice-password")[-1]
        assert " 904 " in scram_login(new.irc_port, "wrong-password")[-1]
        store = SqliteStore(default_db_path(new_data))
        assert store.load().accounts["alice"].certfps == (FINGERPRINT,)
        store.close()
        assert "nick:evil!*@*\tspam" in admin(new_data, "bans")
        assert admin(new_data, "rooms").startswith("#lobby\t(server)")
        assert "#ops\talice\t" in admin(new_data, "rooms")
    finally:
        new.stop()


@pytest.fixture
def data(tmp_path: Path) -> Path:
    admin(tmp_path / "data", "create", "alice", "--password-stdin", stdin="alice-password\n")
    return tmp_path / "data"


def test_backup_onto_a_fifo_or_device_is_refused_and_leaves_it_alone(
    tmp_path: Path, data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """As root, renaming the copy over ``/dev/full`` replaced the device with a file."""
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    assert main(["admin", "backup", str(fifo), "--data-dir", str(data)]) == 1
    assert "is not a regular file" in capsys.readouterr().err
    assert fifo.is_fifo()
    assert not list(tmp_path.glob("pipe.*"))


def test_backup_onto_the_live_database_is_refused_and_leaves_it_alone(
    data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    live = data / "chatroom.db"
    inode = live.stat().st_ino
    assert main(["admin", "backup", str(live), "--data-dir", str(data)]) == 1
    assert "is a database the server uses" in capsys.readouterr().err
    assert live.stat().st_ino == inode
    assert not (data / "chatroom.db.history.db").exists()


def test_backup_where_no_file_can_be_made_is_one_line_and_exit_1(
    tmp_path: Path, data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "plain").write_text("")
    target = tmp_path / "plain" / "chat.db"  # under a file: no directory can be made
    assert main(["admin", "backup", str(target), "--data-dir", str(data)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"chatroom admin: cannot write the backup {target}: ")
    assert err.count("\n") == 1
