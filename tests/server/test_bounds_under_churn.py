"""Every table the core fills on a client's behalf has a bound or a cleanup (docs/security.md,
"Abuse limits"): clients cycling through room names, nicks and targets leave no trail, and
many cycles of the ordinary life of a connection leave the world as big as it was.

Sizes only, never times: a count of cycles, then ``len`` of each table.
"""

from __future__ import annotations

import pytest

from chatroom.irc import numerics as n
from chatroom.server.core import history
from chatroom.server.core.world import World
from chatroom.server.harness import Harness, SimClient
from tests.server.login_support import settings as login_settings

PASSWORD = "correct-horse-battery"
REPLAY_CAPS = ("batch", "server-time")


def _device(h: Harness, account: str, nick: str) -> SimClient:
    client = h.connect()
    client.send(f"PASS {account}:{PASSWORD}", f"NICK {nick}", "USER u 0 * :real")
    client.take()
    return client


def test_rooms_that_empty_out_keep_replay_rings_for_a_bounded_number_of_rooms(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(history, "RING_ROOMS", 20)
    h = Harness()
    h.add_account("mallory", PASSWORD)
    mallory = _device(h, "mallory", "mallory")
    keeper = h.connect("keeper", caps=REPLAY_CAPS)
    keeper.send("JOIN #home", "PRIVMSG #home :first")
    for index in range(100):
        mallory.send(f"JOIN #r{index}", f"PRIVMSG #r{index} :hello", f"TOPIC #r{index} :t")
        mallory.send(f"PART #r{index}")
        if index % 10 == 0:
            keeper.send("PRIVMSG #home :still here")  # the room spoken in lately stays
    state = h.world.history
    assert len(state.recent) <= 20
    assert len(state.events) <= 20
    assert "#home" in state.recent
    assert all(len(rooms) <= 20 for rooms in state.seen.values())
    # A room that empties and fills again while its ring is kept still replays.
    mallory.send("JOIN #r99", "PRIVMSG #r99 :latest", "PART #r99")
    late = h.connect("late", caps=REPLAY_CAPS)
    got = late.cmd("JOIN #r99")
    assert "latest" in [m.params[-1] for m in got if m.command == "PRIVMSG"]


def test_invitations_to_rooms_that_emptied_out_do_not_pile_up_on_the_invitee() -> None:
    h = Harness()
    victim = h.connect("victim")
    mallory = h.connect("mallory")
    for index in range(200):
        mallory.send(f"JOIN #i{index}", f"INVITE victim #i{index}", f"PART #i{index}")
    assert len(victim.session.invited) <= 1
    mallory.send("JOIN #kept", "INVITE victim #kept")
    assert "#kept" in victim.session.invited
    assert set(h.world.rooms.invitees) == {"#kept"}
    victim.send("QUIT")
    assert h.world.rooms.invitees == {}


def test_an_invitation_ends_with_its_room_and_opens_no_later_room_of_that_name() -> None:
    h = Harness()
    guest = h.connect("guest")
    friend = h.connect("friend")
    friend.send("JOIN #club", "INVITE guest #club", "PART #club")  # #club is gone
    owner = h.connect("owner")
    owner.send("JOIN #club", "MODE #club +i")  # a new room, someone else's
    got = guest.cmd("JOIN #club")
    assert n.ERR_INVITEONLYCHAN in [m.command for m in got]
    club = h.world.rooms.find("#club")
    assert club is not None
    assert guest.session.owner not in club.members


def _sizes(world: World) -> dict[str, int]:
    """The length of every table of the world that a client's actions fill."""
    state = world.history
    return {
        "sessions": len(world.sessions),
        "nicks": len(world.nicks),
        "rooms": len(world.rooms),
        "redirects": len(world.rooms.redirects),
        "whowas": len(world.whowas),
        "per_address": len(world.per_address),
        "recent_connects": len(world.recent_connects),
        "monitor_watchers": len(world.monitor.watchers),
        "monitor_lists": len(world.monitor.lists),
        "metadata_accounts": len(world.metadata.accounts),
        "read_markers": sum(len(marks) for marks in world.read_markers.accounts.values()),
        "answers": len(world.answers),
        "invitees": len(world.rooms.invitees),
        "seen": sum(len(rooms) for rooms in state.seen.values()),
        "rings": len(state.recent) + len(state.events),
        "effects": len(world.effects),
        "ready": len(world.ready),
    }


def _cycle(h: Harness, index: int) -> None:
    """One round of what clients do all day; everything it opens, it closes."""
    guest = h.connect(f"guest{index}", caps=(*REPLAY_CAPS, "draft/metadata-2"))
    guest.send("MONITOR + alice,nobody", "METADATA * SUB avatar")
    guest.send("JOIN #room", "PRIVMSG #room :hi", f"PRIVMSG dm{index} :anyone?")
    guest.send(f"JOIN #tmp{index}", f"PRIVMSG #tmp{index} :x", f"PART #tmp{index}")
    guest.send(f"NICK other{index}", "PART #room", "QUIT :bye")
    laptop = _device(h, "alice", "alice")
    phone = _device(h, "alice", "alice")  # multiclient: attaches to the same user
    laptop.send("JOIN #room", "PRIVMSG #room :from alice", "MARKREAD #room")
    laptop.send(f"JOIN #ren{index}", f"INVITE stays #ren{index}")
    laptop.send(f"RENAME #ren{index} #renamed{index} :why")
    laptop.send(f"PART #renamed{index}")
    phone.drop()
    laptop.send("QUIT :done")


def _wait(h: Harness, client: SimClient, seconds: float) -> None:
    """Let time pass, ``client`` answering the server's PINGs as a live client does."""
    for _ in range(max(1, int(seconds // 30))):
        h.tick(min(seconds, 30.0))
        for msg in client.take():
            if msg.command == "PING":
                client.send(f"PONG :{msg.params[-1]}")


def test_two_hundred_rounds_of_ordinary_connections_leave_the_world_as_big_as_it_was() -> None:
    h = Harness()
    h.add_account("alice", PASSWORD)
    _device(h, "alice", "alice").send("PRIVMSG NickServ :SET ALWAYS-ON ON", "QUIT")
    stays = h.connect("stays", caps=REPLAY_CAPS)
    stays.send("JOIN #room")
    for index in range(20):  # warm up: the first rounds fill what is bounded (WHOWAS...)
        _cycle(h, index)
        _wait(h, stays, 1.0)
    _wait(h, stays, 4000.0)  # redirects and recent connects expire
    _cycle(h, 20)
    before = _sizes(h.world)
    for index in range(21, 221):
        _cycle(h, index)
        _wait(h, stays, 1.0)
    _wait(h, stays, 4000.0)
    _cycle(h, 221)
    after = _sizes(h.world)
    # Rooms created once per cycle keep replay rings (bounded by RING_ROOMS) and what the
    # account saw there: everything else is back where it was.
    growing = {"rings", "seen", "whowas"}
    assert {k: v for k, v in after.items() if k not in growing} == {
        k: v for k, v in before.items() if k not in growing
    }
    assert after["rings"] <= 2 * history.RING_ROOMS
    assert after["whowas"] <= h.world.settings.limits.whowas_entries
    assert stays.session.registered
    assert stays.closed_reason is None


def _register(h: Harness, nick: str, ip: str) -> list[str]:
    client = h.connect(nick, ip=ip, secure=True)
    reply = client.cmd("REGISTER * * long-password")
    return [" ".join(m.params[:2]) for m in reply if m.command in ("REGISTER", "FAIL")]


def test_one_address_creates_at_most_registrations_per_hour_accounts_then_waits_an_hour() -> None:
    h = Harness(login_settings(registrations_per_hour=3))
    made = [_register(h, f"sock{index}", "203.0.113.7") for index in range(5)]
    assert made[:3] == [["SUCCESS sock0"], ["SUCCESS sock1"], ["SUCCESS sock2"]]
    assert made[3:] == [["REGISTER TEMPORARILY_UNAVAILABLE"]] * 2
    assert "sock3" not in h.store.load().accounts
    # Another address (an IPv6 one counts with its /64) has its own budget.
    assert _register(h, "friend", "2001:db8::1") == ["SUCCESS friend"]
    assert _register(h, "friend2", "2001:db8::2") == ["SUCCESS friend2"]
    h.tick(3600.0)
    assert _register(h, "sock5", "203.0.113.7") == ["SUCCESS sock5"]
    # NickServ REGISTER spends the same budget.
    for index in range(2):
        h.connect(f"ns{index}", ip="203.0.113.7", secure=True).send(
            "PRIVMSG NickServ :REGISTER long-password"
        )
    late = h.connect("ns2", ip="203.0.113.7", secure=True)
    said = late.cmd("PRIVMSG NickServ :REGISTER long-password")
    assert any("Too many accounts" in m.params[-1] for m in said)
    assert "ns2" not in h.store.load().accounts
    assert len(h.world.signups) == 2
