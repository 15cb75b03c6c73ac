"""One account on many devices and users, against a real server (no crash): the edges
between an account's devices, its other users and guests."""

from __future__ import annotations

from pathlib import Path

from tests.integration.devices_support import device
from tests.integration.moderation_support import config_with_accounts
from tests.realserver import ServerThread, Wire, guest_wire


def _always_on_without_device(port: int, wires: list[Wire]) -> None:
    """alice: always-on, in #garden, with her only device gone."""
    alice = device(port, wires, "alice", "alice")
    alice.write("PRIVMSG NickServ :SET ALWAYS-ON ON", "JOIN #garden")
    alice.until("ALWAYS-ON is now ON")
    alice.write("QUIT :bye")
    alice.until("ERROR")


def test_always_on_turned_off_with_no_device_connected_makes_the_user_leave(
    tmp_path: Path, wires: list[Wire]
) -> None:
    server = ServerThread(config_with_accounts(tmp_path, "alice")).start()
    try:
        _always_on_without_device(server.port, wires)
        bob = guest_wire(server.port, wires, "bob")
        bob.write("JOIN #garden")
        bob.until(" 366 ")
        # her only way to reach NickServ with no device: another user of the account
        bot = device(server.port, wires, "alice", "alicebot")
        bot.write("PRIVMSG NickServ :SET ALWAYS-ON OFF")
        bot.until("ALWAYS-ON is now OFF")
        assert bob.until(" QUIT ")[-1].startswith(":alice!~alice@127.0.0.1 QUIT :")
        bob.write("WHOIS alice")
        assert " 401 " in bob.until(" 318 ")[0]
        back = device(server.port, wires, "alice", "alice")
        back.write("PING back")
        assert any(" JOIN #garden" in line for line in back.until("PONG"))  # kept
    finally:
        server.stop()


def test_a_guest_cannot_take_the_nick_of_an_always_on_user_with_no_device(
    tmp_path: Path, wires: list[Wire]
) -> None:
    server = ServerThread(config_with_accounts(tmp_path, "alice")).start()
    try:
        _always_on_without_device(server.port, wires)
        guest = guest_wire(server.port, wires, "guest")
        guest.write("NICK alice", "PING held")
        assert " 433 guest alice " in guest.until("PONG")[0]
        late = Wire(server.port)
        wires.append(late)
        late.write("NICK alice", "USER alice 0 * :alice")
        assert " 433 * alice " in late.until(" 433 ")[0]
    finally:
        server.stop()
