"""One account on many devices, then ``kill -9`` and a restart, against a real
``chatroom serve``: what an always-on user comes back as is what it was, whatever its
devices and the account's other users did."""

from __future__ import annotations

from pathlib import Path

from tests.integration.devices_support import barrier, crash, device, serve
from tests.integration.moderation_support import config_with_accounts
from tests.realserver import Wire, guest_wire


def _rooms_of(port: int, wires: list[Wire], nick: str) -> str | None:
    """The rooms ``nick`` is in, as a guest's WHOIS shows them (319), or "" (None: no
    such nick)."""
    bob = guest_wire(port, wires, f"who{len(wires)}")
    bob.write(f"WHOIS {nick}")
    lines = bob.until(" 318 ")
    if any(" 401 " in line for line in lines):
        return None
    # ":server 319 bob <nick> :<rooms>" (the colon is optional before a single room)
    rooms = " ".join(line.split(" ", 4)[4].lstrip(":") for line in lines if " 319 " in line)
    return " ".join(sorted(room.lstrip("~&@%+") for room in rooms.split()))


def test_another_user_of_an_always_on_account_quitting_does_not_replace_its_rooms(
    tmp_path: Path, wires: list[Wire]
) -> None:
    config = config_with_accounts(tmp_path, "alice")
    first = serve(tmp_path, config)
    try:
        alice = device(first.irc_port, wires, "alice", "alice")
        alice.write("PRIVMSG NickServ :SET ALWAYS-ON ON", "JOIN #garden")
        alice.until("ALWAYS-ON is now ON")
        # the same account, another nick: a separate user (a bot), in a room of its own
        bot = device(first.irc_port, wires, "alice", "alicebot")
        bot.write("JOIN #bots", "QUIT :bye")
        bot.until("ERROR")
        barrier(alice)
        crash(first)
    finally:
        first.stop()
    second = serve(tmp_path, config)
    try:
        rooms = (
            _rooms_of(second.irc_port, wires, "alice"),
            _rooms_of(second.irc_port, wires, "alicebot"),
        )
        assert rooms == ("#garden", None)
    finally:
        second.stop()
