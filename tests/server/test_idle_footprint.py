"""What an idle connection keeps: nothing of its own that it does not use (issue 18).

Each connection and user is in memory as long as it is connected, so state that most of
them never use is shared or kept apart until used: caps (one shared empty frozenset),
rooms (one shared empty map), the occasional fields (core/occasional.py: registration,
labels, AWAY, PING, held lines...). These tests pin that structure, never byte counts:
an idle registered client holds none of it, and using a feature and finishing with it
gives the memory back.
"""

from __future__ import annotations

import pickle

import pytest

from chatroom.server.core.occasional import NO_INVITES
from chatroom.server.core.session import NO_CAPS, NO_OUTPUT, Session
from chatroom.server.core.users import NO_ROOMS
from chatroom.server.harness import Harness
from tests.server.support import codes


def _idle(session: Session) -> None:
    user = session.owner
    assert session.caps is NO_CAPS
    assert session.out is NO_OUTPUT
    assert session.occasional is None
    assert user.occasional is None
    assert user.channels is NO_ROOMS
    assert user.conns == (session,)


def test_a_registered_client_that_asked_for_nothing_holds_no_containers_of_its_own() -> None:
    h = Harness()
    client = h.connect("idler")
    assert client.session.registered
    _idle(client.session)
    assert client.session.invited is NO_INVITES
    # A lower-case nick is its own key in the nick registry, not a second copy of it.
    assert any(key is client.session.nick for key, _ in h.world.nicks.items())


def test_rooms_are_a_dict_of_the_users_own_only_while_it_is_in_one() -> None:
    h = Harness()
    client = h.connect("roamer")
    client.send("JOIN #one", "JOIN #two")
    assert set(client.session.channels) == {"#one", "#two"}
    assert isinstance(client.session.channels, dict)
    client.send("PART #one")
    assert set(client.session.channels) == {"#two"}
    client.send("PART #two")
    _idle(client.session)
    client.send("JOIN #one")
    assert set(client.session.channels) == {"#one"}


def test_the_shared_empty_rooms_cannot_be_filled_by_mistake() -> None:
    h = Harness()
    user = h.connect("careful").session.owner
    assert user.channels is NO_ROOMS
    assert not isinstance(NO_ROOMS, dict)  # no __setitem__: writes go through the User
    assert len(NO_ROOMS) == 0
    assert pickle.loads(pickle.dumps(user.channels)) is NO_ROOMS  # a cluster snapshot


def test_caps_are_replaced_not_changed_in_place_and_go_back_to_the_shared_empty() -> None:
    h = Harness()
    client = h.connect("capper", caps=["away-notify", "server-time"])
    caps = client.session.caps
    assert caps == {"away-notify", "server-time", "cap-notify"}
    client.send("CAP REQ :-away-notify")
    assert client.session.caps == {"server-time", "cap-notify"}
    assert caps == {"away-notify", "server-time", "cap-notify"}  # the old value unchanged
    client.send("CAP REQ :-server-time")
    assert client.session.caps == {"cap-notify"}  # a CAP 302 client keeps it (the spec)
    older = h.connect()
    older.send("CAP LS", "CAP REQ :server-time", "NICK older", "USER o 0 * :O", "CAP END")
    older.send("CAP REQ :-server-time")
    assert older.session.caps is NO_CAPS


def test_registration_state_is_gone_once_registered() -> None:
    h = Harness()
    client = h.connect()
    client.send("CAP LS 302", "PASS secret-ish", "NICK late", "USER late 0 * :Late")
    assert client.session.cap_negotiating
    assert client.session.occasional is not None
    client.send("CAP END")
    assert client.session.registered
    assert client.session.occasional is None


def test_a_labeled_command_and_away_leave_nothing_behind() -> None:
    h = Harness()
    client = h.connect("labeler", caps=["labeled-response", "batch"])
    session = client.session
    assert session.occasional is None
    replies = client.cmd("@label=abc WHOIS labeler")
    assert any(msg.tags.get("label") == "abc" for msg in replies)
    assert session.occasional is None
    client.send("AWAY :lunch")
    assert session.away_message == "lunch"
    assert session.owner.away == "lunch"
    client.send("AWAY")
    assert session.away_message is None
    assert session.occasional is None


def test_keep_alive_ping_state_lives_from_the_ping_to_the_pong() -> None:
    h = Harness()
    client = h.connect("pinged")
    session = client.session
    h.tick(h.world.settings.timeouts.ping_interval + 1)
    assert "PING" in [msg.command for msg in client.take()]
    assert session.ping_sent_at is not None
    client.send(f"PONG :{h.world.name}")
    assert session.ping_sent_at is None
    assert session.occasional is None


def test_an_invitation_lives_with_the_user_until_used() -> None:
    h = Harness()
    op = h.connect("op")
    guest = h.connect("guest")
    op.send("JOIN #club", "MODE #club +i")
    assert guest.session.owner.occasional is None
    op.send("INVITE guest #club")
    assert "#club" in guest.session.invited
    assert "JOIN" in codes(guest.cmd("JOIN #club"))
    assert guest.session.invited is NO_INVITES
    assert guest.session.owner.occasional is None


def test_the_output_queue_is_a_list_of_its_own_only_while_lines_wait() -> None:
    h = Harness()
    talker, listener = h.connect("talker"), h.connect("listener")
    talker.send("JOIN #room")
    listener.send("JOIN #room")
    h.world.receive(talker.session, b"PRIVMSG #room :one")
    h.world.receive(talker.session, b"PRIVMSG #room :two")
    queued = listener.session.out
    assert queued is not NO_OUTPUT
    assert len(queued) == 2
    assert listener.session.take_output() is queued
    assert listener.session.out is NO_OUTPUT
    assert not NO_OUTPUT
    with pytest.raises(TypeError):
        NO_OUTPUT.append(b"a line meant for one session only")


def test_connections_that_send_the_same_address_ident_and_realname_share_one_string_each() -> None:
    """Many clients share an address (NAT, a web gateway) and send their client's default
    user name and real name; each connected user keeps those strings, so one copy serves
    all (interned: a string goes when the last user holding it does)."""
    h = Harness()
    first, second = h.connect(ip="".join(["10.0.0.", "7"])), h.connect(ip="10.0.0." + "7")
    for nick, client in (("one", first), ("two", second)):
        client.send(f"NICK {nick}", "USER " + "bot" + " 0 * :" + "Chat " + "Bot")
        assert client.session.registered
    assert first.session.ip == second.session.ip == "10.0.0.7"
    assert first.session.ip is second.session.ip
    assert first.session.user == second.session.user == "~bot"
    assert first.session.user is second.session.user
    assert first.session.realname is second.session.realname
    second.send("SETNAME :" + "Chat " + "Bot")
    assert second.session.realname is first.session.realname
