"""One account on many devices, then ``kill -9`` and a restart, against a real
``chatroom serve``: what an always-on user comes back as is what it was, whatever its
devices and the account's other users did."""

from __future__ import annotations

from pathlib import Path

from tests.integration.devices_support import (
    always_on_device,
    barrier,
    crash,
    device,
    serving,
)
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


def _left_always_on(port: int, wires: list[Wire], room: str) -> None:
    """The always-on user alice in ``room``, its only device gone (QUIT)."""
    alice = always_on_device(port, wires, f"JOIN {room}")
    alice.write("QUIT :bye")
    alice.until("ERROR")


def _removed_by_the_operator(port: int, wires: list[Wire], line: str) -> None:
    """The operator sends ``line`` (a KILL or a BAN of alice); alice is then gone."""
    oper = device(port, wires, "admin", "admin")
    oper.write(line, "WHOIS alice")
    assert " 401 " in oper.until(" 318 ")[-2]


def test_another_user_of_an_always_on_account_quitting_does_not_replace_its_rooms(
    tmp_path: Path, wires: list[Wire]
) -> None:
    config = config_with_accounts(tmp_path, "alice")
    with serving(tmp_path, config) as first:
        alice = always_on_device(first.irc_port, wires, "JOIN #garden")
        # the same account, another nick: a separate user (a bot), in a room of its own
        bot = device(first.irc_port, wires, "alice", "alicebot")
        bot.write("JOIN #bots", "QUIT :bye")
        bot.until("ERROR")
        barrier(alice)
        crash(first)
    with serving(tmp_path, config) as second:
        rooms = (
            _rooms_of(second.irc_port, wires, "alice"),
            _rooms_of(second.irc_port, wires, "alicebot"),
        )
        assert rooms == ("#garden", None)


def test_two_devices_joining_parting_and_renaming_then_a_crash_bring_back_the_last_state(
    tmp_path: Path, wires: list[Wire]
) -> None:
    config = config_with_accounts(tmp_path, "alice")
    with serving(tmp_path, config) as first:
        laptop = always_on_device(first.irc_port, wires)
        phone = device(first.irc_port, wires, "alice", "alice")
        # interleaved, from both devices, without waiting for each other
        laptop.write("JOIN #one", "JOIN #two")
        phone.write("JOIN #three", "PART #one")
        laptop.write("PART #three", "JOIN #four")
        phone.write("NICK alicia")
        for each in (laptop, phone):
            each.write("PING done")
            each.until("PONG")
        # which of a JOIN and a PART of one room came first is the race's; what it left is
        # what must come back
        before = _rooms_of(first.irc_port, wires, "alicia")
        assert before is not None
        assert "#two" in before
        assert "#four" in before
        barrier(laptop)
        crash(first)
    with serving(tmp_path, config) as second:
        port = second.irc_port
        assert _rooms_of(port, wires, "alicia") == before
        assert _rooms_of(port, wires, "alice") is None
        back = device(port, wires, "alice", "alicia")  # attaches: the user holds the nick
        back.write("PING back")
        joined = [line for line in back.until("PONG") if " JOIN " in line]
        assert " ".join(sorted(line.rsplit(" ", 1)[1] for line in joined)) == before


def test_a_killed_always_on_user_with_no_device_stays_gone_after_kill_9(
    tmp_path: Path, wires: list[Wire]
) -> None:
    config = config_with_accounts(tmp_path, "alice", "carol", "dave")
    with serving(tmp_path, config) as first:
        _left_always_on(first.irc_port, wires, "#garden")
        _removed_by_the_operator(first.irc_port, wires, "KILL alice :spam")
        barrier(device(first.irc_port, wires, "carol", "carol"))
        crash(first)
    with serving(tmp_path, config) as second:
        assert _rooms_of(second.irc_port, wires, "alice") is None


def test_an_always_on_user_banned_with_no_device_stays_gone_after_kill_9(
    tmp_path: Path, wires: list[Wire]
) -> None:
    config = config_with_accounts(tmp_path, "alice", "carol", "dave")
    with serving(tmp_path, config) as first:
        _left_always_on(first.irc_port, wires, "#garden")
        _removed_by_the_operator(first.irc_port, wires, "BAN a:alice :gone")
        barrier(device(first.irc_port, wires, "carol", "carol"))
        crash(first)
    with serving(tmp_path, config) as second:
        assert _rooms_of(second.irc_port, wires, "alice") is None


def test_dropping_an_always_on_account_then_kill_9_does_not_bring_it_back(
    tmp_path: Path, wires: list[Wire]
) -> None:
    config = config_with_accounts(tmp_path, "alice", "carol", "dave")
    with serving(tmp_path, config) as first:
        alice = always_on_device(first.irc_port, wires, "JOIN #garden")
        phone = device(first.irc_port, wires, "alice", "alice")
        alice.write("PRIVMSG NickServ :DROP alice")
        alice.until("dropped")
        phone.until("ERROR")  # the other device is closed
        barrier(device(first.irc_port, wires, "carol", "carol"))
        crash(first)
    with serving(tmp_path, config) as second:
        assert _rooms_of(second.irc_port, wires, "alice") is None


def test_a_room_renamed_while_its_always_on_member_has_no_device_is_the_one_after_kill_9(
    tmp_path: Path, wires: list[Wire]
) -> None:
    config = config_with_accounts(tmp_path, "alice", "dave")
    with serving(tmp_path, config) as first:
        _left_always_on(first.irc_port, wires, "#old")
        oper = device(first.irc_port, wires, "admin", "admin")
        oper.write("RENAME #old #new :tidier")
        oper.write("WHOIS alice")
        assert any(" 319 " in line and "#new" in line for line in oper.until(" 318 "))
        barrier(oper)
        crash(first)
    with serving(tmp_path, config) as second:
        assert _rooms_of(second.irc_port, wires, "alice") == "#new"


def test_an_always_on_user_renamed_by_ghost_keeps_the_new_nick_after_kill_9(
    tmp_path: Path, wires: list[Wire]
) -> None:
    config = config_with_accounts(tmp_path, "alice", "carol", "dave")
    with serving(tmp_path, config) as first:
        alice = device(first.irc_port, wires, "alice", "alice")
        alice.write("PRIVMSG NickServ :SET ALWAYS-ON ON", "JOIN #garden", "NICK carol")
        alice.until(" NICK ")  # carol's registered nick: alice has a while to give it back
        carol = device(first.irc_port, wires, "carol", "carol2")
        carol.write("PRIVMSG NickServ :GHOST carol")
        carol.until("has been freed")
        renamed = alice.until(" NICK ")[-1].rsplit(" ", 1)[1].lstrip(":")
        assert renamed.startswith("Guest")
        barrier(carol)
        crash(first)
    with serving(tmp_path, config) as second:
        assert _rooms_of(second.irc_port, wires, renamed) == "#garden"
        assert _rooms_of(second.irc_port, wires, "carol") is None


def test_an_always_on_user_that_kept_another_accounts_nick_does_not_keep_it_over_kill_9(
    tmp_path: Path, wires: list[Wire]
) -> None:
    config = config_with_accounts(tmp_path, "alice", "carol", "dave")
    with serving(tmp_path, config) as first:
        alice = device(first.irc_port, wires, "alice", "alice")
        alice.write("PRIVMSG NickServ :SET ALWAYS-ON ON", "JOIN #garden", "NICK carol")
        alice.until(" NICK ")  # saved as it is, then a crash within the grace period
        barrier(alice)
        crash(first)
    with serving(tmp_path, config) as second:
        assert _rooms_of(second.irc_port, wires, "carol") is None
        assert _rooms_of(second.irc_port, wires, "alice") == "#garden"


def test_an_account_dropped_by_its_other_user_takes_its_deviceless_always_on_user_along(
    tmp_path: Path, wires: list[Wire]
) -> None:
    config = config_with_accounts(tmp_path, "alice", "carol")
    with serving(tmp_path, config) as first:
        _left_always_on(first.irc_port, wires, "#garden")
        bot = device(first.irc_port, wires, "alice", "alicebot")
        bot.write("PRIVMSG NickServ :DROP alice")
        bot.until("has been dropped")
        bot.write("WHOIS alice")
        assert " 401 " in bot.until(" 318 ")[-2]
        barrier(device(first.irc_port, wires, "carol", "carol"))
        crash(first)
    with serving(tmp_path, config) as second:
        assert _rooms_of(second.irc_port, wires, "alice") is None
