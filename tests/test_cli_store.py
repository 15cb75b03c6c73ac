"""``chatroom admin migrate`` and ``chatroom admin backup`` across backends, and
``store.url`` itself: what is accepted, what is refused, what is never printed."""

from __future__ import annotations

import dataclasses
import subprocess
from pathlib import Path

import psycopg
import pytest

from chatroom import config as cfg
from chatroom.cli import main
from chatroom.server.core.history import EventRecord, HistoryRecord
from chatroom.server.core.redaction import REDACTED, Redaction
from chatroom.server.store.backup import backup_store
from chatroom.server.store.base import (
    Account,
    AccountMute,
    AppendAudit,
    AuditEntry,
    ChannelListEntry,
    DeleteBan,
    Presence,
    PutAccount,
    PutAccountOption,
    PutBan,
    PutChannel,
    PutMetadata,
    PutMute,
    PutPresence,
    PutReadMarker,
    RegisteredChannel,
    ServerBan,
)
from chatroom.server.store.factory import open_history, open_store
from chatroom.server.store.url import (
    PostgresLocation,
    SqliteLocation,
    StoreLocation,
    parse_store_url,
    redacted,
)
from tests.postgres_server import TempPostgres

T0 = 1_900_000_000_000


def _where(url: str) -> StoreLocation:
    return parse_store_url(url, Path("/nonexistent"))


def _fill(url: str) -> None:
    """One of everything the store keeps, with the details a copy could lose."""
    store = open_store(_where(url))
    try:
        store.apply(
            [
                PutAccount(
                    Account(
                        "Alice",
                        "alice",
                        "$argon2id$a",
                        "scram-a",
                        "a@example.org",
                        5.5,
                        "moderator",
                        ("aa" * 32, "bb" * 32),
                    )
                ),
                PutAccount(Account("bob", "bob", "$argon2id$b", None, None, 6.0)),
                PutBan(ServerBan(None, "address", "192.0.2.1", "r1", "op", 1.0, None)),
                PutBan(ServerBan(None, "nick", "spam!*@*", "r2", "op", 2.0, 99.0)),
                PutBan(ServerBan(None, "cidr", "198.51.100.0/24", "r3", "op", 3.0, None)),
                PutMute(AccountMute("bob", "bob", "noise", "op", 4.0, None)),
                PutChannel(
                    RegisteredChannel(
                        "#room",
                        "#Room",
                        "Alice",
                        7.0,
                        "topic",
                        "Alice",
                        8.0,
                        "ntk",
                        "key",
                        10,
                        ("bob",),
                        (ChannelListEntry("b", "x!*@*", "Alice", 9.0, 50.0),),
                    )
                ),
                PutMetadata("alice", "display-name", "Alice A."),
                PutMetadata("alice", "avatar", "https://example.org/a.png"),
                PutAccountOption("alice", "always-on", "on"),
                PutAccountOption("bob", "multiclient", "off"),
                PutReadMarker("alice", "#room", 11.125),
                PutReadMarker("alice", "bob", 12.5),
                PutPresence(Presence("alice", "Alice", ("#Room", "#other"), "away", 13.0)),
            ]
        )
        [first] = store.apply([PutBan(ServerBan(None, "account", "gone", "", "op", 1, None))])
        store.apply([DeleteBan(first)])  # a gap in the ids, which the copy keeps
        store.apply(
            [
                AppendAudit(AuditEntry(None, 10.0 + i, "op", "ban.add", f"t{i}", ""))
                for i in range(5)
            ]
        )
    finally:
        store.close()
    history = open_history(_where(url))
    try:
        history.append(
            [
                HistoryRecord(
                    f"#r{i % 3}",
                    f"m{i}",
                    T0 + i,
                    "a:alice",
                    "",
                    "Alice!a@h",
                    "PRIVMSG",
                    f"#R{i % 3}",
                    f"line {i}",
                    "Alice",
                    (("+draft/react", "x"),) if i == 0 else (),
                )
                for i in range(12_000)
            ]
        )
        history.append(
            [
                EventRecord("#r0", "e1", T0 + 20_000, "", "", "Bob!b@h", "JOIN", "#R0", "",
                            "bob", params=("bob", "Bob B.")),
                HistoryRecord("#r0", "gone", T0 + 20_001, "a:bob", "", "Bob!b@h", "PRIVMSG",
                              "#R0", "oops", "bob"),
            ]
        )  # fmt: skip
        assert history.redact(Redaction("#r0", "gone", "a:bob", T0 + 20_002)) == REDACTED
    finally:
        history.close()


def _everything(url: str) -> tuple[object, ...]:
    store = open_store(_where(url))
    history = open_history(_where(url))
    try:
        snapshot = dataclasses.replace(store.load(), version=0)
        audit = [dataclasses.replace(entry, id=None) for entry in store.audit()]
        lines = [r for target in ("#r0", "#r1", "#r2") for r in history.export(target)]
        # The deleted message is copied as deleted: its row is kept (counted), not shown,
        # and it cannot be deleted again.
        gone = history.redact(Redaction("#r0", "gone", None, T0 + 30_000))
        return snapshot, audit, lines, history.count(), gone
    finally:
        history.close()
        store.close()


def test_migrate_copies_everything_to_postgres_and_back(
    tmp_path: Path, postgres_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    source = f"sqlite://{tmp_path / 'first'}"
    back = f"sqlite://{tmp_path / 'again'}"
    _fill(source)
    data = ["--data-dir", str(tmp_path / "data")]
    assert main(["admin", "migrate", "--from", source, "--to", postgres_url, *data]) == 0
    out = capsys.readouterr().out
    assert "verified: accounts 2, account_certfps 2, server_bans 3" in out
    assert "account_metadata 2, account_options 2, read_markers 2" in out
    assert "account_presence 1, presence_channels 2" in out
    assert "messages 12002" in out
    assert main(["admin", "migrate", "--to", back, "--store", postgres_url, *data]) == 0
    original = _everything(source)
    assert _everything(postgres_url) == original
    assert _everything(back) == original
    store = open_store(_where(postgres_url))
    try:  # ids chosen by the copy are never handed out again
        [new_id] = store.apply([PutBan(ServerBan(None, "address", "192.0.2.9", "", "op", 1, None))])
    finally:
        store.close()
    assert new_id > max(b.id or 0 for b in _everything(source)[0].bans)  # type: ignore[attr-defined]


def test_migrate_refuses_a_target_that_holds_data(
    tmp_path: Path, postgres_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    source = f"sqlite://{tmp_path / 'first'}"
    _fill(source)
    store = open_store(_where(postgres_url))
    store.apply([PutAccount(Account("zed", "zed", "h", None, None, 1.0))])
    store.close()
    data = ["--data-dir", str(tmp_path / "data")]
    assert main(["admin", "migrate", "--from", source, "--to", postgres_url, *data]) == 1
    assert "already holds data (accounts 1)" in capsys.readouterr().err
    assert set(open_store(_where(postgres_url)).load().accounts) == {"zed"}


def test_backup_of_postgres_is_a_pg_dump(
    tmp_path: Path, postgres_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _fill(postgres_url)
    target = tmp_path / "backups" / "chatroom.dump"
    named = ["--store", postgres_url, "--data-dir", str(tmp_path / "data")]
    assert main(["admin", "backup", str(target), *named]) == 0
    assert f"wrote {target}" in capsys.readouterr().out
    assert target.read_bytes().startswith(b"PGDMP")  # pg_dump's custom format


def test_backup_of_postgres_without_pg_dump_is_a_sqlite_copy(
    tmp_path: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fill(postgres_url)
    monkeypatch.setenv("PATH", str(tmp_path / "no-tools-here"))
    target = tmp_path / "backup"
    named = ["--store", postgres_url, "--data-dir", str(tmp_path / "data")]
    assert main(["admin", "backup", str(target), *named]) == 0
    assert _everything(f"sqlite://{target}") == _everything(postgres_url)


def test_an_unreachable_postgres_is_one_clear_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"postgresql://chatroom:s3cret@/none?host={tmp_path}&connect_timeout=2"
    assert main(["admin", "list", "--store", url, "--data-dir", str(tmp_path / "d")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("chatroom admin: cannot use the store postgresql://chatroom:***@")
    assert "(store.url)" in err
    assert "check that PostgreSQL runs there" in err
    assert err.count("\n") == 1


# ----------------------------------------------------------------------------- store.url


def test_store_url_forms(tmp_path: Path) -> None:
    assert parse_store_url("", tmp_path) == SqliteLocation(tmp_path)
    assert parse_store_url("sqlite://", tmp_path) == SqliteLocation(tmp_path)
    assert parse_store_url("sqlite:///srv/chat", tmp_path) == SqliteLocation(Path("/srv/chat"))
    socket = "postgresql:///chat?host=/run/postgresql"
    assert parse_store_url(socket, tmp_path) == PostgresLocation(socket)
    assert isinstance(parse_store_url("postgres://u@db:5432/chat", tmp_path), PostgresLocation)


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("mysql://u@h/db", "expected sqlite:///DIR"),
        ("sqlite:///srv/chatroom.db", "name the directory"),
        ("sqlite://host/dir", "three slashes"),
        ("/just/a/path", "expected sqlite:///DIR"),
    ],
)
def test_a_bad_store_url_stops_start_up_with_the_key_named(url: str, why: str) -> None:
    with pytest.raises(cfg.ConfigError, match=r"store\.url") as raised:
        cfg.load(env={"CHATROOM_STORE_URL": url})
    assert why in str(raised.value)


def test_passwords_in_a_store_url_are_never_shown() -> None:
    assert redacted("postgresql://chat:s3cret@db/chat") == "postgresql://chat:***@db/chat"
    assert "s3cret" not in redacted("postgresql:///chat?host=/run&password=s3cret")
    assert "s3cret" not in str(PostgresLocation("postgresql://chat:s3cret@db/chat"))


def test_serve_with_an_unreachable_store_exits_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"postgresql://chatroom:s3cret@/none?host={tmp_path}&connect_timeout=2"
    args = ["serve", "--store", url, "--port", "0", "--tls-port", "off", "--http-port", "off"]
    assert main([*args, "--data-dir", str(tmp_path / "d")]) == 1
    err = capsys.readouterr().err
    assert "chatroom: cannot use the store postgresql://chatroom:***@" in err
    assert "correct store.url (--store, CHATROOM_STORE_URL, or [store] url" in err
    assert "s3cret" not in err


def test_psycopg_is_not_imported_for_sqlite(tmp_path: Path) -> None:
    """SQLite users need no PostgreSQL client: the factory imports it only on demand."""
    import subprocess
    import sys

    code = (
        "import sys; from pathlib import Path;"
        "from chatroom.server.store.factory import open_store, open_history;"
        "from chatroom.server.store.url import SqliteLocation;"
        f"l = SqliteLocation(Path({str(tmp_path)!r}));"
        "open_store(l).close(); open_history(l).close();"
        "print('psycopg' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
    assert psycopg  # imported here only to run against PostgreSQL in the tests above


def test_init_with_a_store_url_creates_the_admin_there_and_writes_the_url(
    tmp_path: Path,
    postgres_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import io

    monkeypatch.chdir(tmp_path)
    answers = ["", "7000", "off", "0", "./data", "closed", "false", "root"]
    monkeypatch.setattr(
        "sys.stdin", io.StringIO("\n".join([*answers, "supersecret1", "supersecret1", ""]))
    )
    assert main(["init", "--store", postgres_url]) == 0
    loaded = cfg.load(tmp_path / "chatroom.toml", env={})
    assert loaded.store == PostgresLocation(postgres_url)
    assert main(["admin", "list", "--config", "chatroom.toml"]) == 0
    assert "root\toper" in capsys.readouterr().out
    assert not (tmp_path / "data" / "chatroom.db").exists()  # nothing went to SQLite


def test_backup_of_postgres_without_pg_dump_replaces_only_an_earlier_backup_directory(
    tmp_path: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fill(postgres_url)
    monkeypatch.setenv("PATH", str(tmp_path / "no-tools-here"))
    named = ["--store", postgres_url, "--data-dir", str(tmp_path / "data")]
    target = tmp_path / "backup"
    assert main(["admin", "backup", str(target), *named]) == 0
    with pytest.raises(ValueError, match=r"holds a backup; name a new directory, or add --force"):
        backup_store(_where(postgres_url), target, force=False)
    assert main(["admin", "backup", str(target), "--force", *named]) == 0
    assert _everything(f"sqlite://{target}") == _everything(postgres_url)
    (tmp_path / "photos").mkdir()
    (tmp_path / "photos" / "cat.jpg").write_bytes(b"jpeg")
    with pytest.raises(ValueError, match=r"holds other files than a backup's \(cat.jpg\)"):
        backup_store(_where(postgres_url), tmp_path / "photos", force=True)
    assert (tmp_path / "photos" / "cat.jpg").read_bytes() == b"jpeg"


def test_a_pg_dump_backup_restored_with_pg_restore_as_the_readme_says_holds_everything(
    tmp_path: Path, postgres: TempPostgres, postgres_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _fill(postgres_url)
    dump = tmp_path / "chat.dump"
    named = ["--data-dir", str(tmp_path / "data")]
    assert main(["admin", "backup", str(dump), "--store", postgres_url, *named]) == 0
    empty = postgres.new_database()
    assert main(["admin", "restore", str(dump), "--store", empty, *named]) == 1
    assert "pg_restore --no-owner --dbname" in capsys.readouterr().err
    subprocess.run(["pg_restore", "--no-owner", "--dbname", empty, str(dump)], check=True)
    assert _everything(empty) == _everything(postgres_url)
