"""draft/read-marker against a real ``chatroom serve`` shell on 127.0.0.1 (SQLite store):
MARKREAD syncs between two connections of one account (the ``irc`` library), only moves
forward, survives a restart, is refused to guests, comes after JOIN before the end of
NAMES, and reaches nobody without the capability."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from chatroom.config import Config
from tests.integration.moderation_support import PASSWORD, config_with_accounts
from tests.realserver import Client, ServerThread, Wire, guest_wire

CAP = "draft/read-marker"
T1 = "2026-01-02T03:04:05.678Z"
T2 = "2026-03-04T05:06:07.890Z"


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return config_with_accounts(tmp_path, "alice")


@pytest.fixture
def server(config: Config) -> Iterator[ServerThread]:
    running = ServerThread(config).start()
    yield running
    running.stop()


def _ask(wire: Wire, *lines: str) -> list[str]:
    """Send ``lines`` and a PING; every line that came back before the PONG."""
    wire.write(*lines, "PING barrier")
    return wire.until("PONG")[:-1]


def _alice(port: int, wires: list[Wire], nick: str, *caps: str) -> Wire:
    """A raw connection logged in to the account ``alice``."""
    wire = guest_wire(port, wires, nick, *caps)
    replies = _ask(wire, f"PRIVMSG NickServ :IDENTIFY alice {PASSWORD}")
    assert any(" 900 " in line for line in replies), replies
    return wire


def _marks(lines: list[str]) -> list[str]:
    """The MARKREAD commands, without the server's prefix (FAIL MARKREAD is not one)."""
    return [line.split(" ", 1)[1] for line in lines if line.split(" ")[1:2] == ["MARKREAD"]]


def _irc_alice(port: int, nick: str) -> Client:
    """A real ``irc`` library client that asks for the capability and logs in to alice."""
    client = Client(port, nick)
    client.wait_type("welcome")
    client.conn.cap("REQ", CAP)
    client.wait_for(lambda e: e.type == "cap" and "ACK" in e.arguments)
    client.conn.privmsg("NickServ", f"IDENTIFY alice {PASSWORD}")
    client.wait_for(lambda e: e.type == "900" or (e.type == "loggedin"))
    return client


def test_a_marker_set_on_one_connection_reaches_the_other_connection_of_the_account(
    server: ServerThread,
) -> None:
    laptop = _irc_alice(server.port, "alice")
    phone = _irc_alice(server.port, "alicephone")
    try:
        laptop.conn.send_raw(f"MARKREAD #garden timestamp={T1}")
        expected = f"MARKREAD #garden timestamp={T1}"
        laptop.wait_for(lambda e: e.type == "all_raw_messages" and expected in e.arguments[0])
        phone.wait_for(lambda e: e.type == "all_raw_messages" and expected in e.arguments[0])
    finally:
        laptop.close()
        phone.close()


def test_an_older_marker_is_ignored_and_answered_with_the_stored_one(
    server: ServerThread, wires: list[Wire]
) -> None:
    laptop = _alice(server.port, wires, "alice", CAP)
    phone = _alice(server.port, wires, "alicephone", CAP)
    assert _marks(_ask(laptop, f"MARKREAD #garden timestamp={T2}")) == [
        f"MARKREAD #garden timestamp={T2}"
    ]
    assert _marks(_ask(phone)) == [f"MARKREAD #garden timestamp={T2}"]  # the laptop's move
    assert _marks(_ask(phone, f"MARKREAD #garden timestamp={T1}")) == [
        f"MARKREAD #garden timestamp={T2}"
    ]
    assert laptop.quiet_for(0.3)  # nothing moved: nobody else is told


def test_a_marker_survives_a_restart_of_the_server(config: Config, wires: list[Wire]) -> None:
    first = ServerThread(config).start()
    try:
        alice = _alice(first.port, wires, "alice", CAP)
        _ask(alice, f"MARKREAD #garden timestamp={T1}")
        _ask(alice, f"MARKREAD bob timestamp={T2}")
        alice.close()
    finally:
        first.stop()
    second = ServerThread(config).start()
    try:
        again = _alice(second.port, wires, "alice", CAP)
        assert _marks(_ask(again, "MARKREAD bob")) == [f"MARKREAD bob timestamp={T2}"]
        assert _marks(_ask(again, "JOIN #garden")) == [f"MARKREAD #garden timestamp={T1}"]
    finally:
        second.stop()


def test_a_guest_gets_a_fail_and_no_marker_is_kept(server: ServerThread, wires: list[Wire]) -> None:
    guest = guest_wire(server.port, wires, "guest", CAP)
    replies = _ask(guest, f"MARKREAD #garden timestamp={T1}")
    assert any("FAIL MARKREAD INTERNAL_ERROR #garden ACCOUNT_REQUIRED" in r for r in replies)
    assert not _marks(replies)


def test_join_sends_the_rooms_marker_before_the_end_of_names(
    server: ServerThread, wires: list[Wire]
) -> None:
    alice = _alice(server.port, wires, "alice", CAP)
    _ask(alice, f"MARKREAD #garden timestamp={T1}")
    joined = _ask(alice, "JOIN #garden")
    kinds = [
        "JOIN" if " JOIN " in line else "MARKREAD" if " MARKREAD " in line else line.split()[1]
        for line in joined
    ]
    assert kinds.index("JOIN") < kinds.index("MARKREAD") < kinds.index("366")
    assert _marks(joined) == [f"MARKREAD #garden timestamp={T1}"]
    assert _marks(_ask(alice, "JOIN #fresh")) == ["MARKREAD #fresh *"]


def test_connections_without_the_capability_get_no_marker(
    server: ServerThread, wires: list[Wire]
) -> None:
    plain = _alice(server.port, wires, "alice")
    laptop = _alice(server.port, wires, "alicelaptop", CAP)
    _ask(laptop, f"MARKREAD #garden timestamp={T1}")
    assert plain.quiet_for(0.3)
    assert _marks(_ask(plain, "JOIN #garden")) == []
