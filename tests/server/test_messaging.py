"""PRIVMSG, NOTICE and TAGMSG through the core harness."""

from __future__ import annotations

from chatroom.irc import numerics as n
from chatroom.server.harness import Harness
from tests.server.support import join_all


def test_room_message_reaches_every_other_member_not_the_sender() -> None:
    h = Harness()
    a, b, c = h.connect("alice"), h.connect("bob"), h.connect("carol")
    join_all([a, b, c], "#lobby")
    assert a.cmd("PRIVMSG #lobby :hello all") == []
    for other in (b, c):
        got = other.take()
        assert len(got) == 1
        assert got[0].source == "alice!~alice@127.0.0.1"
        assert got[0].params == ("#lobby", "hello all")


def test_room_message_is_formatted_once_and_shared() -> None:
    """Format once, send many: every member without tags gets the very same bytes object."""
    h = Harness()
    a, b, c = h.connect("alice"), h.connect("bob"), h.connect("carol")
    join_all([a, b, c], "#lobby")
    a.send("PRIVMSG #lobby :shared")
    assert b.inbox[0] is c.inbox[0]


def test_echo_message_returns_own_message_with_same_msgid() -> None:
    h = Harness()
    a = h.connect("alice", caps=["echo-message", "message-tags"])
    b = h.connect("bob", caps=["message-tags"])
    join_all([a, b], "#lobby")
    echoed = a.cmd("PRIVMSG #lobby :hi")
    seen = b.take()
    assert echoed[0].params == ("#lobby", "hi")
    assert echoed[0].tags["msgid"] == seen[0].tags["msgid"]


def test_server_time_tag_only_for_clients_that_asked() -> None:
    h = Harness()
    a = h.connect("alice")
    b = h.connect("bob", caps=["server-time"])
    c = h.connect("carol")
    join_all([a, b, c], "#lobby")
    a.send("PRIVMSG #lobby :t")
    assert b.take()[0].tags["time"].endswith("Z")
    assert c.take()[0].tags == {}


def test_client_only_tags_are_relayed_to_message_tags_clients() -> None:
    h = Harness()
    a = h.connect("alice", caps=["message-tags"])
    b = h.connect("bob", caps=["message-tags"])
    c = h.connect("carol")
    join_all([a, b, c], "#lobby")
    a.send("@+draft/react=wave;time=forged PRIVMSG #lobby :hi")
    got = b.take()[0]
    assert got.tags["+draft/react"] == "wave"
    assert got.tags.get("time") != "forged"
    assert c.take()[0].tags == {}


def test_tagmsg_reaches_only_clients_with_message_tags() -> None:
    h = Harness()
    a = h.connect("alice", caps=["message-tags"])
    b = h.connect("bob", caps=["message-tags"])
    c = h.connect("carol")
    join_all([a, b, c], "#lobby")
    a.send("@+typing=active TAGMSG #lobby")
    got = b.take()
    assert got[0].command == "TAGMSG"
    assert got[0].tags["+typing"] == "active"
    assert c.take() == []


def test_several_targets_in_one_message() -> None:
    h = Harness()
    a, b, c = h.connect("alice"), h.connect("bob"), h.connect("carol")
    a.send("PRIVMSG bob,carol :both of you")
    assert b.take()[0].params == ("bob", "both of you")
    assert c.take()[0].params == ("carol", "both of you")


def test_too_many_targets_gets_407() -> None:
    h = Harness()
    a = h.connect("alice")
    reply = a.cmd("PRIVMSG a,b,c,d,e :x")
    assert [m.command for m in reply] == [n.ERR_TOOMANYTARGETS]


def test_unknown_nick_gets_401_and_unknown_room_403() -> None:
    h = Harness()
    a = h.connect("alice")
    assert a.cmd("PRIVMSG nobody :x")[0].command == n.ERR_NOSUCHNICK
    assert a.cmd("PRIVMSG #nowhere :x")[0].command == n.ERR_NOSUCHCHANNEL


def test_missing_recipient_411_and_missing_text_412() -> None:
    h = Harness()
    a = h.connect("alice")
    assert a.cmd("PRIVMSG")[0].command == n.ERR_NORECIPIENT
    assert a.cmd("PRIVMSG bob")[0].command == n.ERR_NOTEXTTOSEND


def test_outsider_cannot_send_to_a_no_external_messages_room() -> None:
    h = Harness()
    a, b = h.connect("alice"), h.connect("bob")
    join_all([a], "#lobby")
    reply = b.cmd("PRIVMSG #lobby :let me in")
    assert reply[0].command == n.ERR_CANNOTSENDTOCHAN
    assert a.take() == []


def test_notice_errors_are_never_answered() -> None:
    """RFC 2812 3.3.2: automatic replies MUST NEVER be sent in response to a NOTICE."""
    h = Harness()
    a = h.connect("alice")
    assert a.cmd("NOTICE nobody :x") == []
    assert a.cmd("NOTICE #nowhere :x") == []
    assert a.cmd("NOTICE") == []


def test_private_message_to_away_user_tells_sender() -> None:
    h = Harness()
    a, b = h.connect("alice"), h.connect("bob")
    b.send("AWAY :at lunch")
    reply = a.cmd("PRIVMSG bob :you there?")
    assert reply[0].command == n.RPL_AWAY
    assert reply[0].params[1:] == ("bob", "at lunch")


def test_bot_messages_carry_the_bot_tag() -> None:
    h = Harness()
    bot = h.connect("helper")
    b = h.connect("bob", caps=["message-tags"])
    bot.send("MODE helper +B")
    join_all([bot, b], "#lobby")
    bot.send("PRIVMSG #lobby :beep")
    assert "bot" in b.take()[0].tags
