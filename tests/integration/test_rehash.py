"""REHASH and SIGHUP against a real ``chatroom serve --config FILE``: the edited file takes
effect while everyone stays connected; a broken file changes nothing and says why; keys
that only a restart can apply are named (docs/commands.md "REHASH")."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from chatroom.irc.message import Message
from tests.integration.crash_support import SERVE, SERVE_ENV, LineClient, admin, welcomed

PASSWORD = "rehash-operator-password"


def write_config(config: Path, data_dir: Path, motd: str, *server: str) -> None:
    """The file: ``server`` lines go in [server]; a later "[section]" among them opens it."""
    lines = ["[server]", f'data_dir = "{data_dir}"', f'motd = ["{motd}"]', *server]
    config.write_text("\n".join(lines) + "\n")


@dataclass
class Running:
    proc: subprocess.Popen[bytes]
    port: int
    config: Path
    data_dir: Path
    clients: list[LineClient] = field(default_factory=list)

    def client(self) -> LineClient:
        client = LineClient(self.port)
        self.clients.append(client)
        return client

    def write_config(self, motd: str, *server: str) -> None:
        write_config(self.config, self.data_dir, motd, *server)


@pytest.fixture
def running(tmp_path: Path) -> Iterator[Running]:
    data_dir, config = tmp_path / "data", tmp_path / "chatroom.toml"
    created = admin(data_dir, "create", "op", "--oper", "--password-stdin", stdin=PASSWORD)
    assert created.returncode == 0, created.stderr
    write_config(config, data_dir, "the first message of the day")
    out_path = tmp_path / "out.txt"
    with out_path.open("wb") as out:
        proc = subprocess.Popen(
            [*SERVE, "--config", str(config)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, **SERVE_ENV},
        )
        running = Running(proc, 0, config, data_dir)
        try:
            running.port = _port(proc, out_path)
            yield running
        finally:
            for client in running.clients:
                client.close()
            if proc.poll() is None:
                proc.terminate()
            proc.wait(timeout=30)


def _port(proc: subprocess.Popen[bytes], out: Path) -> int:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        for line in out.read_text().splitlines():
            if "listening for IRC on" in line:
                return int(line.rsplit(":", 1)[1])
        assert proc.poll() is None, out.read_text()
        time.sleep(0.05)
    raise AssertionError(out.read_text())


def _guest(running: Running, nick: str) -> LineClient:
    client = running.client()
    client.send(f"NICK {nick}", f"USER {nick} 0 * :{nick}")
    client.until(lambda m: m.command in ("376", "422"))
    return client


def _motd_of_a_new_client(running: Running, nick: str) -> list[str]:
    client = running.client()
    client.send(f"NICK {nick}", f"USER {nick} 0 * :{nick}")
    lines = client.until(lambda m: m.command in ("376", "422"))
    client.close()
    return [m.params[-1] for m in lines if m.command == "372"]


def _operator(running: Running) -> LineClient:
    client = running.client()
    client.send("NICK op", "USER op 0 * :op")
    client.until(welcomed)
    client.send(f"OPER op {PASSWORD}")
    client.until(lambda m: m.command == "381")
    return client


def _answer_to(client: LineClient, line: str) -> list[Message]:
    """Everything the server sends for ``line`` up to the PONG of a PING sent with it."""
    client.send(line, "PING :after")
    return client.until(lambda m: m.command == "PONG" and m.params[-1] == "after")


def test_rehash_applies_the_edited_file_while_everyone_stays_connected(running: Running) -> None:
    stays = _guest(running, "stays")
    op = _operator(running)
    running.write_config(
        "the second message of the day", 'name = "renamed.example"', "[limits]", "topic_length = 20"
    )
    answer = _answer_to(op, "REHASH")
    commands = [m.command for m in answer]
    assert "382" in commands, answer  # RPL_REHASHING, before the PONG of the next line
    rehashing = next(m for m in answer if m.command == "382")
    assert rehashing.params[1] == str(running.config)
    waits = [m.params[-1] for m in answer if m.command == "NOTICE"]
    assert any("server.name" in text and "next start" in text for text in waits), waits
    assert not any("limits.topic_length" in text for text in waits), waits
    assert any("the second message" in line for line in _motd_of_a_new_client(running, "n1"))
    # The new limit holds at once; the server keeps the name its clients were told.
    op.send("JOIN #rehash", "TOPIC #rehash :" + "x" * 40, "TOPIC #rehash")
    topic = op.until(lambda m: m.command == "332")
    assert topic[-1].params[-1] == "x" * 20
    assert topic[-1].source == "chatroom.local"
    stays.send("PING :still-here")
    assert stays.until(lambda m: m.command == "PONG")[-1].params[-1] == "still-here"


def test_a_broken_file_changes_nothing_and_the_operator_is_told_which_key(
    running: Running,
) -> None:
    op = _operator(running)
    running.write_config("never shown", "[limits]", 'nick_length = "long"')
    answer = _answer_to(op, "REHASH")
    fail = [m for m in answer if m.command == "FAIL"]
    assert fail, answer
    assert fail[0].params[:2] == ("REHASH", "CONFIG_ERROR")
    assert "limits.nick_length" in fail[0].params[-1]
    assert not any(m.command == "382" for m in answer)
    motd = _motd_of_a_new_client(running, "n1")
    assert any("the first message" in line for line in motd), motd


def test_only_operators_with_the_admin_capability_may_rehash(running: Running) -> None:
    guest = _guest(running, "guest")
    answer = _answer_to(guest, "REHASH")
    assert [m.command for m in answer if m.command == "481"] == ["481"]
    running.write_config(
        "the second message of the day", "[opers]", 'capabilities = ["kick", "admin"]'
    )
    op = _operator(running)
    assert any(m.command == "382" for m in _answer_to(op, "REHASH"))
    # The operator's role lost "kill" with the file: refused now, without logging in again.
    refused = _answer_to(op, "KILL guest :bye")
    assert any(m.command == "481" and "'kill'" in m.params[-1] for m in refused), refused
    guest.send("PING :alive")
    assert guest.until(lambda m: m.command == "PONG")[-1].params[-1] == "alive"


def test_sighup_reads_the_file_again_too(running: Running) -> None:
    running.write_config("the message after a SIGHUP", 'channels = ["#lobby", "#news"]')
    running.proc.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + 15
    motd: list[str] = []
    while time.monotonic() < deadline:
        motd = _motd_of_a_new_client(running, "n1")
        if any("after a SIGHUP" in line for line in motd):
            break
        time.sleep(0.1)
    assert any("after a SIGHUP" in line for line in motd), motd
    client = _guest(running, "lister")
    client.send("LIST")
    listed = client.until(lambda m: m.command == "323")
    assert "#news" in [m.params[1] for m in listed if m.command == "322"]
