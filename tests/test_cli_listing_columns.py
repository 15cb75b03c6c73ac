"""The listings of ``chatroom admin`` name their columns on a terminal, and each column
holds what its name says; piped, they stay one line per item for scripts."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from chatroom.server.store.base import PutChannel, RegisteredChannel
from chatroom.server.store.sqlite import SqliteStore, default_db_path
from tests.serve_process import CHEAP_ARGON2

ROLES = '[opers]\nroles = ["user:kick"]\n'  # a role may be called "user"


def admin(data: Path, *argv: str, stdin: str = "", terminal: bool = False) -> str:
    """``python -m chatroom admin ...``: its stdout, through a pipe or a terminal."""
    command = [sys.executable, "-m", "chatroom", "admin", *argv, "--data-dir", str(data)]
    env = {**os.environ, **CHEAP_ARGON2}
    if not terminal:
        done = subprocess.run(
            command, input=stdin, capture_output=True, text=True, env=env, check=True
        )
        return done.stdout
    leader, follower = pty.openpty()
    with subprocess.Popen(command, stdout=follower, stderr=subprocess.PIPE, env=env) as proc:
        os.close(follower)
        out = b""
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            out += chunk
        os.close(leader)
        assert proc.wait() == 0
    return out.decode().replace("\r\n", "\n")


@pytest.fixture
def data(tmp_path: Path) -> Path:
    """alice, no operator; mod, an operator of the role "user"; a ban, a mute, a room."""
    data, conf = tmp_path / "data", tmp_path / "roles.toml"
    conf.write_text(ROLES)
    admin(data, "create", "alice", "--password-stdin", stdin="pw-alice-1\n")
    role = ("--role", "user", "--config", str(conf))
    admin(data, "create", "mod", *role, "--password-stdin", stdin="pw-mod-123\n")
    admin(data, "ban", "evil", "--reason", "spam")
    admin(data, "mute", "alice")
    store = SqliteStore(default_db_path(data))
    store.apply([PutChannel(RegisteredChannel("#ops", "#ops", "mod", 0.0))])
    store.close()
    return data


def test_list_tells_an_account_without_a_role_from_an_operator_of_the_role_user(
    data: Path,
) -> None:
    """The role column said "user" for an account that is no operator: the name a role
    may have too."""
    rows = [line.split("\t") for line in admin(data, "list").splitlines()]
    assert [row[:2] for row in rows] == [["alice", "-"], ["mod", "user"]]
    assert all(len(row[2]) == len("2026-01-31") and row[2][4] == "-" for row in rows)


def test_list_on_a_terminal_names_its_columns_and_piped_prints_only_rows(data: Path) -> None:
    shown = admin(data, "list", terminal=True).splitlines()
    assert shown[0] == "account\toperator role\tcreated (UTC)"
    assert shown[1:] == admin(data, "list").splitlines()
    assert admin(data, "list").startswith("alice\t")


def test_every_listing_on_a_terminal_names_as_many_columns_as_its_rows_have(
    data: Path,
) -> None:
    headers = {
        "bans": "id\ttarget\treason\tset by\tset at\tuntil",
        "mutes": "account\treason\tset by\tset at\tuntil",
        "audit": "when\tby\taction\ttarget\tdetails",
        "rooms": "room\tfounder\tregistered",
    }
    for listing, header in headers.items():
        header_line, *rows = admin(data, listing, terminal=True).splitlines()
        assert header_line == header
        assert rows
        assert all(row.count("\t") == header.count("\t") for row in rows)


def test_audit_of_a_mute_without_reason_says_only_until_when(data: Path) -> None:
    """It said " (permanent)": a reason column starting with a space and a parenthesis."""
    [mute] = [row for row in admin(data, "audit").splitlines() if "\tmute.add\t" in row]
    assert mute.split("\t")[4] == "permanent"
