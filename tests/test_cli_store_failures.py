"""What an operator sees when the store cannot be used: one line naming ``store.url`` (or
the side of a migration) and what to do, never a traceback, never the database password;
and the places a database password could leak from (``pg_dump``'s command line, the config
``chatroom init`` writes, ``chatroom config``)."""

from __future__ import annotations

import contextlib
import errno
import io
import os
import socket
import sqlite3
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from chatroom.cli import main
from chatroom.server.store.factory import open_history, open_store
from chatroom.server.store.url import parse_store_url
from chatroom.store_errors import store_failure
from tests.postgres_server import PG_BIN

SERVE = ["serve", "--port", "0", "--tls-port", "off", "--http-port", "off"]


def _make_newer(store_url: str, data: Path) -> None:
    """The store as a newer ChatRoom would leave it: a schema version past ours."""
    location = parse_store_url(store_url, data)
    open_store(location).close()
    open_history(location).close()
    if store_url.startswith("postgresql"):
        with psycopg.connect(store_url, autocommit=True) as conn:
            conn.execute("UPDATE chatroom_schema SET version = 99 WHERE component = 'store'")
    else:
        db = sqlite3.connect(Path(store_url.removeprefix("sqlite://")) / "chatroom.db")
        db.execute("PRAGMA user_version = 99")
        db.commit()
        db.close()


@pytest.mark.parametrize("command", [["admin", "list"], SERVE])
def test_a_store_written_by_a_newer_chatroom_is_one_line_naming_store_url(
    tmp_path: Path, store_url: str, command: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """Before, SchemaTooNewError (after a downgrade) escaped as a traceback."""
    data = tmp_path / "data"
    _make_newer(store_url, data)
    assert main([*command, "--store", store_url, "--data-dir", str(data)]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert err.count("\n") == 1
    assert "(store.url): " in err
    assert "schema version 99 is newer than this ChatRoom knows" in err
    assert "written by a newer ChatRoom" in err


def test_a_password_in_a_url_libpq_cannot_parse_is_hidden(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """libpq quotes the URL it could not parse in its message, password and all."""
    url = "postgresql://chat:s3cret@[::1/chat"
    data = ["--store", url, "--data-dir", str(tmp_path / "d")]
    assert main(["admin", "list", *data]) == 1
    assert main([*SERVE, *data]) == 1
    assert main(["admin", "migrate", "--to", f"sqlite://{tmp_path / 'copy'}", *data]) == 1
    err = capsys.readouterr().err
    assert "s3cret" not in err
    assert 'in URI: "postgresql://chat:***@[::1/chat"' in err
    assert "Traceback" not in err


def test_a_mistyped_store_url_is_refused_without_showing_its_password(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = "postgressql://chat:s3cret@db/chat"
    assert main(["admin", "list", "--store", url, "--data-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "config key 'store.url': got 'postgressql://chat:***@db/chat'" in err
    assert "s3cret" not in err


def test_migrate_says_which_side_cannot_be_opened(
    tmp_path: Path, postgres_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    nowhere = f"postgresql://chat:s3cret@/none?host={tmp_path}&connect_timeout=2"
    data = ["--data-dir", str(tmp_path / "data")]
    assert main(["admin", "migrate", "--from", postgres_url, "--to", nowhere, *data]) == 1
    err = capsys.readouterr().err
    assert err.startswith("chatroom admin: cannot open the store of --to postgresql://chat:***@")
    assert "s3cret" not in err
    assert main(["admin", "migrate", "--from", nowhere, "--to", postgres_url, *data]) == 1
    assert capsys.readouterr().err.startswith("chatroom admin: cannot open the store of --from")


def test_pg_dump_gets_the_password_in_its_environment_not_on_its_command_line(
    tmp_path: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A command line is visible to every local user (``ps``). A pg_dump first on PATH
    notes what it was given, then runs the real one."""
    seen = tmp_path / "seen"
    tools = tmp_path / "tools"
    tools.mkdir()
    wrapper = tools / "pg_dump"
    wrapper.write_text(
        f'#!/bin/sh\nprintf "%s\\n" "$*" "$PGPASSWORD" > {seen}\nexec {PG_BIN / "pg_dump"} "$@"\n'
    )
    wrapper.chmod(0o700)
    monkeypatch.setenv("PATH", f"{tools}{os.pathsep}{os.environ['PATH']}")
    url = f"{postgres_url}&password=s3cret"  # trust auth: accepted and ignored
    target = tmp_path / "chatroom.dump"
    assert main(["admin", "backup", str(target), "--store", url, "--data-dir", str(tmp_path)]) == 0
    command_line, password = seen.read_text().splitlines()
    assert "s3cret" not in command_line
    assert "--dbname" in command_line
    assert password == "s3cret"
    assert target.read_bytes().startswith(b"PGDMP")


def test_init_keeps_a_config_holding_a_database_password_private(
    tmp_path: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    url = f"{postgres_url}&password=s3cret"
    answers = ["", "0", "off", "0", "./data", "open", "true", "root"]
    typed = [*answers, "supersecret1", "supersecret1", ""]
    monkeypatch.setattr(sys, "stdin", io.StringIO("\n".join(typed)))
    assert main(["init", "--store", url]) == 0
    mode = stat.S_IMODE((tmp_path / "chatroom.toml").stat().st_mode)
    assert mode == 0o600
    assert "s3cret" in (tmp_path / "chatroom.toml").read_text()  # it is what the server needs


def test_config_shows_the_store_url_without_its_password(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    conf = tmp_path / "chatroom.toml"
    conf.write_text('[store]\nurl = "postgresql://chat:s3cret@db.example.org/chat"\n')
    monkeypatch.setenv("CHATROOM_CLUSTER_SECRET", "c" * 40)
    monkeypatch.setenv("CHATROOM_SERVER_PASSWORD", "letmein")
    assert main(["config", "--config", str(conf)]) == 0
    out = capsys.readouterr().out
    assert 'url = "postgresql://chat:***@db.example.org/chat"  # password not shown' in out
    assert "s3cret" not in out
    assert "c" * 40 not in out
    assert "letmein" not in out


def test_config_shows_the_cluster_url_without_its_redis_password(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """redis://:PASSWORD@host is how Redis takes a password: as secret as the store's."""
    conf = tmp_path / "chatroom.toml"
    conf.write_text('[store]\nurl = "postgresql://chat@db.example.org/chat"\n')
    monkeypatch.setenv("CHATROOM_CLUSTER_URL", "redis://:hunter2redis@cache.example.org:6379/0")
    monkeypatch.setenv("CHATROOM_CLUSTER_SECRET", "c" * 40)
    assert main(["config", "--config", str(conf)]) == 0
    out = capsys.readouterr().out
    assert 'url = "redis://:***@cache.example.org:6379/0"  # password not shown' in out
    assert "hunter2redis" not in out


def test_admin_nodes_names_an_unreachable_redis_without_its_password(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"redis://:hunter2redis@127.0.0.1:{port}/0"
    assert main(["admin", "nodes", "--cluster", url]) == 1
    err = capsys.readouterr().err
    assert f"cannot reach Redis at redis://:***@127.0.0.1:{port}/0" in err
    assert "hunter2redis" not in err


@pytest.mark.parametrize(
    ("ban", "listed"),
    [
        ("Eve!*@*", "nick:eve!*@*"),
        ("192.0.2.7", "address:192.0.2.7"),
        ("10.0.0.0/8", "cidr:10.0.0.0/8"),
        ("2001:db8::/32", "cidr:2001:db8::/32"),
        ("a:carol", "account:carol"),
    ],
)
def test_unban_takes_a_ban_as_bans_lists_it(
    tmp_path: Path, ban: str, listed: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """``admin unban`` says "as 'bans' shows it"; before, only account:NAME worked."""
    data = ["--data-dir", str(tmp_path)]
    assert main(["admin", "ban", ban, *data]) == 0
    assert main(["admin", "bans", *data]) == 0
    assert f"\t{listed}\t" in capsys.readouterr().out
    assert main(["admin", "unban", listed, *data]) == 0
    assert capsys.readouterr().out == f"lifted the ban on {listed}\n"
    assert main(["admin", "bans", *data]) == 0
    assert capsys.readouterr().out == ""


def test_unban_of_a_listed_form_that_is_not_that_kind_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["admin", "unban", "cidr:bogus", "--data-dir", str(tmp_path)]) == 1
    assert "'bogus' is not a network like 203.0.113.0/24" in capsys.readouterr().err


@pytest.mark.parametrize("command", [["admin", "list"], SERVE])
def test_a_sqlite_store_url_naming_a_file_is_one_line_naming_store_url(
    tmp_path: Path, command: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """Before, NotADirectoryError escaped as a traceback."""
    (tmp_path / "a-file").touch()
    url = f"sqlite://{tmp_path / 'a-file'}"
    assert main([*command, "--store", url, "--data-dir", str(tmp_path / "data")]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert err.count("\n") == 1
    assert f"cannot use the store {url} (store.url): Not a directory" in err
    assert "check that the directory exists and is writable" in err


def test_a_full_disk_is_named_with_what_to_free_instead_of_blaming_the_directory(
    tmp_path: Path,
) -> None:
    """`chatroom admin purge` on a full disk said to check that the directory exists and
    is writable, or to correct store.url: the wrong fixes for a disk that is full."""
    conn = sqlite3.connect(tmp_path / "full.db")
    conn.execute("PRAGMA max_page_count = 3")  # SQLite's own SQLITE_FULL, as on a full disk
    conn.execute("CREATE TABLE t (x BLOB)")
    with pytest.raises(sqlite3.OperationalError) as full:
        conn.execute("INSERT INTO t VALUES (zeroblob(40000))")
    conn.close()
    text = store_failure(parse_store_url("", tmp_path), full.value)
    assert "database or disk is full" in text
    assert "the file system holding it is full: free some space there first" in text
    assert "check that the directory exists" not in text
    enospc = OSError(errno.ENOSPC, "No space left on device")
    assert "is full: free some space" in store_failure(parse_store_url("", tmp_path), enospc)


@pytest.fixture
def full_disk(tmp_path: Path) -> Iterator[Path]:
    """A real file system of 512 KiB (tmpfs; root only) holding a store, then filled up."""
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=512k", "tmpfs", str(disk)],
        capture_output=True,
        check=False,
    )
    if os.geteuid() != 0 or mounted.returncode != 0:
        pytest.skip("needs root and mount to make a small file system")
    try:
        open_store(parse_store_url("", disk / "data")).close()
        filler = os.open(disk / "filler", os.O_WRONLY | os.O_CREAT)
        with contextlib.suppress(OSError):
            while os.write(filler, b"\0" * 4096):
                pass
        os.close(filler)
        yield disk / "data"
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


@pytest.mark.parametrize("command", [["admin", "purge", "#lobby"], ["admin", "list"], SERVE])
def test_on_a_full_disk_the_store_failure_says_the_disk_is_full(
    full_disk: Path, command: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """SQLite says only "disk I/O error" there (it cannot grow its -shm file)."""
    assert main([*command, "--data-dir", str(full_disk)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert "the file system holding it is full: free some space there first" in err
