"""SILENCE (core/commands/silence.py): a user's server-side block list."""

from __future__ import annotations

from chatroom.server.harness import Harness
from tests.server.moderation_support import numerics, oper, user


def test_a_silenced_senders_private_messages_and_invites_never_arrive() -> None:
    h = Harness()
    alice = user(h, "alice")
    pest = h.connect("pest", caps=["echo-message"])
    confirmed = alice.cmd("SILENCE +pest")
    assert [(m.command, m.params) for m in confirmed] == [("SILENCE", ("+pest!*@*",))]
    echo = pest.cmd("PRIVMSG alice :hello?")
    assert [(m.command, m.params) for m in echo] == [("PRIVMSG", ("alice", "hello?"))]
    pest.cmd("NOTICE alice :hello?")
    pest.cmd("JOIN #trap")
    assert numerics(pest.cmd("INVITE alice #trap")) == ["341"]  # looks delivered
    assert alice.take() == []
    assert alice.session.owner.invited == frozenset()
    assert not [r for lines in h.history.lines.values() for r in lines if r.text == "hello?"]
    friend = h.connect("friend")
    friend.cmd("PRIVMSG alice :hi")
    assert [m.params[-1] for m in alice.take() if m.command == "PRIVMSG"] == ["hi"]


def test_the_list_is_shown_changed_and_bounded_and_shared_by_every_device() -> None:
    h = Harness()
    laptop = user(h, "alice")
    phone = h.connect()
    phone.send("PASS alice:correct-horse", "NICK alice", "USER a 0 * :a")
    phone.take()
    laptop.cmd("SILENCE +a:spammer,+*!*@203.0.113.*")
    assert [m.params[-1] for m in phone.take() if m.command == "SILENCE"] == [
        "+a:spammer",
        "+*!*@203.0.113.*",
    ]
    listed = phone.cmd("SILENCE")
    assert [m.params[1:] for m in listed] == [
        ("a:spammer",),
        ("*!*@203.0.113.*",),
        ("End of silence list",),
    ]
    assert [m.command for m in listed] == ["271", "271", "272"]
    phone.cmd("SILENCE -A:SPAMMER")
    assert laptop.session.owner.silenced == ("*!*@203.0.113.*",)
    laptop.cmd(",".join(f"+x{i}" for i in range(40)).join(("SILENCE ", "")))
    assert len(laptop.session.owner.silenced) == 32
    assert numerics(laptop.cmd("SILENCE +one-too-many")) == ["511"]


def test_operators_get_through_and_room_messages_are_not_filtered() -> None:
    h = Harness()
    alice = user(h, "alice")
    alice.cmd("JOIN #room")
    alice.cmd("SILENCE +*")
    admin = oper(h)
    admin.cmd("PRIVMSG alice :from the operators")
    guest = h.connect("guest")
    guest.cmd("JOIN #room")
    alice.take()
    guest.cmd("PRIVMSG #room :to the room")
    guest.cmd("PRIVMSG alice :to you")
    texts = [m.params[-1] for m in alice.take() if m.command == "PRIVMSG"]
    assert texts == ["to the room"]
    admin.cmd("PRIVMSG alice :again")
    assert [m.params[-1] for m in alice.take() if m.command == "PRIVMSG"] == ["again"]


def test_silence_is_advertised() -> None:
    h = Harness()
    looker = h.connect()
    looker.send("NICK looker", "USER looker 0 * :looker")
    tokens = [t for m in looker.take() if m.command == "005" for t in m.params]
    assert "SILENCE=32" in tokens


def test_a_silenced_senders_multiline_message_is_dropped_and_not_kept() -> None:
    h = Harness()
    alice = user(h, "alice")
    alice.cmd("SILENCE +pest")
    pest = h.connect("pest", caps=["batch", "draft/multiline", "echo-message"])
    pest.send(
        "BATCH +m draft/multiline alice",
        "@batch=m PRIVMSG alice :first line",
        "@batch=m PRIVMSG alice :second line",
        "BATCH -m",
    )
    assert [m.params[-1] for m in pest.take() if m.command == "PRIVMSG"] == [
        "first line",
        "second line",
    ]  # its own echo, as if delivered
    assert alice.take() == []
    assert not [r for lines in h.history.lines.values() for r in lines if "line" in r.text]


def test_an_accounts_list_is_saved_before_it_is_confirmed_and_back_at_the_next_login() -> None:
    h = Harness()
    alice = user(h, "alice")
    h.hold_persists = True
    assert alice.cmd("SILENCE +pest,+a:troll") == []  # nothing confirmed before the commit
    h.release_persists()
    assert [m.params[-1] for m in alice.take() if m.command == "SILENCE"] == [
        "+pest!*@*",
        "+a:troll",
    ]
    alice.cmd("QUIT :bye")
    again = user(h, "alice")
    listed = again.cmd("SILENCE")
    assert [m.params[1] for m in listed if m.command == "271"] == ["pest!*@*", "a:troll"]
    again.cmd("SILENCE -pest,-a:troll")
    assert h.world.accounts.option("alice", "silence") is None


def test_a_silenced_account_cannot_leave_a_message_for_an_offline_account() -> None:
    h = Harness()
    alice = user(h, "alice")
    alice.cmd("SILENCE +a:pest")
    alice.cmd("QUIT :off for the night")
    pest = user(h, "pest")
    answer = pest.cmd("PRIVMSG alice :you can't avoid me")
    notes = [m.params[-1] for m in answer if m.command == "NOTICE"]
    assert notes == [
        "alice is offline; your message was kept and will be delivered when they log in"
    ]
    friend = user(h, "friend")
    friend.cmd("PRIVMSG alice :see you tomorrow")
    stored = [r.text for lines in h.history.lines.values() for r in lines]
    assert "you can't avoid me" not in stored
    assert "see you tomorrow" in stored
    assert h.world.accounts.waiting("alice") == 1
