"""One person, many devices, against a real ``chatroom serve`` (SQLite store) with the
``irc`` library: two connections of one account share the nick and the rooms, nobody else
sees the second one come or the first one go, an always-on user survives a restart and
gets exactly what it missed, and a private message to an offline account is delivered at
its next login. A guest is unaffected by all of it."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import irc.client
import pytest

from chatroom.config import Config
from tests.integration.moderation_support import PASSWORD, config_with_accounts
from tests.realserver import Client, ServerThread, Wire, guest_wire


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return config_with_accounts(tmp_path, "alice", "carol")


@pytest.fixture
def server(config: Config) -> Iterator[ServerThread]:
    running = ServerThread(config).start()
    yield running
    running.stop()


def _device(port: int, account: str, nick: str, clients: list[Client]) -> Client:
    """A real client logging in with SASL PLAIN, as WeeChat or a phone app would."""
    client = Client(port, nick, PASSWORD, sasl_login=account)
    clients.append(client)
    client.wait_type("welcome")
    return client


def _said(client: Client, text: str) -> irc.client.Event:
    return client.wait_for(lambda e: e.type in ("pubmsg", "privmsg") and e.arguments == [text])


def _names(wire: Wire, room: str) -> list[str]:
    wire.write(f"NAMES {room}", "PING names")
    lines = wire.until("PONG")
    found: list[str] = []
    for line in lines:
        if " 353 " in line:
            listed = line.split(" :", 1)[1] if " :" in line else line.rsplit(" ", 1)[1]
            found += [name.lstrip("@+") for name in listed.split()]
    return found


def test_two_devices_share_nick_and_rooms_and_nobody_sees_them_come_or_go(
    server: ServerThread, clients: list[Client], wires: list[Wire]
) -> None:
    laptop = _device(server.port, "alice", "alice", clients)
    laptop.conn.join("#garden")
    laptop.wait_for(lambda e: e.type == "join" and e.target == "#garden")
    bob = guest_wire(server.port, wires, "bob")
    bob.write("JOIN #garden")
    bob.until(" 366 ")
    phone = _device(server.port, "alice", "alice", clients)  # the nick in use: it attaches
    welcome = phone.wait_type("welcome")
    assert welcome.target == "alice"
    phone.wait_for(lambda e: e.type == "join" and e.target == "#garden")
    laptop.conn.privmsg("#garden", "typed on the laptop")
    _said(phone, "typed on the laptop")
    bob.write("PRIVMSG #garden :hi alice")
    _said(laptop, "hi alice")
    _said(phone, "hi alice")
    laptop.close()
    bob.write("PING after-laptop")
    seen = bob.until("PONG")
    assert not [line for line in seen if " QUIT " in line or " JOIN " in line], seen
    assert "alice" in _names(bob, "#garden")
    bob.write("PRIVMSG alice :still here?")
    _said(phone, "still here?")


def test_always_on_user_survives_a_restart_and_gets_exactly_what_it_missed(
    config: Config, clients: list[Client], wires: list[Wire]
) -> None:
    first = ServerThread(config).start()
    try:
        alice = _device(first.port, "alice", "alice", clients)
        alice.conn.join("#garden")
        alice.wait_for(lambda e: e.type == "join" and e.target == "#garden")
        alice.conn.privmsg("NickServ", "SET ALWAYS-ON ON")
        alice.wait_for(lambda e: e.type == "privnotice" and "ALWAYS-ON is now ON" in str(e))
        bob = guest_wire(first.port, wires, "bob", "away-notify")
        bob.write("JOIN #garden", "PRIVMSG #garden :before she left")
        bob.until(" 366 ")
        _said(alice, "before she left")
        alice.close()
        bob.until(" AWAY ")  # the server saw her go: she stays, away, with no device
        bob.write("PRIVMSG #garden :missed one", "PING stored")
        bob.until("PONG")
    finally:
        first.stop()
    second = ServerThread(config).start()
    try:
        bob = guest_wire(second.port, wires, "bob")
        assert "alice" in _names(bob, "#garden")  # back after the restart, with no device
        bob.write("JOIN #garden", "PRIVMSG #garden :missed two", "PRIVMSG alice :and a word")
        bob.until(" 366 ")
        bob.write("PING sent")
        bob.until("PONG")
        back = _device(second.port, "alice", "alice", clients)
        back.wait_for(lambda e: e.type == "join" and e.target == "#garden")
        replayed = [
            e.arguments[0]
            for e in _wait_replay(back, 3)
            if e.type == "privnotice" and e.arguments[0].startswith("[")
        ]
        assert [line.split("> ", 1)[1] for line in replayed] == [
            "missed one",
            "missed two",
            "and a word",
        ]
    finally:
        second.stop()


def _wait_replay(client: Client, count: int) -> list[irc.client.Event]:
    """Wait until ``count`` replayed lines (NOTICEs starting with their time) arrived."""

    def enough(_event: irc.client.Event) -> bool:
        found = [
            e
            for e in client.events
            if e.type == "privnotice" and e.arguments and e.arguments[0].startswith("[")
        ]
        return len(found) >= count

    client.wait_for(enough)
    client.pump(0.3)  # nothing more may follow
    return client.events


def test_a_private_message_to_an_offline_account_is_delivered_at_its_next_login(
    server: ServerThread, clients: list[Client]
) -> None:
    carol = _device(server.port, "carol", "carol", clients)
    carol.conn.privmsg("alice", "call me when you are back")
    kept = carol.wait_for(lambda e: e.type == "privnotice" and "kept" in e.arguments[0])
    assert "alice" in kept.arguments[0]
    alice = _device(server.port, "alice", "alice", clients)
    got = alice.wait_for(
        lambda e: e.type == "privnotice" and "call me when you are back" in e.arguments[0]
    )
    assert "<carol>" in got.arguments[0]


def test_a_guest_is_unaffected(server: ServerThread, wires: list[Wire]) -> None:
    guest_wire(server.port, wires, "dave")
    other = Wire(server.port)
    wires.append(other)
    other.write("NICK dave", "USER d 0 * :d", "PING x")
    assert any(" 433 " in line for line in other.until("PONG"))
    shy = guest_wire(server.port, wires, "erin")
    shy.write("PRIVMSG alice :hello?", "PING y")
    assert any(" 401 " in line for line in shy.until("PONG"))


def _sasl_first(port: int, wires: list[Wire], account: str, nick: str) -> Wire:
    """A raw client that logs in with SASL and ends CAP before it sends NICK (as many bots
    and bouncers do)."""
    wire = Wire(port)
    wires.append(wire)
    blob = base64.b64encode(f"\0{account}\0{PASSWORD}".encode()).decode()
    wire.write("CAP LS 302", "CAP REQ :sasl", "AUTHENTICATE PLAIN")
    wire.until("AUTHENTICATE +")
    wire.write(f"AUTHENTICATE {blob}")
    wire.until(" 903 ")
    wire.write("CAP END", f"NICK {nick}", f"USER {nick} 0 * :{nick}")
    return wire


def test_a_device_that_sends_nick_after_sasl_and_cap_end_attaches(
    server: ServerThread, wires: list[Wire]
) -> None:
    laptop = _sasl_first(server.port, wires, "alice", "alice")
    laptop.until(" 376 ")
    laptop.write("JOIN #garden")
    laptop.until(" 366 ")
    phone = _sasl_first(server.port, wires, "alice", "alice")
    got = phone.until(" 366 ")
    assert not [line for line in got if " 433 " in line], got
    assert any(" 001 alice " in line for line in got)
    assert any(line.startswith(":alice!") and " JOIN #garden" in line for line in got)
