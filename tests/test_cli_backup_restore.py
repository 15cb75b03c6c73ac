"""``chatroom admin backup`` never replaces a file silently, and ``chatroom admin restore``
puts a backup back: checked, refused while a server has the store open, and keeping the
files it replaces. Run as an operator would: ``python -m chatroom`` in a subprocess."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.realserver import Wire
from tests.serve_process import CHEAP_ARGON2, ServeProcess

DATABASES = ("chatroom.db", "history.db")


def chatroom(*argv: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "chatroom", *argv],
        input=stdin,
        capture_output=True,
        text=True,
        env={**os.environ, **CHEAP_ARGON2},
        check=False,
    )


def admin(data: Path, *argv: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return chatroom("admin", *argv, "--data-dir", str(data), stdin=stdin)


def one_error_line(done: subprocess.CompletedProcess[str]) -> str:
    """The refusal: exit 1, nothing on stdout, one line on stderr (never a traceback)."""
    assert (done.returncode, done.stdout) == (1, ""), done.stderr
    assert done.stderr.count("\n") == 1, done.stderr
    assert "Traceback" not in done.stderr
    return done.stderr


@pytest.fixture
def data(tmp_path: Path) -> Path:
    created = admin(tmp_path / "data", "create", "alice", "--password-stdin", stdin="pw-alice-1\n")
    assert created.returncode == 0, created.stderr
    return tmp_path / "data"


def test_backup_onto_an_existing_file_is_refused_naming_it_and_the_fix(
    tmp_path: Path, data: Path
) -> None:
    target = tmp_path / "notes.txt"
    target.write_text("my notes\n")
    err = one_error_line(admin(data, "backup", str(target)))
    assert err == (
        f"chatroom admin: {target} exists; name a new file, or add --force to replace it\n"
    )
    assert target.read_text() == "my notes\n"
    assert not (tmp_path / "notes.txt.history.db").exists()


def test_backup_onto_an_earlier_backup_needs_force_then_replaces_it(
    tmp_path: Path, data: Path
) -> None:
    target = tmp_path / "chat.db"
    assert admin(data, "backup", str(target)).returncode == 0
    assert "exists; name a new file, or add --force" in one_error_line(
        admin(data, "backup", str(target))
    )
    assert admin(data, "create", "bob", "--password-stdin", stdin="pw-bob-12\n").returncode == 0
    done = admin(data, "backup", str(target), "--force")
    assert done.returncode == 0, done.stderr
    restored = tmp_path / "restored"
    assert admin(restored, "restore", str(target)).returncode == 0
    assert [line.split("\t")[0] for line in admin(restored, "list").stdout.splitlines()] == [
        "alice",
        "bob",
    ]


def say(port: int, text: str) -> None:
    """alice logs in, says ``text`` in #ops, and waits for the server to have it."""
    wire = Wire(port)
    wire.write(
        "CAP LS 302", "CAP REQ :batch", "PASS alice:pw-alice-1", "NICK alice", "USER a 0 * :A"
    )
    wire.write("CAP END")
    wire.until(" 376 ")
    wire.write("JOIN #ops", f"PRIVMSG #ops :{text}", "PING done")
    wire.until("PONG")
    wire.close()


def said(data: Path) -> list[str]:
    export = admin(data, "export", "#ops")
    assert export.returncode == 0, export.stderr
    lines = [json.loads(line) for line in export.stdout.splitlines()]
    return [line["text"] for line in lines if line["command"] == "PRIVMSG"]


def test_restore_brings_back_the_backed_up_state_and_keeps_the_replaced_files(
    tmp_path: Path, data: Path
) -> None:
    backup = tmp_path / "backups" / "chat.db"
    server = ServeProcess(tmp_path)
    try:
        say(server.irc_port, "before the backup")
        assert admin(data, "backup", str(backup)).returncode == 0  # while it runs
        say(server.irc_port, "after the backup")
        assert admin(data, "create", "bob", "--password-stdin", stdin="pw-bob-12\n").returncode == 0
        assert admin(data, "ban", "evil", "--reason", "spam").returncode == 0
        err = one_error_line(admin(data, "restore", str(backup), "--force"))
        assert err == (
            f"chatroom admin: {data / 'chatroom.db'} is open in another process (a running"
            " server, or chatroom admin): stop the server first, then restore\n"
        )
        assert "bob" in admin(data, "list").stdout  # nothing was touched
    finally:
        server.stop()

    err = one_error_line(admin(data, "restore", str(backup)))
    assert err == (
        f"chatroom admin: {data} already holds a store (chatroom.db); restore into a new data"
        " directory, or add --force to set its files aside and restore\n"
    )
    done = admin(data, "restore", str(backup), "--force")
    assert done.returncode == 0, done.stderr
    [aside] = data.glob("before-restore-*")
    assert f"moved the files it replaced to {aside}" in done.stdout
    assert {"chatroom.db", "history.db"} <= {path.name for path in aside.iterdir()}
    assert stat.S_IMODE(aside.stat().st_mode) == 0o700
    assert {stat.S_IMODE((data / name).stat().st_mode) for name in DATABASES} == {0o600}

    assert [line.split("\t")[0] for line in admin(data, "list").stdout.splitlines()] == ["alice"]
    assert admin(data, "bans").stdout == ""
    assert said(data) == ["before the backup"]
    assert "bob" in admin(aside, "list").stdout  # the replaced store, whole, to go back to
    assert said(aside) == ["before the backup", "after the backup"]
    server = ServeProcess(tmp_path)  # and a server runs on what was restored
    try:
        say(server.irc_port, "after the restore")  # alice's password works
    finally:
        server.stop()
    assert said(data) == ["before the backup", "after the restore"]


def test_restore_refuses_what_is_not_a_chatroom_backup(tmp_path: Path, data: Path) -> None:
    (tmp_path / "notes.txt").write_text("not a database\n")
    err = one_error_line(admin(tmp_path / "new", "restore", str(tmp_path / "notes.txt")))
    assert err.startswith(f"chatroom admin: {tmp_path / 'notes.txt'} is not a ChatRoom backup: ")
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.close()
    err = one_error_line(admin(tmp_path / "new", "restore", str(other)))
    assert err == f"chatroom admin: {other} is not a ChatRoom backup: it has no ChatRoom tables\n"
    missing = tmp_path / "nothing-here.db"
    err = one_error_line(admin(tmp_path / "new", "restore", str(missing)))
    assert err.startswith(f"chatroom admin: no backup at {missing}; ")
    assert not (tmp_path / "new" / "chatroom.db").exists()


def test_restore_refuses_a_backup_from_a_newer_chatroom(tmp_path: Path, data: Path) -> None:
    backup = tmp_path / "chat.db"
    assert admin(data, "backup", str(backup)).returncode == 0
    with sqlite3.connect(backup) as conn:
        conn.execute("PRAGMA user_version = 999")
    conn.close()
    err = one_error_line(admin(tmp_path / "new", "restore", str(backup)))
    assert err.startswith(
        f"chatroom admin: {backup} was written by a newer ChatRoom (schema version 999;"
    )
    assert not (tmp_path / "new" / "chatroom.db").exists()


def test_restore_into_a_postgresql_store_points_to_pg_restore(tmp_path: Path) -> None:
    url = "postgresql://chatroom@db.example.org/chatroom"
    done = chatroom("admin", "restore", str(tmp_path / "chat.dump"), "--store", url)
    assert "pg_restore --no-owner --dbname" in one_error_line(done)


def test_restore_from_a_directory_of_databases_takes_its_chatroom_db(
    tmp_path: Path, data: Path
) -> None:
    """A copied data directory, or a PostgreSQL store's backup made without pg_dump."""
    done = admin(tmp_path / "new", "restore", str(data))
    assert done.returncode == 0, done.stderr
    assert f"restored {tmp_path / 'new' / 'chatroom.db'}" in done.stdout
    assert admin(tmp_path / "new", "list").stdout.startswith("alice\t-\t")


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can hand files to another user")
def test_restore_run_as_root_gives_the_files_to_the_data_directorys_owner(
    tmp_path: Path, data: Path
) -> None:
    """`sudo chatroom admin restore` into the service user's data directory: the server,
    running as that user, must still be able to open what was put back."""
    backup = tmp_path / "chat.db"
    assert admin(data, "backup", str(backup)).returncode == 0
    service_uid, service_gid = 65534, 65534  # nobody: any user but root
    for path in [data, *data.iterdir()]:
        os.chown(path, service_uid, service_gid)
    done = admin(data, "restore", str(backup), "--force")
    assert done.returncode == 0, done.stderr
    owner = (data / "chatroom.db").stat()
    assert (owner.st_uid, owner.st_gid) == (service_uid, service_gid)
