"""SQLite-only behaviour: durability across reopen, outside writes, migrations."""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest

from chatroom.server.core.history import HistoryRecord
from chatroom.server.store.base import (
    Account,
    AppendAudit,
    AuditEntry,
    DeleteAccount,
    PutAccount,
)
from chatroom.server.store.history_sqlite import SqliteHistory
from chatroom.server.store.schema import (
    Migration,
    SchemaTooNewError,
    available_migrations,
    migrate,
    open_database,
)
from chatroom.server.store.sqlite import SqliteStore, default_db_path

ALICE = Account(
    name="Alice",
    key="alice",
    password_hash="$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaA",
    scram=None,
    email="alice@example.org",
    created_at=1000.0,
    certfps=("ab" * 32,),
)


def test_database_lives_in_the_data_dir(tmp_path: Path) -> None:
    assert default_db_path(tmp_path) == tmp_path / "chatroom.db"


def test_data_survives_reopen(tmp_path: Path) -> None:
    path = default_db_path(tmp_path)
    store = SqliteStore(path)
    store.apply([PutAccount(ALICE), AppendAudit(AuditEntry(None, 5.0, "a", "b", "c", "d"))])
    store.close()
    reopened = SqliteStore(path)
    assert reopened.load().accounts == {"alice": ALICE}
    assert [e.action for e in reopened.audit()] == ["b"]
    reopened.close()


def test_data_dir_is_created_when_missing(tmp_path: Path) -> None:
    store = SqliteStore(default_db_path(tmp_path / "a" / "b"))
    store.close()
    assert (tmp_path / "a" / "b" / "chatroom.db").exists()


def test_another_connections_write_is_noticed(tmp_path: Path) -> None:
    path = default_db_path(tmp_path)
    server = SqliteStore(path)
    server.load()
    assert not server.changed_since_load()
    admin = SqliteStore(path)
    admin.apply([PutAccount(ALICE)])
    admin.close()
    assert server.changed_since_load()
    assert "alice" in server.load().accounts
    assert not server.changed_since_load()
    server.close()


def test_own_writes_do_not_look_like_outside_changes(tmp_path: Path) -> None:
    store = SqliteStore(default_db_path(tmp_path))
    store.load()
    store.apply([PutAccount(ALICE)])
    assert not store.changed_since_load()
    store.close()


def test_store_uses_wal_and_full_sync_with_foreign_keys(tmp_path: Path) -> None:
    store = SqliteStore(default_db_path(tmp_path))
    conn = store._conn
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2
    assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    store.close()


def test_reopening_does_not_rerun_migrations(tmp_path: Path) -> None:
    path = default_db_path(tmp_path)
    SqliteStore(path).close()
    SqliteStore(path).close()
    conn = sqlite3.connect(path)
    latest = available_migrations()[-1].number
    assert conn.execute("PRAGMA user_version").fetchone()[0] == latest
    conn.close()


def test_migrate_applies_only_new_steps(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "m.db", isolation_level=None)
    steps = [
        Migration(1, "001_a.sql", "CREATE TABLE a (x INTEGER);"),
        Migration(
            2, "002_b.sql", "-- adds b; semicolons in comments are fine\nCREATE TABLE b (y);"
        ),
    ]
    assert migrate(conn, steps[:1]) == 1
    assert migrate(conn, steps) == 2
    assert migrate(conn, steps) == 2
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
    assert tables == {"a", "b"}
    conn.close()


def test_a_failing_migration_leaves_the_previous_version(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "m.db", isolation_level=None)
    steps = [
        Migration(1, "001_a.sql", "CREATE TABLE a (x);"),
        Migration(2, "002_bad.sql", "CREATE TABLE b (y);\nINSERT INTO nowhere VALUES (1);"),
    ]
    with pytest.raises(sqlite3.OperationalError):
        migrate(conn, steps)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
    assert tables == {"a"}
    conn.close()


def test_a_database_from_a_newer_version_is_refused(tmp_path: Path) -> None:
    path = default_db_path(tmp_path)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 999")
    conn.close()
    with pytest.raises(SchemaTooNewError):
        SqliteStore(path)


def test_shipped_migrations_are_numbered_from_one() -> None:
    steps = available_migrations()
    assert [m.number for m in steps] == list(range(1, len(steps) + 1))
    assert steps[0].name == "001_initial.sql"


def test_deleting_an_account_deletes_its_fingerprints(tmp_path: Path) -> None:
    store = SqliteStore(default_db_path(tmp_path))
    store.apply([PutAccount(ALICE)])
    store.apply([DeleteAccount("alice")])
    count = store._conn.execute("SELECT count(*) FROM account_certfps").fetchone()[0]
    assert count == 0
    store.close()


def test_migration_to_roles_makes_existing_operators_the_default_role(tmp_path: Path) -> None:
    path = default_db_path(tmp_path)
    conn = sqlite3.connect(path, isolation_level=None)
    assert migrate(conn, available_migrations()[:2]) == 2
    insert = (
        "INSERT INTO accounts (key, name, password_hash, scram, email, created_at, oper)"
        " VALUES (?, ?, 'h', NULL, NULL, 1000.0, ?)"
    )
    conn.execute(insert, ("root", "Root", 1))
    conn.execute(insert, ("bob", "Bob", 0))
    conn.close()
    store = SqliteStore(path)
    try:
        accounts = store.load().accounts
    finally:
        store.close()
    assert accounts["root"].oper_role == "oper"
    assert accounts["bob"].oper_role is None


def test_opening_a_store_of_an_older_schema_logs_the_upgrade_with_both_versions(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = default_db_path(tmp_path)
    open_database(path, synchronous="FULL", migrations=available_migrations()[:1]).close()
    latest = available_migrations()[-1].number
    with caplog.at_level(logging.INFO, logger="chatroom.store"):
        SqliteStore(path).close()
        SqliteStore(path).close()  # already current: nothing more to say
    upgrades = [r for r in caplog.records if r.getMessage() == "database schema upgraded"]
    assert [(r.__dict__["from_version"], r.__dict__["to_version"]) for r in upgrades] == [
        (1, latest)
    ]
    assert upgrades[0].__dict__["file"] == str(path)


def test_a_write_refused_for_a_full_disk_says_so_and_the_store_works_once_there_is_room(
    tmp_path: Path,
) -> None:
    """SQLite rolls the transaction back itself on SQLITE_FULL; the ROLLBACK after it used
    to raise "cannot rollback - no transaction is active" in place of the real error."""
    store = SqliteStore(default_db_path(tmp_path))
    store._conn.execute("PRAGMA max_page_count = 1")  # SQLITE_FULL, as on a full disk
    big = PutAccount(replace(ALICE, email="x" * 20000 + "@example.org"))
    with pytest.raises(sqlite3.OperationalError, match="database or disk is full"):
        store.apply([big])
    store._conn.execute("PRAGMA max_page_count = 1000000")  # room again
    store.apply([big])
    assert "alice" in store.load().accounts
    store.close()


def test_history_lines_refused_for_a_full_disk_say_so_and_are_written_once_there_is_room(
    tmp_path: Path,
) -> None:
    history = SqliteHistory(tmp_path / "history.db")
    history._conn.execute("PRAGMA max_page_count = 1")
    line = HistoryRecord(
        target="#lobby",
        msgid="m1",
        at=1000,
        sender="n:bob",
        recipient="",
        source="bob!b@h",
        command="PRIVMSG",
        target_name="#lobby",
        text="x" * 20000,
        account=None,
    )
    with pytest.raises(sqlite3.OperationalError, match="database or disk is full"):
        history.append([line])
    history._conn.execute("PRAGMA max_page_count = 1000000")
    history.append([line])
    history.close()
