"""``chatroom admin`` prints text that users chose (ban reasons, room names, messages):
nothing of it may act on the administrator's terminal, and a closed pipe is no error."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from chatroom import cli
from chatroom.server.core.history import HistoryRecord
from chatroom.server.store.base import (
    Account,
    AppendAudit,
    AuditEntry,
    PutAccount,
    PutChannel,
    RegisteredChannel,
)
from chatroom.server.store.history_sqlite import SqliteHistory, history_db_path
from chatroom.server.store.sqlite import SqliteStore, default_db_path

HOSTILE = "\x1b]0;pwned\x07\x1b[2J\x9b31m\x02bold\x02\tx"
SHOWN = "␛]0;pwned␇␛[2J␛[31mbold x"


def run(capsys: pytest.CaptureFixture[str], data: Path, *argv: str) -> str:
    assert cli.main(["admin", *argv, "--data-dir", str(data)]) == 0
    return capsys.readouterr().out


def assert_terminal_safe(out: str) -> None:
    """Only printable text, tabs between columns and newlines between lines."""
    bad = [c for c in out if (ord(c) < 0x20 and c not in "\t\n") or 0x7F <= ord(c) <= 0x9F]
    assert bad == []


@pytest.fixture
def data(tmp_path: Path) -> Path:
    """A data dir whose store holds hostile text where users (and operators over IRC) put
    it: a ban reason, an audit entry, a registered room, an account name."""
    store = SqliteStore(default_db_path(tmp_path))
    store.apply(
        [
            PutAccount(Account(f"eve{HOSTILE}", "eve", "x", None, None, 0.0)),
            PutChannel(RegisteredChannel("#den\x1b[2J", "#Den\x1b[2J", f"eve{HOSTILE}", 0.0)),
            AppendAudit(AuditEntry(None, 0.0, "oper", "kill", f"eve{HOSTILE}", HOSTILE)),
        ]
    )
    store.close()
    return tmp_path


def test_bans_and_audit_show_a_hostile_reason_as_text_in_its_column(
    capsys: pytest.CaptureFixture[str], data: Path
) -> None:
    run(capsys, data, "ban", "10.0.0.1", "--reason", HOSTILE)
    bans = run(capsys, data, "bans")
    assert_terminal_safe(bans)
    [row] = bans.splitlines()
    assert row.split("\t")[2] == SHOWN
    audit = run(capsys, data, "audit")
    assert_terminal_safe(audit)
    lines = audit.splitlines()
    assert [len(line.split("\t")) for line in lines] == [5, 5]
    assert lines[0].split("\t")[3:] == [f"eve{SHOWN}", SHOWN]


def test_rooms_and_list_show_names_as_text(capsys: pytest.CaptureFixture[str], data: Path) -> None:
    rooms = run(capsys, data, "rooms")
    assert_terminal_safe(rooms)
    assert rooms.split("\t")[:2] == ["#Den␛[2J", f"eve{SHOWN}"]
    accounts = run(capsys, data, "list")
    assert_terminal_safe(accounts)
    assert accounts.split("\t")[0] == f"eve{SHOWN}"


def _record(n: int, text: str) -> HistoryRecord:
    return HistoryRecord(
        target="#lobby",
        msgid=f"m{n}",
        at=1_900_000_000_000 + n,
        sender="a:eve",
        recipient="",
        source="eve!~eve@host",
        command="PRIVMSG",
        target_name="#lobby",
        text=text,
    )


def test_export_escapes_every_control_and_keeps_the_text_exact(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    history = SqliteHistory(history_db_path(tmp_path))
    history.append([_record(1, HOSTILE + "\x7f\x85")])
    history.close()
    out = run(capsys, tmp_path, "export", "#lobby")
    assert_terminal_safe(out.replace("\t", ""))
    assert "\\u009b" in out
    assert json.loads(out)["text"] == HOSTILE + "\x7f\x85"


def test_export_into_a_pipe_closed_early_exits_quietly(tmp_path: Path) -> None:
    """``chatroom admin export '#room' | head``: no BrokenPipeError traceback."""
    history = SqliteHistory(history_db_path(tmp_path))
    history.append([_record(n, f"line {n} " + "x" * 200) for n in range(3000)])
    history.close()
    command = [sys.executable, "-m", "chatroom", "admin", "export", "#lobby"]
    with subprocess.Popen(
        [*command, "--data-dir", str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    ) as head:
        assert head.stdout is not None
        assert head.stderr is not None
        first = head.stdout.readline()
        head.stdout.close()  # as head does after its lines
        errors = head.stderr.read().decode()
        code = head.wait(60)
    assert json.loads(first)["text"].startswith("line 0 ")
    assert errors == ""
    assert code == 141  # 128 + SIGPIPE, as any Unix tool whose reader went away


def test_export_to_a_full_disk_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    """``chatroom admin export '#room' > /dev/full``: the disk is full, said in one line."""
    history = SqliteHistory(history_db_path(tmp_path))
    history.append([_record(n, f"line {n} " + "x" * 200) for n in range(3000)])
    history.close()
    command = [sys.executable, "-m", "chatroom", "admin", "export", "#lobby"]
    with open("/dev/full", "wb") as full:
        done = subprocess.run(
            [*command, "--data-dir", str(tmp_path)],
            stdout=full,
            stderr=subprocess.PIPE,
            timeout=60,
            check=False,
        )
    errors = done.stderr.decode()
    assert done.returncode == 1
    assert "Traceback" not in errors
    assert errors == "chatroom: cannot write: No space left on device\n"
