"""The anti-guest modes (core/access.py): room +R (only accounts join), room +M (only
accounts speak) and user +R (only accounts send private messages and invites)."""

from __future__ import annotations

from chatroom.server.harness import Harness
from tests.server.moderation_support import numerics, oper, user


def test_a_plus_r_room_keeps_guests_out_but_lets_accounts_and_invited_guests_in() -> None:
    h = Harness()
    owner = user(h, "owner")
    owner.cmd("JOIN #members")
    owner.cmd("MODE #members +R")
    guest = h.connect("guest")
    refused = guest.cmd("JOIN #members")
    assert numerics(refused) == ["477"]
    assert "+R" in refused[0].params[-1]
    member = user(h, "member")
    assert "366" in numerics(member.cmd("JOIN #members"))
    owner.cmd("INVITE guest #members")
    assert "366" in numerics(guest.cmd("JOIN #members"))


def test_a_plus_m_room_lets_guests_read_but_only_accounts_and_voiced_speak() -> None:
    h = Harness()
    owner = user(h, "owner")
    owner.cmd("JOIN #quiet")
    guest = h.connect("guest")
    guest.cmd("JOIN #quiet")
    owner.cmd("MODE #quiet +M")
    refused = guest.cmd("PRIVMSG #quiet :hello")
    assert numerics(refused) == ["404"]
    assert "+M" in refused[0].params[-1]
    assert not [m for m in owner.take() if m.command == "PRIVMSG"]
    member = user(h, "member")
    member.cmd("JOIN #quiet")
    member.cmd("PRIVMSG #quiet :I may")
    assert [m.params[-1] for m in guest.take() if m.command == "PRIVMSG"] == ["I may"]
    owner.cmd("MODE #quiet +v guest")
    guest.cmd("PRIVMSG #quiet :voiced now")
    assert [m.params[-1] for m in owner.take() if m.command == "PRIVMSG"] == ["voiced now"]


def test_user_mode_plus_r_refuses_guests_private_messages_and_invites_only() -> None:
    h = Harness()
    alice = user(h, "alice")
    assert [m.command for m in alice.cmd("MODE alice +R")] == ["MODE"]
    guest = h.connect("guest")
    refused = guest.cmd("PRIVMSG alice :hi")
    assert numerics(refused) == ["477"]
    assert refused[0].params[1] == "alice"
    assert guest.cmd("NOTICE alice :hi") == []  # a NOTICE is never answered
    guest.cmd("JOIN #open")
    assert numerics(guest.cmd("INVITE alice #open")) == ["477"]
    assert not [m for m in alice.take() if m.command in ("PRIVMSG", "NOTICE", "INVITE")]
    friend = user(h, "friend")
    friend.cmd("PRIVMSG alice :from an account")
    admin = oper(h)
    admin.cmd("PRIVMSG alice :from an operator")
    texts = [m.params[-1] for m in alice.take() if m.command == "PRIVMSG"]
    assert texts == ["from an account", "from an operator"]


def test_the_new_modes_are_advertised() -> None:
    h = Harness()
    looker = h.connect()
    looker.send("NICK looker", "USER looker 0 * :looker")
    welcome = looker.take()
    tokens = " ".join(" ".join(m.params) for m in welcome if m.command == "005")
    assert "CHANMODES=beIq,k,l,CMRimnst" in tokens
    my_info = next(m for m in welcome if m.command == "004")
    assert "R" in my_info.params[3]
