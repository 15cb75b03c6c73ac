"""KNOCK (core/commands/knock.py): asking a closed room's operators for an invite."""

from __future__ import annotations

from chatroom.server.harness import Harness
from tests.server.moderation_support import numerics


def test_a_knock_reaches_the_rooms_operators_and_the_invite_lets_the_visitor_in() -> None:
    h = Harness()
    op = h.connect("op")
    op.cmd("JOIN #closed")
    op.cmd("MODE #closed +i")
    voiced = h.connect("voiced")
    op.cmd("INVITE voiced #closed")
    voiced.cmd("JOIN #closed")
    voiced.take()
    visitor = h.connect("visitor")
    answer = visitor.cmd("KNOCK #closed :I am from the meetup")
    assert numerics(answer) == ["711"]
    (heard,) = [m for m in op.take() if m.command == "710"]
    assert heard.params[1:3] == ("#closed", "visitor!~visitor@127.0.0.1")
    assert heard.params[3] == "has asked for an invite: I am from the meetup"
    assert not [m for m in voiced.take() if m.command == "710"]  # operators only
    op.cmd("INVITE visitor #closed")
    assert "366" in numerics(visitor.cmd("JOIN #closed"))


def test_knocking_on_an_open_room_or_from_inside_is_refused() -> None:
    h = Harness()
    op = h.connect("op")
    op.cmd("JOIN #open")
    visitor = h.connect("visitor")
    assert numerics(visitor.cmd("KNOCK #open")) == ["713"]
    assert numerics(op.cmd("KNOCK #open")) == ["714"]
    assert numerics(visitor.cmd("KNOCK #nowhere")) == ["403"]
    assert numerics(visitor.cmd("KNOCK")) == ["461"]


def test_keyed_full_and_accounts_only_rooms_take_knocks_and_a_banned_visitor_is_refused() -> None:
    h = Harness()
    op = h.connect("op")
    visitor = h.connect("visitor")
    for room, mode in (("#keyed", "+k secret"), ("#full", "+l 1"), ("#members", "+R")):
        op.cmd(f"JOIN {room}")
        op.cmd(f"MODE {room} {mode}")
        assert numerics(visitor.cmd(f"KNOCK {room}")) == ["711"], room
        h.clock.advance(10)
    op.cmd("JOIN #banned")
    op.cmd("MODE #banned +ib visitor")
    assert numerics(visitor.cmd("KNOCK #banned")) == ["474"]


def test_knocks_are_limited_per_requester_and_per_room() -> None:
    h = Harness()
    op = h.connect("op")
    op.cmd("JOIN #closed")
    op.cmd("MODE #closed +i")
    first, second = h.connect("first"), h.connect("second", ip="10.0.0.2")
    assert numerics(first.cmd("KNOCK #closed")) == ["711"]
    assert numerics(second.cmd("KNOCK #closed")) == ["712"]  # the room just had one
    h.clock.advance(10)
    assert numerics(second.cmd("KNOCK #closed")) == ["711"]
    h.clock.advance(10)
    assert numerics(first.cmd("KNOCK #closed")) == ["712"]  # within its minute
    h.clock.advance(60)
    assert numerics(first.cmd("KNOCK #closed")) == ["711"]
    room = h.world.rooms.find("#closed")
    assert room is not None
    assert len(room.knocks or ()) == 1  # the others' knocks were pruned


def test_knock_is_advertised() -> None:
    h = Harness()
    looker = h.connect()
    looker.send("NICK looker", "USER looker 0 * :looker")
    tokens = [t for m in looker.take() if m.command == "005" for t in m.params]
    assert "KNOCK" in tokens


def test_a_room_one_may_join_anyway_is_open_to_the_knocker() -> None:
    # JOIN's own rules decide: an invite exception (+I) or an invitation lets one in.
    h = Harness()
    op = h.connect("op")
    op.cmd("JOIN #closed")
    op.cmd("MODE #closed +iI friend!*@*")
    assert numerics(h.connect("friend").cmd("KNOCK #closed")) == ["713"]
    guest = h.connect("guest")
    op.cmd("INVITE guest #closed")
    assert numerics(guest.cmd("KNOCK #closed")) == ["713"]
