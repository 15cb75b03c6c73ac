"""``chatroom admin restore`` given a crafted backup: a real backup with code added to it
(a trigger, a view) is refused before anything in the data directory changes, since that
code would run inside the server on its writes long after the restore (docs/security.md).
Run as an operator would: ``python -m chatroom`` in a subprocess."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tests import test_cli_backup_restore as cli
from tests.test_cli_backup_restore import admin, one_error_line

data = cli.data  # the fixture: a data directory with the account alice


def _crafted(tmp_path: Path, data: Path, statement: str) -> Path:
    """A real backup of ``data`` with ``statement`` run on it afterwards."""
    backup = tmp_path / "chat.db"
    assert admin(data, "backup", str(backup)).returncode == 0
    with sqlite3.connect(backup) as conn:
        conn.execute(statement)
    conn.close()
    return backup


def test_restore_refuses_a_backup_with_a_trigger_that_makes_every_new_account_an_admin(
    tmp_path: Path, data: Path
) -> None:
    backup = _crafted(
        tmp_path,
        data,
        "CREATE TRIGGER promote AFTER INSERT ON accounts"
        " BEGIN UPDATE accounts SET oper_role = 'admin' WHERE key = NEW.key; END",
    )
    err = one_error_line(admin(tmp_path / "new", "restore", str(backup)))
    assert err == (
        f"chatroom admin: {backup} is not a ChatRoom backup: it holds the trigger 'promote',"
        " which ChatRoom never makes\n"
    )
    assert not (tmp_path / "new" / "chatroom.db").exists()


def test_restore_refuses_a_backup_with_a_view_and_keeps_the_store_it_would_replace(
    tmp_path: Path, data: Path
) -> None:
    backup = _crafted(
        tmp_path, data, "CREATE VIEW hashes AS SELECT name, password_hash FROM accounts"
    )
    err = one_error_line(admin(data, "restore", str(backup), "--force"))
    assert "it holds the view 'hashes'" in err
    assert not list(data.glob("before-restore-*"))
    assert admin(data, "list").stdout.startswith("alice\t")


def test_restore_force_of_a_file_that_only_looks_like_a_store_keeps_the_one_it_would_replace(
    tmp_path: Path, data: Path
) -> None:
    fake = tmp_path / "fake.db"
    with sqlite3.connect(fake) as conn:
        conn.execute("CREATE TABLE accounts (anything)")
        conn.execute("PRAGMA user_version = 1")
    conn.close()
    err = one_error_line(admin(data, "restore", str(fake), "--force"))
    assert err.startswith("chatroom admin: ")
    assert not list(data.glob("before-restore-*"))
    assert not list(data.glob("*.restoring*"))
    assert admin(data, "list").stdout.startswith("alice\t")
