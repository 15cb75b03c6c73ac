"""message-tags, labeled-response, batch, echo-message and server-time over TCP, as the
irctest suite and the IRCv3 specs describe them."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from chatroom.server.core.settings import Limits
from tests.integration.conformance_v3_support import Peers, commands, only, serving
from tests.realserver import make_config

ALL = ("echo-message", "batch", "labeled-response", "message-tags")


@pytest.fixture
def peers(tmp_path: Path) -> Iterator[Peers]:
    with serving(make_config(tmp_path, Limits(flood_per_second=0))) as made:
        yield made


def test_a_labeled_privmsg_to_several_nicks_is_one_labeled_batch_and_nobody_sees_the_label(
    peers: Peers,
) -> None:
    foo = peers.connect("foo", *ALL)
    bar, carl = peers.connect("bar", *ALL), peers.connect("carl", *ALL)
    replies = foo.ask("@label=12345 PRIVMSG bar,carl :hi")
    assert replies[0].command == "BATCH"
    assert replies[0].tags["label"] == "12345"
    assert replies[0].params[1] == "labeled-response"
    ref = replies[0].params[0][1:]
    assert re.fullmatch(r"[A-Za-z0-9-]+", ref)
    assert [m.tags.get("batch") for m in replies[1:-1]] == [ref, ref]
    assert replies[-1].params == [f"-{ref}"]
    for peer in (bar, carl):
        (delivery,) = peer.sync()
        assert "label" not in delivery.tags


def test_a_labeled_privmsg_notice_and_tagmsg_to_a_nick_echo_with_the_label(
    peers: Peers,
) -> None:
    foo = peers.connect("foo", *ALL)
    bar = peers.connect("bar", *ALL)
    for command in ("PRIVMSG bar :hi", "NOTICE bar :hi", "TAGMSG bar"):
        (echo,) = foo.ask(f"@label=12345;+draft/react=l😃l {command}")
        (delivery,) = bar.sync()
        assert echo.command == delivery.command == command.split()[0]
        assert echo.tags["label"] == "12345"
        assert "label" not in delivery.tags
        assert echo.tags["+draft/react"] == delivery.tags["+draft/react"] == "l😃l"
        assert echo.tags["msgid"] == delivery.tags["msgid"]


@pytest.mark.parametrize("command", ["PRIVMSG foo :hi", "NOTICE foo :hi", "TAGMSG foo"])
def test_a_labeled_message_to_oneself_comes_back_twice_with_one_label(
    peers: Peers, command: str
) -> None:
    foo = peers.connect("foo", *ALL)
    replies = foo.ask(f"@label=12345;+draft/reply=123 {command}")
    assert commands(replies) == [command.split()[0]] * 2
    assert [m.tags.get("label") for m in replies].count("12345") == 1


def test_a_labeled_join_answers_in_one_labeled_batch(peers: Peers) -> None:
    bar = peers.connect("bar", "batch", "labeled-response", "message-tags", "server-time")
    replies = bar.ask("@label=12345 JOIN #xyz")
    assert len(replies) >= 4
    start, *inside, end = replies
    assert start.command == "BATCH"
    assert start.tags["label"] == "12345"
    ref = start.params[0][1:]
    assert {m.tags.get("batch") for m in inside} == {ref}
    assert {"JOIN", "353", "366"} <= set(commands(inside))
    assert end.params == [f"-{ref}"]


def test_a_one_line_answer_is_labeled_without_a_batch_and_no_answer_is_a_labeled_ack(
    peers: Peers,
) -> None:
    bar = peers.connect("bar", "batch", "labeled-response")
    (pong,) = bar.ask("@label=98765 PING adhoctestline")
    assert pong.command == "PONG"
    assert pong.tags["label"] == "98765"
    assert pong.params[-1] == "adhoctestline"
    (ack,) = bar.ask("@label=98766 PONG adhoctestline")
    assert ack.command == "ACK"
    assert ack.tags["label"] == "98766"
    (unknown,) = bar.ask("@label=deadbeef NONEXISTENT_COMMAND")
    assert unknown.command == "421"
    assert unknown.tags["label"] == "deadbeef"


def test_client_tags_reach_message_tags_clients_only_and_server_tags_are_dropped(
    peers: Peers,
) -> None:
    alice = peers.connect("alice", "message-tags")
    bob = peers.connect("bob", "message-tags", "echo-message")
    carol = peers.connect("carol")
    dave = peers.connect("dave", "server-time")
    for peer in (alice, bob, carol, dave):
        peer.ask("JOIN #test")
    for peer in (alice, bob, carol, dave):
        peer.sync()

    alice.ask("@+baz=bat;fizz=buzz PRIVMSG #test hi")
    (to_bob,) = bob.sync()
    assert to_bob.tags["+baz"] == "bat"
    assert "fizz" not in to_bob.tags
    assert "msgid" in to_bob.tags
    (to_carol,) = carol.sync()
    assert to_carol.raw.startswith(":")
    (to_dave,) = dave.sync()
    assert set(to_dave.tags) == {"time"}

    (echo,) = bob.ask(r"@+buzz=fizz\:buzz;cat=dog;+steel=wootz TAGMSG #test")
    (relayed,) = alice.sync()
    for msg in (echo, relayed):
        assert msg.command == "TAGMSG"
        assert msg.tags["+buzz"] == "fizz;buzz"
        assert msg.tags["+steel"] == "wootz"
        assert "cat" not in msg.tags
    assert echo.tags["msgid"] == relayed.tags["msgid"]
    assert carol.sync() == []  # no TAGMSG without message-tags
    assert dave.sync() == []


def test_every_tag_escape_survives_the_relay(peers: Peers) -> None:
    alice = peers.connect("alice", "message-tags")
    bob = peers.connect("bob", "message-tags")
    bob.ask("TAGMSG alice")  # nothing: just to be sure bob is fully registered
    alice.sync()
    bob.ask(r"@+v=a\sb\:c\\d\re\nf;+trail=x\ TAGMSG alice")
    (got,) = alice.sync()
    assert got.tags["+v"] == "a b;c\\d\re\nf"
    assert got.tags["+trail"] == "x"  # a lone trailing backslash is dropped


def test_tag_data_limits_are_4094_client_bytes_then_417(peers: Peers) -> None:
    alice = peers.connect("alice", "message-tags", "echo-message")
    bob = peers.connect("bob", "message-tags")
    alice.ask("JOIN #test")
    bob.ask("JOIN #test")
    alice.sync()

    at_limit = f"@foo=bar;+baz={'a' * 4081} TAGMSG #test"
    assert at_limit.index("TAGMSG") == 4096
    (echo,) = alice.ask(at_limit)
    (relay,) = bob.sync()
    assert echo.tags["+baz"] == relay.tags["+baz"] == "a" * 4081

    (refused,) = alice.ask(f"@foo=bar;+baz={'a' * 4082} TAGMSG #test")
    assert refused.command == "417"
    assert bob.sync() == []

    longest = f"@foo=bar;+baz={'a' * 4081} PRIVMSG #test {'b' * 496}"
    (echo,) = alice.ask(longest)
    if echo.command != "417":
        (relay,) = bob.sync()
        for msg in (echo, relay):
            assert msg.tags["+baz"] == "a" * 4081
            assert set(msg.params[1]) == {"b"}
            assert len(msg.params[1]) >= 400

    (refused,) = alice.ask(f"@foo=bar;+baz={'a' * 4082} PRIVMSG #test {'b' * 495}")
    assert refused.command == "417"
    assert bob.sync() == []


@pytest.mark.parametrize(
    ("command", "alone", "server_time"),
    [("PRIVMSG", False, False), ("PRIVMSG", True, True), ("NOTICE", False, True)],
)
def test_echo_message_gives_the_sender_what_the_room_gets(
    peers: Peers, command: str, alone: bool, server_time: bool
) -> None:
    caps = ("echo-message", "server-time") if server_time else ("echo-message",)
    baz = peers.connect("baz", *caps)
    baz.ask("JOIN #chan")
    qux = None
    if not alone:
        qux = peers.connect("qux", *(("server-time",) if server_time else ()))
        qux.ask("JOIN #chan")
        baz.sync()
    (echo,) = baz.ask(f"{command} #chan :hello everyone")
    assert echo.command == command
    assert echo.params == ["#chan", "hello everyone"]
    if server_time:
        assert "time" in echo.tags
    if qux is not None:
        (delivery,) = qux.sync()
        assert delivery.params == echo.params
        if server_time:
            assert "time" in delivery.tags


def test_server_time_is_utc_with_milliseconds(peers: Peers) -> None:
    dave = peers.connect("dave", "server-time")
    other = peers.connect("other")
    other.ask("PRIVMSG dave :hi")
    (got,) = dave.sync()
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", got.tags["time"])


def test_a_batch_without_the_batch_cap_never_arrives_as_batch_lines(peers: Peers) -> None:
    """labeled-response without batch: a multi-line answer comes unbatched (the spec's
    fallback), never a BATCH the client did not ask for."""
    bar = peers.connect("bar", "labeled-response")
    replies = bar.ask("@label=1 JOIN #nobatch")
    assert "BATCH" not in commands(replies)
    assert only(replies, "JOIN")
