"""ChanServ through the core harness: rooms registered to founders, kept across restarts."""

from __future__ import annotations

import pytest

from chatroom import admin_rooms
from chatroom.irc import numerics as n
from chatroom.irc.message import Message
from chatroom.server.core.commands import chanserv
from chatroom.server.harness import Harness, SimClient
from chatroom.server.store.base import PutAccount
from tests.server.moderation_support import audit_actions, oper, user

SERVICE = "ChanServ!ChanServ@services."


def said(messages: list[Message]) -> list[str]:
    return [m.params[-1] for m in messages if m.command == "NOTICE" and m.source == SERVICE]


def cs(client: SimClient, text: str) -> list[str]:
    return said(client.cmd(f"PRIVMSG ChanServ :{text}"))


def founded(h: Harness, nick: str = "alice", room: str = "#room") -> SimClient:
    founder = user(h, nick)
    founder.cmd(f"JOIN {room}")
    assert "now registered" in cs(founder, f"REGISTER {room}")[0]
    return founder


def restarted(h: Harness) -> Harness:
    """A new server process on the same store: only what was persisted comes back."""
    fresh = Harness()
    fresh.store = h.store
    for account in h.world.accounts.values():
        fresh.world.accounts.put(account)
    fresh.world.load_snapshot(h.store.load())
    return fresh


def test_chanserv_and_cs_and_lowercase_reach_the_service() -> None:
    h = Harness()
    a = h.connect("alice")
    assert said(a.cmd("PRIVMSG chanserv :HELP"))
    assert said(a.cmd("CS HELP"))
    assert said(a.cmd("CHANSERV HELP"))
    assert n.ERR_NOSUCHNICK not in [m.command for m in a.cmd("PRIVMSG ChanServ :HELP")]


def test_registering_needs_an_account_and_ops() -> None:
    h = Harness()
    guest = h.connect("guest")
    guest.cmd("JOIN #room")
    assert "Log in" in cs(guest, "REGISTER #room")[0]
    b = user(h, "bob")
    b.cmd("JOIN #room")
    assert "must be an op" in cs(b, "REGISTER #room")[0]
    assert "does not exist" in cs(b, "REGISTER #nowhere")[0]


def test_register_is_saved_and_audited() -> None:
    h = Harness()
    founded(h)
    record = h.store.load().channels["#room"]
    assert (record.name, record.founder) == ("#room", "alice")
    assert ("alice", "channel.register", "#room") in audit_actions(h)


def test_an_account_registers_at_most_rooms_per_founder_rooms(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(chanserv, "ROOMS_PER_FOUNDER", 3)
    h = Harness()
    a = user(h, "alice")
    for index in range(3):
        a.cmd(f"JOIN #mine{index}")
        assert "now registered" in cs(a, f"REGISTER #mine{index}")[0]
        a.cmd(f"PART #mine{index}")
    a.cmd("JOIN #fourth")
    assert "at most 3 rooms" in cs(a, "REGISTER #fourth")[0]
    a.cmd("PART #fourth")
    assert h.world.rooms.find("#fourth") is None
    assert "#fourth" not in h.store.load().channels


def test_a_room_cannot_be_registered_twice() -> None:
    h = Harness()
    a = founded(h)
    assert "already registered to alice" in cs(a, "REGISTER #room")[0]


def test_registered_room_outlives_its_members_and_founder_gets_ops_on_join() -> None:
    h = Harness()
    a = founded(h)
    a.cmd("PART #room")
    assert h.world.rooms.find("#room") is not None
    b = user(h, "bob")
    b.cmd("JOIN #room")
    channel = h.world.rooms.find("#room")
    assert channel is not None
    assert not channel.is_op(b.session.owner)
    joined = a.cmd("JOIN #room")
    assert channel.is_op(a.session.owner)
    names = [m for m in joined if m.command == n.RPL_NAMREPLY]
    assert "@alice" in names[0].params[-1].split()


def test_topic_modes_and_bans_come_back_after_a_restart() -> None:
    h = Harness()
    a = founded(h)
    a.cmd("TOPIC #room :Welcome, be nice")
    a.cmd("MODE #room +ib troll!*@*")
    a.cmd("TBAN #room 1h spam*")
    fresh = restarted(h)
    channel = fresh.world.rooms.find("#room")
    assert channel is not None
    assert channel.registration is not None
    assert channel.topic == "Welcome, be nice"
    assert channel.flags == {"i", "n", "t"}
    assert [e.mask for e in channel.lists["b"]] == ["troll!*@*", "spam*!*@*"]
    assert channel.lists["b"][1].expires_at is not None
    fresh.tick(3601)
    assert [e.mask for e in channel.lists["b"]] == ["troll!*@*"]


def test_ops_by_account_get_ops_on_join_after_a_restart() -> None:
    h = Harness()
    a = founded(h)
    user(h, "bob").drop()
    assert "added to" in cs(a, "ACCESS #room ADD bob")[0]
    fresh = restarted(h)
    b = user(fresh, "bob")
    b.cmd("JOIN #room")
    channel = fresh.world.rooms.find("#room")
    assert channel is not None
    assert channel.is_op(b.session.owner)
    assert ("alice", "channel.access.add", "#room bob") in audit_actions(h)


def test_only_the_founder_or_an_operator_manages_the_op_list() -> None:
    h = Harness()
    founded(h)
    b = user(h, "bob")
    assert "Only the founder" in cs(b, "ACCESS #room ADD bob")[0]
    admin = oper(h)
    assert "added to" in cs(admin, "ACCESS #room ADD bob")[0]
    assert "removed from" in cs(admin, "ACCESS #room DEL bob")[0]
    assert "not on the op list" in cs(admin, "ACCESS #room DEL bob")[0]
    assert "no account" in cs(admin, "ACCESS #room ADD ghost")[0]


def test_info_and_access_list_show_founder_and_ops() -> None:
    h = Harness()
    a = founded(h)
    info = cs(a, "INFO #room")
    assert info[0] == "#room is registered to alice."
    assert cs(a, "ACCESS #room LIST")[1] == "Ops by account: (none)"
    assert "not registered" in cs(a, "INFO #lobby")[0]


def test_op_gives_ops_now_to_a_founder_who_joined_before_logging_in() -> None:
    h = Harness()
    founded(h).drop()
    a = h.connect("alice")
    a.cmd("JOIN #room")
    a.cmd("PRIVMSG NickServ :IDENTIFY correct-horse")
    channel = h.world.rooms.find("#room")
    assert channel is not None
    assert not channel.is_op(a.session.owner)
    got = a.cmd("PRIVMSG ChanServ :OP #room")
    assert channel.is_op(a.session.owner)
    assert [m.params for m in got if m.command == "MODE"] == [("#room", "+o", "alice")]


def test_drop_unregisters_and_an_empty_room_then_vanishes() -> None:
    h = Harness()
    a = founded(h)
    b = user(h, "bob")
    assert "Only the founder" in cs(b, "DROP #room")[0]
    a.cmd("PART #room")
    assert "no longer registered" in cs(a, "DROP #room")[0]
    assert h.world.rooms.find("#room") is None
    assert h.store.load().channels == {}
    assert ("alice", "channel.drop", "#room") in audit_actions(h)


def test_operator_registers_a_permanent_room_and_dropping_it_keeps_the_room() -> None:
    """Nobody is op in a permanent room (no first-joiner ops), so an operator registers it."""
    h = Harness()
    admin = oper(h)
    admin.cmd("JOIN #lobby")
    assert "now registered to admin" in cs(admin, "REGISTER #lobby")[0]
    admin.cmd("PART #lobby")
    assert "no longer registered" in cs(admin, "DROP #lobby")[0]
    channel = h.world.rooms.find("#lobby")
    assert channel is not None
    assert channel.permanent


# ----------------------------------------------------------------------------- from the shell


def save_accounts(h: Harness) -> None:
    """The harness keeps its accounts in the world only; the shell looks for them in the
    store, and a reload without them would log everyone out."""
    h.store.apply([PutAccount(account) for account in h.world.accounts.values()])


def reloaded(h: Harness) -> None:
    """What a running server does when ``chatroom admin`` wrote: load the store again."""
    save_accounts(h)
    h.world.load_snapshot(h.store.load())


def test_a_room_dropped_from_the_shell_is_unregistered_on_reload() -> None:
    h = Harness()
    a = founded(h)
    admin_rooms.drop_room(h.store, "#ROOM", h.world.fold)
    reloaded(h)
    channel = h.world.rooms.find("#room")
    assert channel is not None
    assert channel.registration is None
    assert "not registered" in cs(a, "INFO #room")[0]
    a.cmd("PART #room")
    assert h.world.rooms.find("#room") is None  # no longer kept open when empty


def test_a_founder_set_from_the_shell_takes_over_chanserv_on_reload() -> None:
    h = Harness()
    a = founded(h)
    c = user(h, "carol")
    user(h, "bob").drop()
    save_accounts(h)
    admin_rooms.set_room_founder(h.store, "#room", "carol", h.world.fold)
    reloaded(h)
    assert cs(c, "INFO #room")[0] == "#room is registered to carol."
    assert "added to" in cs(c, "ACCESS #room ADD bob")[0]
    assert "Only the founder" in cs(a, "ACCESS #room DEL bob")[0]
    assert "Only the founder" in cs(a, "DROP #room")[0]
    c.cmd("JOIN #room")
    channel = h.world.rooms.find("#room")
    assert channel is not None
    assert channel.is_op(c.session.owner)  # the founder gets ops on join


def test_saves_before_the_reload_do_not_undo_a_founder_set_from_the_shell() -> None:
    """The server writes a room after every change; the shell's founder must survive that."""
    h = Harness()
    a = founded(h)
    user(h, "carol")
    save_accounts(h)
    admin_rooms.set_room_founder(h.store, "#room", "carol", h.world.fold)
    a.cmd("TOPIC #room :changed before the server noticed")
    assert "added to" in cs(a, "ACCESS #room ADD carol")[0]  # still founder until the reload
    record = h.store.load().channels["#room"]
    assert (record.founder, record.topic) == ("carol", "changed before the server noticed")
    reloaded(h)
    channel = h.world.rooms.find("#room")
    assert channel is not None
    assert channel.registration is not None
    assert channel.registration.founder == "carol"
    assert channel.registration.ops == ("carol",)


def test_saves_before_the_reload_do_not_bring_back_a_room_dropped_from_the_shell() -> None:
    h = Harness()
    a = founded(h)
    admin_rooms.drop_room(h.store, "#room", h.world.fold)
    a.cmd("TOPIC #room :changed before the server noticed")
    assert h.store.load().channels == {}
    reloaded(h)
    channel = h.world.rooms.find("#room")
    assert channel is not None
    assert channel.registration is None


def test_a_founder_cannot_drop_its_account_while_it_founds_rooms() -> None:
    """A founder is kept by name: dropping the account would hand its rooms to whoever
    registers the name next."""
    h = Harness()
    alice = founded(h)
    got = _from_nickserv(alice.cmd("PRIVMSG NickServ :DROP alice"))
    assert got == [
        "You found #room: drop each first (ChanServ DROP <#room>), or ask a server"
        " operator to give it to another account."
    ]
    assert "alice" in h.world.accounts
    assert "no longer registered" in cs(alice, "DROP #room")[0]
    assert "Account alice has been dropped." in _from_nickserv(
        alice.cmd("PRIVMSG NickServ :DROP alice")
    )


def _from_nickserv(messages: list[Message]) -> list[str]:
    return [m.params[-1] for m in messages if m.command == "NOTICE" and m.source is not None
            and m.source.startswith("NickServ!")]  # fmt: skip
