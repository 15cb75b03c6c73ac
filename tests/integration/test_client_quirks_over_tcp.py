"""What Irssi and WeeChat tripped over when they were driven against a real server
(tests/interop/ drives the programs themselves), as raw lines over TCP: nothing but the
CAP/SASL exchange may reach a connection before its ``001``."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from chatroom.config import Config
from tests.integration.moderation_support import PASSWORD, config_with_accounts
from tests.realserver import ServerThread, Wire, guest_wire


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return config_with_accounts(tmp_path, "bob")


@pytest.fixture
def server(config: Config) -> Iterator[ServerThread]:
    running = ServerThread(config).start()
    yield running
    running.stop()


def _irssi_like(port: int, wires: list[Wire], nick: str) -> Wire:
    """Connects as Irssi 1.4 does: CAP LS, the capabilities it takes, SASL PLAIN, CAP END,
    and only then NICK and USER."""
    wire = Wire(port)
    wires.append(wire)
    blob = base64.b64encode(f"bob\0bob\0{PASSWORD}".encode()).decode()
    wire.write("CAP LS 302", "CAP REQ :sasl away-notify account-notify server-time")
    wire.until(" ACK ")
    wire.write("AUTHENTICATE PLAIN")
    wire.until("AUTHENTICATE +")
    wire.write(f"AUTHENTICATE {blob}")
    wire.until(" 903 ")
    wire.write("CAP END", f"NICK {nick}", f"USER {nick} {nick} 127.0.0.1 :{nick}")
    return wire


def test_an_always_on_user_coming_back_hears_nothing_before_its_welcome(
    server: ServerThread, wires: list[Wire]
) -> None:
    """The device that brings an always-on user back used to get that user's ``AWAY``
    (back) before its ``001``, as a watcher of its own user."""
    first = _irssi_like(server.port, wires, "bob")
    first.until(" 376 ")
    first.write("JOIN #lobby", "PRIVMSG NickServ :SET ALWAYS-ON ON")
    first.until("ALWAYS-ON is now ON")
    first.write("QUIT :bye")
    first.until("ERROR")
    again = _irssi_like(server.port, wires, "bob")
    before_welcome = again.until(" 001 ")[:-1]
    assert not [line for line in before_welcome if " AWAY" in line], before_welcome
    rest = again.until(" 366 ")
    assert any(" JOIN #lobby" in line for line in rest), rest


def _names(wire: Wire, room: str) -> list[str]:
    wire.write(f"NAMES {room}")
    found: list[str] = []
    for line in wire.until(" 366 "):
        if " 353 " in line:
            found += [name.lstrip("@+") for name in line.split(" :", 1)[1].split()]
    return found


def test_another_nick_on_an_always_on_account_is_a_separate_user_that_really_leaves(
    config: Config, wires: list[Wire]
) -> None:
    """Irssi connects with the login name as its nick unless told otherwise. Logged in to
    an always-on account whose user was away with no device, that connection became a
    second always-on user of the account: it was put in the account's rooms and stayed
    there as a ghost when it closed. A restart must still bring back the account's own
    user."""
    first = ServerThread(config).start()
    try:
        own = _irssi_like(first.port, wires, "bob")
        own.until(" 376 ")
        own.write("JOIN #lobby", "PRIVMSG NickServ :SET ALWAYS-ON ON")
        own.until("ALWAYS-ON is now ON")
        own.write("QUIT :bye")
        own.until("ERROR")
        dave = Wire(first.port)
        wires.append(dave)
        dave.write("NICK dave", "USER dave 0 * :dave", "JOIN #lobby")
        dave.until(" 366 ")
        other = _irssi_like(first.port, wires, "root")
        came = other.until(" 376 ")
        other.write("PING settled")
        came += other.until("PONG")
        assert not [line for line in came if " JOIN #lobby" in line], came
        other.write("QUIT :done")
        other.until("ERROR")
        dave.write("JOIN #lobby")  # already in: a barrier after root's QUIT
        assert sorted(_names(dave, "#lobby")) == ["bob", "dave"]
    finally:
        first.stop()
    second = ServerThread(config).start()
    try:
        dave = Wire(second.port)
        wires.append(dave)
        dave.write("NICK dave", "USER dave 0 * :dave", "JOIN #lobby")
        dave.until(" 366 ")
        assert sorted(_names(dave, "#lobby")) == ["bob", "dave"]  # bob back, not root
    finally:
        second.stop()


def test_stats_gets_an_answer_not_unknown_command(server: ServerThread, wires: list[Wire]) -> None:
    """Irssi's and WeeChat's ``/stats u`` got ``421 STATS :Unknown command``. Now the
    uptime, and for a letter the server keeps no report of, just the end of the report."""
    wire = guest_wire(server.port, wires, "dave")
    wire.write("STATS u")
    uptime = wire.until(" 219 ")
    assert not [line for line in uptime if " 421 " in line], uptime
    assert re.search(r" 242 dave :Server Up \d+ days \d+:\d\d:\d\d$", uptime[0]), uptime
    assert uptime[-1].endswith(" 219 dave u :End of STATS report")
    wire.write("STATS k", "STATS u elsewhere.example")
    assert wire.until(" 219 ") == [":chatroom.local 219 dave k :End of STATS report"]
    assert " 402 dave elsewhere.example " in wire.until(" 402 ")[-1]
    wire.write("STATS")
    assert " 461 dave STATS " in wire.until(" 461 ")[-1]
