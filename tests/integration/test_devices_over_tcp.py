"""One account on many devices and users, against a real server (no crash): the edges
between an account's devices, its other users and guests."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from tests.integration.devices_support import always_on_device, device, sasl_only
from tests.integration.moderation_support import config_with_accounts
from tests.integration.restart_support import running
from tests.realserver import Wire, guest_wire


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
    with running(config_with_accounts(tmp_path, "alice")) as server:
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


def test_a_guest_cannot_take_the_nick_of_an_always_on_user_with_no_device(
    tmp_path: Path, wires: list[Wire]
) -> None:
    with running(config_with_accounts(tmp_path, "alice")) as server:
        _always_on_without_device(server.port, wires)
        guest = guest_wire(server.port, wires, "guest")
        guest.write("NICK alice", "PING held")
        assert " 433 guest alice " in guest.until("PONG")[0]
        late = Wire(server.port)
        wires.append(late)
        late.write("NICK alice", "USER alice 0 * :alice")
        assert " 433 * alice " in late.until(" 433 ")[0]


def test_read_markers_reach_a_device_that_attaches_later_even_for_a_target_never_seen(
    tmp_path: Path, wires: list[Wire]
) -> None:
    with running(config_with_accounts(tmp_path, "alice")) as server:
        laptop = device(server.port, wires, "alice", "alice", "draft/read-marker")
        laptop.write("JOIN #garden")
        laptop.until(" 366 ")
        laptop.write(
            "MARKREAD #garden timestamp=2026-01-02T00:00:00.000Z",
            "MARKREAD nobody-yet timestamp=2026-01-03T00:00:00.000Z",
            "MARKREAD #garden timestamp=2026-01-01T00:00:00.000Z",  # backwards: kept
        )
        assert laptop.until("MARKREAD #garden")[-1].endswith("2026-01-02T00:00:00.000Z")
        assert laptop.until("MARKREAD nobody-yet")[-1].endswith("2026-01-03T00:00:00.000Z")
        assert laptop.until("MARKREAD #garden")[-1].endswith("2026-01-02T00:00:00.000Z")
        phone = device(server.port, wires, "alice", "alice", "draft/read-marker")
        phone.write("MARKREAD nobody-yet", "PING synced")
        burst = phone.until("PONG")
        garden = [line for line in burst if "MARKREAD #garden" in line or " 366 " in line]
        assert garden[0].endswith("MARKREAD #garden timestamp=2026-01-02T00:00:00.000Z")
        assert " 366 " in garden[1]  # in the JOIN burst, before the end of NAMES
        assert any(line.endswith("nobody-yet timestamp=2026-01-03T00:00:00.000Z") for line in burst)


def test_an_offline_mailbox_from_several_senders_is_replayed_in_order_once_to_one_device(
    tmp_path: Path, wires: list[Wire]
) -> None:
    config = config_with_accounts(tmp_path, "alice", "carol", "dave")
    accounts = replace(config.core.accounts, offline_messages=3)
    with running(replace(config, core=replace(config.core, accounts=accounts))) as server:
        carol = device(server.port, wires, "carol", "carol")
        dave = device(server.port, wires, "dave", "dave")
        answers = []
        for i, sender in enumerate((carol, dave, carol, dave)):
            sender.write(f"PRIVMSG alice :m{i}")
            answers.append(sender.until(" NOTICE ")[-1])
        assert ["was kept" in answer for answer in answers] == [True, True, True, False]
        assert "too many messages waiting" in answers[3]
        # two devices logging in at once, neither asking for history itself
        both = [Wire(server.port), Wire(server.port)]
        wires.extend(both)
        for wire in both:
            sasl_only(wire, "alice")
        for wire in both:
            wire.write("CAP END", "NICK alice", "USER alice 0 * :alice", "PING in")
        got = [[line for line in wire.until("PONG") if "NOTICE alice :" in line] for wire in both]
        replays = [lines for lines in got if lines]
        assert len(replays) == 1  # the first device to register; the other attaches to it
        assert [line.rsplit(" ", 2)[1:] for line in replays[0][1:]] == [
            ["<carol>", "m0"],
            ["<dave>", "m1"],
            ["<carol>", "m2"],
        ]


def test_an_account_rejoins_a_room_renamed_while_it_was_away_under_its_new_name(
    tmp_path: Path, wires: list[Wire]
) -> None:
    config = config_with_accounts(tmp_path, "alice")
    with running(config) as server:
        alice = device(server.port, wires, "alice", "alice")
        alice.write("JOIN #old", "QUIT :bye")  # not always-on: #old kept for next login
        alice.until("ERROR")
        oper = device(server.port, wires, "admin", "admin")
        oper.write("JOIN #old", "RENAME #old #new :tidier")
        oper.until("#new")
    # a restart: the old name no longer redirects to the new one
    with running(config) as server:
        oper = device(server.port, wires, "admin", "admin")
        oper.write("JOIN #new")
        oper.until(" 366 ")
        back = device(server.port, wires, "alice", "alice")
        back.write("PING back")
        joined = [line for line in back.until("PONG") if " JOIN " in line]
        assert [line.rsplit(" ", 1)[1] for line in joined] == ["#new"]


def test_an_always_on_user_whose_last_device_leaves_during_the_nick_grace_is_renamed(
    tmp_path: Path, wires: list[Wire]
) -> None:
    with running(config_with_accounts(tmp_path, "alice", "carol")) as server:
        alice = always_on_device(server.port, wires, "JOIN #garden")
        alice.write("NICK carol")
        alice.until("This nickname is registered")
        bob = guest_wire(server.port, wires, "bob")
        bob.write("JOIN #garden")
        bob.until(" 366 ")
        alice.write("QUIT :bye")  # nobody is left to identify: carol's nick goes back
        alice.until("ERROR")
        renamed = bob.until(" NICK ")[-1]
        assert renamed.startswith(":carol!")
        guest = renamed.rsplit(" ", 1)[1].lstrip(":")
        assert guest.startswith("Guest")
        carol = device(server.port, wires, "carol", "carol")  # her nick is free again
        carol.write("WHOIS " + guest)
        assert any(" 330 carol " + guest + " alice " in line for line in carol.until(" 318 "))


def test_always_on_turned_off_with_two_devices_ends_with_the_last_one(
    tmp_path: Path, wires: list[Wire]
) -> None:
    with running(config_with_accounts(tmp_path, "alice")) as server:
        laptop = always_on_device(server.port, wires, "JOIN #garden")
        phone = device(server.port, wires, "alice", "alice")
        bob = guest_wire(server.port, wires, "bob")
        bob.write("JOIN #garden")
        bob.until(" 366 ")
        phone.write("PRIVMSG NickServ :SET ALWAYS-ON OFF")
        phone.until("ALWAYS-ON is now OFF")
        laptop.write("QUIT :laptop closed")
        laptop.until("ERROR")
        bob.write("PING one")
        assert not [line for line in bob.until("PONG") if " QUIT " in line]  # phone is there
        phone.write("QUIT :phone closed")
        phone.until("ERROR")
        assert bob.until(" QUIT ")[-1].endswith("QUIT :Quit: phone closed")


def test_with_multiclient_off_a_device_still_takes_back_its_always_on_user_with_none(
    tmp_path: Path, wires: list[Wire]
) -> None:
    with running(config_with_accounts(tmp_path, "alice")) as server:
        alice = always_on_device(server.port, wires, "JOIN #garden")
        alice.write("PRIVMSG NickServ :SET MULTICLIENT OFF")
        alice.until("MULTICLIENT is now OFF")
        alice.write("QUIT :bye")
        alice.until("ERROR")
        back = device(server.port, wires, "alice", "alice")  # not 433: the user has no device
        back.write("PING back")
        assert any(line.endswith(" JOIN #garden") for line in back.until("PONG"))
        second = Wire(server.port)  # one device at a time: a second one is refused
        wires.append(second)
        sasl_only(second, "alice")
        second.write("CAP END", "NICK alice", "USER alice 0 * :alice")
        assert " 433 * alice " in second.until(" 433 ")[-1]
