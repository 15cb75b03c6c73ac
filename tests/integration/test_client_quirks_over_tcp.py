"""What Irssi and WeeChat tripped over when they were driven against a real server
(tests/interop/ drives the programs themselves), as raw lines over TCP: nothing but the
CAP/SASL exchange may reach a connection before its ``001``."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import pytest

from chatroom.config import Config
from tests.integration.moderation_support import PASSWORD, config_with_accounts
from tests.realserver import ServerThread, Wire


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
