"""Three ordinary IRC clients in #lobby, over real sockets: the original chat room."""

from __future__ import annotations

from collections.abc import Callable

from irc.client import Event

from tests.realserver import Client


def _joined(nick: str) -> Callable[[Event], bool]:
    return lambda e: e.type == "join" and e.source.nick == nick


def _said(text: str) -> Callable[[Event], bool]:
    return lambda e: e.type == "pubmsg" and e.arguments == [text]


def _join_lobby(clients: list[Client]) -> None:
    for c in clients:
        c.conn.join("#lobby")
        c.wait_for(_joined(c.nick))


def test_each_message_in_lobby_reaches_the_other_two(connect: Callable[[str], Client]) -> None:
    alice, bob, carol = connect("alice"), connect("bob"), connect("carol")
    _join_lobby([alice, bob, carol])
    for sender in (alice, bob, carol):
        text = f"hello from {sender.nick}"
        sender.conn.privmsg("#lobby", text)
        for other in (alice, bob, carol):
            if other is sender:
                continue
            event = other.wait_for(_said(text))
            assert event.source.nick == sender.nick
            assert event.target == "#lobby"


def test_quit_is_announced_to_the_rest(connect: Callable[[str], Client]) -> None:
    alice, bob, carol = connect("alice"), connect("bob"), connect("carol")
    _join_lobby([alice, bob, carol])
    carol.conn.quit("bye all")
    for other in (alice, bob):
        event = other.wait_for(lambda e: e.type == "quit" and e.source.nick == "carol")
        assert event.arguments == ["Quit: bye all"]


def test_closed_connection_frees_the_nickname_at_once(connect: Callable[[str], Client]) -> None:
    alice = connect("alice")
    dave = connect("dave")
    alice.conn.join("#lobby")
    alice.wait_type("endofnames")  # alice is in before dave, so she sees him arrive
    dave.conn.join("#lobby")
    alice.wait_for(lambda e: e.type == "join" and e.source.nick == "dave")
    dave.conn.disconnect()  # no QUIT: the socket just closes
    alice.wait_for(lambda e: e.type == "quit" and e.source.nick == "dave")
    again = connect("dave")
    assert again.conn.get_nickname() == "dave"


def test_private_message_reaches_only_its_target(connect: Callable[[str], Client]) -> None:
    alice, bob, carol = connect("alice"), connect("bob"), connect("carol")
    alice.conn.privmsg("bob", "just for you")
    event = bob.wait_type("privmsg")
    assert event.arguments == ["just for you"]
    carol.pump(0.2)
    assert not [e for e in carol.events if e.type == "privmsg"]
