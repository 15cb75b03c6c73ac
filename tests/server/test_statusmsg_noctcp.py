"""STATUSMSG (``PRIVMSG @#room`` / ``+#room``), room mode +C (no CTCP but ACTION) and the
ACCOUNTEXTBAN token, through the core harness."""

from __future__ import annotations

from chatroom.irc import numerics as n
from chatroom.irc.message import Message
from chatroom.server.core.replies import isupport_tokens
from chatroom.server.harness import Harness, SimClient
from tests.server.moderation_support import user
from tests.server.support import codes, one, room


def _texts(msgs: list[Message], verb: str = "PRIVMSG") -> list[tuple[str, ...]]:
    return [m.params for m in msgs if m.command == verb]


def _staffed_room(h: Harness) -> tuple[SimClient, SimClient, SimClient]:
    """op (created #room), voice (+v) and plain, all in #room, inboxes empty."""
    op, voice, plain = room(h, "op", "voice", "plain")
    op.cmd("MODE #room +v voice")
    voice.take()
    plain.take()
    return op, voice, plain


# ----------------------------------------------------------------------------- STATUSMSG


def test_statusmsg_is_advertised_with_the_prefixes_it_accepts() -> None:
    assert isupport_tokens(Harness().world)["STATUSMSG"] == "@+"


def test_message_to_at_room_reaches_only_the_rooms_operators() -> None:
    h = Harness()
    op, voice, plain = _staffed_room(h)
    plain.cmd("PRIVMSG @#room :a word for the ops")
    assert _texts(op.take()) == [("@#room", "a word for the ops")]
    assert voice.take() == []
    assert plain.take() == []  # no echo-message: the sender sees nothing


def test_message_to_plus_room_reaches_voices_and_operators() -> None:
    h = Harness()
    op, voice, plain = _staffed_room(h)
    plain.cmd("NOTICE +#room :staff please")
    assert _texts(op.take(), "NOTICE") == [("+#room", "staff please")]
    assert _texts(voice.take(), "NOTICE") == [("+#room", "staff please")]
    assert plain.take() == []


def test_several_prefixes_count_as_the_lowest() -> None:
    """modern.ircdocs.horse: with several prefixes the message goes to the lowest status."""
    h = Harness()
    op, voice, _ = _staffed_room(h)
    op.cmd("PRIVMSG @+#room :to voices too")
    assert _texts(voice.take()) == [("+#room", "to voices too")]


def test_statusmsg_sender_with_echo_message_gets_its_copy() -> None:
    h = Harness()
    op, _voice, _ = _staffed_room(h)
    talker = h.connect("talker", caps=["echo-message"])
    talker.send("JOIN #room")
    talker.take()
    op.take()
    assert _texts(talker.cmd("PRIVMSG @#room :seen by me")) == [("@#room", "seen by me")]
    assert _texts(op.take()) == [("@#room", "seen by me")]


def test_statusmsg_obeys_the_rooms_rules_for_speaking() -> None:
    h = Harness()
    op, _, plain = _staffed_room(h)
    outsider = h.connect("outsider")
    reply = one(outsider.cmd("PRIVMSG @#room :hi"), n.ERR_CANNOTSENDTOCHAN)
    assert reply.params[1] == "#room"  # +n: not a member
    op.cmd("MODE #room +m")
    plain.take()
    assert codes(plain.cmd("PRIVMSG @#room :let me speak")) == [n.ERR_CANNOTSENDTOCHAN]
    assert _texts(op.take()) == []


def test_statusmsg_to_a_room_that_does_not_exist_is_refused() -> None:
    h = Harness()
    alice = h.connect("alice")
    reply = one(alice.cmd("PRIVMSG @#nowhere :hello"), n.ERR_NOSUCHCHANNEL)
    assert reply.params[1] == "@#nowhere"
    assert alice.cmd("NOTICE @#nowhere :hello") == []


def test_statusmsg_lines_are_not_kept_in_history() -> None:
    h = Harness()
    op, _, plain = _staffed_room(h)
    plain.cmd("PRIVMSG #room :for everyone")
    plain.cmd("PRIVMSG @#room :for the ops")
    assert _texts(op.take())[-1] == ("@#room", "for the ops")
    kept = [record.text for rows in h.history.lines.values() for record in rows]
    assert kept == ["for everyone"]


# ----------------------------------------------------------------------------- +C


def test_no_ctcp_room_refuses_ctcp_but_lets_action_through() -> None:
    h = Harness()
    op, _, plain = _staffed_room(h)
    assert one(op.cmd("MODE #room +C"), "MODE").params == ("#room", "+C")
    plain.take()
    reply = one(plain.cmd("PRIVMSG #room :\x01VERSION\x01"), n.ERR_CANNOTSENDTOCHAN)
    assert reply.params[1:] == ("#room", "Cannot send CTCP to channel (+C)")
    assert op.take() == []
    plain.cmd("PRIVMSG #room :\x01ACTION waves\x01")
    assert _texts(op.take()) == [("#room", "\x01ACTION waves\x01")]


def test_no_ctcp_applies_to_operators_and_to_statusmsg_and_notice_stays_silent() -> None:
    h = Harness()
    op, voice, plain = _staffed_room(h)
    op.cmd("MODE #room +C")
    for client in (voice, plain):
        client.take()
    assert codes(op.cmd("PRIVMSG #room :\x01PING 1\x01")) == [n.ERR_CANNOTSENDTOCHAN]
    assert codes(plain.cmd("PRIVMSG +#room :\x01TIME\x01")) == [n.ERR_CANNOTSENDTOCHAN]
    assert plain.cmd("NOTICE #room :\x01VERSION reply\x01") == []
    assert voice.take() == []


def test_without_no_ctcp_a_room_relays_ctcp() -> None:
    h = Harness()
    op, _, plain = _staffed_room(h)
    plain.cmd("PRIVMSG #room :\x01VERSION\x01")
    assert _texts(op.take()) == [("#room", "\x01VERSION\x01")]


def test_no_ctcp_is_a_known_flag_mode() -> None:
    h = Harness()
    op, _, _ = _staffed_room(h)
    op.cmd("MODE #room +C")
    assert one(op.cmd("MODE #room"), n.RPL_CHANNELMODEIS).params[2] == "+Cnt"
    chanmodes = isupport_tokens(h.world)["CHANMODES"]
    assert chanmodes is not None
    assert "C" in chanmodes.split(",")[3]


# ----------------------------------------------------------------------------- ACCOUNTEXTBAN


def test_accountextban_names_the_extban_that_matches_accounts() -> None:
    """IRCv3 account-extban: ACCOUNTEXTBAN names an EXTBAN type that matches account names;
    a ban built from it keeps that account out."""
    h = Harness()
    tokens = isupport_tokens(h.world)
    letter = tokens["ACCOUNTEXTBAN"]
    assert letter is not None
    assert tokens["EXTBAN"] is not None
    prefix, types = tokens["EXTBAN"].split(",")
    assert letter in types
    (op,) = room(h, "op")
    op.cmd(f"MODE #room +b {prefix}{letter}:bob")
    bob = user(h, "bob")
    assert codes(bob.cmd("JOIN #room")) == [n.ERR_BANNEDFROMCHAN]
