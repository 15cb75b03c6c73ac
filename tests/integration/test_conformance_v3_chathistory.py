"""draft/chathistory over TCP: every subcommand with msgid and timestamp selectors, the
limits, TARGETS, private conversations and event-playback, as irctest checks them."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.conformance_v3_support import (
    Msg,
    Peer,
    Peers,
    accounts_config,
    batch_body,
    only,
    serving,
)

HISTORY = ("message-tags", "server-time", "echo-message", "batch", "labeled-response")
CH = "draft/chathistory"
PLAYBACK = "draft/event-playback"
CB = "chathistory"

# sender nick, command, params, msgid, time: what a history line shares with the live one
Key = tuple[str, str, tuple[str, ...], str, str]


@pytest.fixture
def peers(tmp_path: Path) -> Iterator[Peers]:
    with serving(accounts_config(tmp_path, "foo", "bar", "baz")) as made:
        yield made


def _key(msg: Msg) -> Key:
    """What a history line and the live line must share."""
    return (msg.nick, msg.command, tuple(msg.params), msg.tags["msgid"], msg.tags["time"])


def _history(peer: Peer, request: str, target: str) -> list[Key]:
    replies = peer.ask(request)
    start, inside, _ = batch_body(replies, "chathistory")
    assert start.params[2:] == [target]
    return [_key(m) for m in inside if m.command in ("PRIVMSG", "NOTICE", "TOPIC", "TAGMSG")]


def _say(peer: Peer, target: str, texts: list[str]) -> list[Key]:
    """Send each text (an echo comes back), a few ms apart so every time differs."""
    sent = []
    for text in texts:
        replies = peer.ask(f"PRIVMSG {target} :{text}")
        (echo,) = [m for m in replies if m.nick == peer.nick and m.params == [target, text]]
        sent.append(_key(echo))
        time.sleep(0.005)
    return sent


@pytest.fixture
def room(peers: Peers) -> tuple[Peer, list[Key]]:
    bar = peers.connect("bar", *HISTORY, CH)
    bar.ask("JOIN #chan")
    sent = _say(bar, "#chan", [f"this is message {i}" for i in range(10)])
    assert len({m[3] for m in sent}) == 10
    assert len({m[4] for m in sent}) == 10
    return bar, sent


def test_latest_with_star_msgid_and_timestamp(room: tuple[Peer, list[Key]]) -> None:
    bar, sent = room
    assert _history(bar, "CHATHISTORY LATEST #chan * 20", "#chan") == sent
    assert _history(bar, "CHATHISTORY LATEST #chan * 5", "#chan") == sent[-5:]
    assert _history(bar, "CHATHISTORY LATEST #chan * 1", "#chan") == sent[-1:]
    assert _history(bar, f"CHATHISTORY LATEST #chan msgid={sent[4][3]} 20", "#chan") == sent[5:]
    assert _history(bar, f"CHATHISTORY LATEST #chan timestamp={sent[4][4]} 20", "#chan") == sent[5:]


def test_before_excludes_the_reference_and_keeps_the_newest(
    room: tuple[Peer, list[Key]],
) -> None:
    bar, sent = room
    assert _history(bar, f"CHATHISTORY BEFORE #chan msgid={sent[6][3]} 20", "#chan") == sent[:6]
    assert _history(bar, f"CHATHISTORY BEFORE #chan timestamp={sent[6][4]} 20", "#chan") == sent[:6]
    assert _history(bar, f"CHATHISTORY BEFORE #chan timestamp={sent[6][4]} 2", "#chan") == sent[4:6]


def test_after_excludes_the_reference_and_keeps_the_oldest(
    room: tuple[Peer, list[Key]],
) -> None:
    bar, sent = room
    assert _history(bar, f"CHATHISTORY AFTER #chan msgid={sent[3][3]} 20", "#chan") == sent[4:]
    assert _history(bar, f"CHATHISTORY AFTER #chan timestamp={sent[3][4]} 20", "#chan") == sent[4:]
    assert _history(bar, f"CHATHISTORY AFTER #chan timestamp={sent[3][4]} 3", "#chan") == sent[4:7]


@pytest.mark.parametrize("kind", ["msgid", "timestamp"])
def test_between_works_both_ways_and_the_limit_counts_from_the_first_reference(
    room: tuple[Peer, list[Key]], kind: str
) -> None:
    bar, sent = room
    col = 3 if kind == "msgid" else 4
    first, last = f"{kind}={sent[0][col]}", f"{kind}={sent[-1][col]}"
    assert _history(bar, f"CHATHISTORY BETWEEN #chan {first} {last} 20", "#chan") == sent[1:-1]
    assert _history(bar, f"CHATHISTORY BETWEEN #chan {last} {first} 20", "#chan") == sent[1:-1]
    assert _history(bar, f"CHATHISTORY BETWEEN #chan {first} {last} 3", "#chan") == sent[1:4]
    assert _history(bar, f"CHATHISTORY BETWEEN #chan {last} {first} 3", "#chan") == sent[-4:-1]


def test_around_centres_on_the_reference(room: tuple[Peer, list[Key]]) -> None:
    bar, sent = room
    assert _history(bar, f"CHATHISTORY AROUND #chan msgid={sent[7][3]} 1", "#chan") == [sent[7]]
    assert _history(bar, f"CHATHISTORY AROUND #chan msgid={sent[7][3]} 3", "#chan") == sent[6:9]
    around = _history(bar, f"CHATHISTORY AROUND #chan timestamp={sent[7][4]} 3", "#chan")
    assert sent[7] in around


def test_the_limit_is_capped_at_the_isupport_value_and_refusals_are_standard_replies(
    room: tuple[Peer, list[Key]],
) -> None:
    bar, _ = room
    assert len(_history(bar, "CHATHISTORY LATEST #chan * 100000", "#chan")) == 10
    for request, code in [
        ("CHATHISTORY LATEST #chan * 0x10", "INVALID_PARAMS"),
        ("CHATHISTORY LATEST #chan msgid 10", "INVALID_PARAMS"),
        ("CHATHISTORY LATEST #chan", "NEED_MORE_PARAMS"),
        ("CHATHISTORY FROB #chan * 10", "UNKNOWN_COMMAND"),
    ]:
        fail = only(bar.ask(request), "FAIL")
        assert fail, request
        assert fail[0].params[:2] == ["CHATHISTORY", code], request


def test_a_room_one_is_not_in_or_that_does_not_exist_is_an_invalid_target(
    peers: Peers,
) -> None:
    bar = peers.connect("bar", *HISTORY, CH, account="bar")
    qux = peers.connect("qux")
    qux.ask("JOIN #real_channel")
    for target in ("#nonexistent_channel", "#real_channel"):
        (fail,) = only(bar.ask(f"CHATHISTORY LATEST {target} * 10"), "FAIL")
        assert fail.params[:4] == ["CHATHISTORY", "INVALID_TARGET", "LATEST", target]


def test_without_event_playback_a_room_history_holds_messages_only(peers: Peers) -> None:
    bar = peers.connect("bar", *HISTORY, CH)
    bar.ask("JOIN #chan")
    for i in range(3):
        bar.ask(f"TOPIC #chan :this is topic {i}", f"PRIVMSG #chan :this is message {i}")
    _, inside, _ = batch_body(bar.ask("CHATHISTORY LATEST #chan * 100"), "chathistory")
    assert {m.command for m in inside} == {"PRIVMSG"}
    assert len(inside) == 3


def test_with_event_playback_topics_come_back_in_order_with_the_messages(
    peers: Peers,
) -> None:
    bar = peers.connect("bar", *HISTORY, CH, PLAYBACK)
    bar.ask("JOIN #chan")
    live = []
    for i in range(3):
        live += [_key(m) for m in bar.ask(f"TOPIC #chan :this is topic {i}")]
        live += [_key(m) for m in bar.ask(f"PRIVMSG #chan :this is message {i}")]
        time.sleep(0.005)
    got = _history(bar, "CHATHISTORY LATEST #chan * 100", "#chan")
    assert got == live


def test_a_tagmsg_is_relayed_live_but_kept_in_no_history(peers: Peers) -> None:
    """ChatRoom's choice (docs/commands.md): TAGMSGs (typing notices, reactions) are not
    kept, so CHATHISTORY never returns one, event-playback or not. irctest expects them
    with event-playback; Ergo keeps only the tags its operator lists."""
    foo = peers.connect("foo", *HISTORY, CH, PLAYBACK, account="foo")
    bar = peers.connect("bar", *HISTORY, CH, account="bar")
    foo.ask("JOIN #chan")
    bar.ask("JOIN #chan")
    foo.sync()
    (echo,) = foo.ask("@+client-only-tag-test=success;+draft/persist TAGMSG #chan")
    (relay,) = bar.sync()
    assert relay.tags["msgid"] == echo.tags["msgid"]
    assert relay.tags["+client-only-tag-test"] == "success"
    for peer in (foo, bar):
        assert only(peer.ask("CHATHISTORY LATEST #chan * 10"), "TAGMSG") == []


@pytest.mark.parametrize("sub", ["LATEST", "BEFORE", "AFTER", "BETWEEN", "AROUND"])
def test_a_private_conversation_is_the_same_history_for_both_accounts(
    peers: Peers, sub: str
) -> None:
    foo = peers.connect("foo", *HISTORY, CH, account="foo")
    bar = peers.connect("bar", *HISTORY, CH, account="bar")
    sent = []
    for i in range(10):
        speaker, target = (foo, "bar") if i % 2 == 0 else (bar, "foo")
        sent += _say(speaker, target, [f"this is message {i}"])
    foo.sync()
    bar.sync()
    for peer, other in ((foo, "bar"), (bar, "foo"), (bar, "FOO")):
        requests = {
            "LATEST": (f"LATEST {other} * 20", sent),
            "BEFORE": (f"BEFORE {other} msgid={sent[6][3]} 20", sent[:6]),
            "AFTER": (f"AFTER {other} timestamp={sent[3][4]} 3", sent[4:7]),
            "BETWEEN": (f"BETWEEN {other} msgid={sent[-1][3]} msgid={sent[0][3]} 3", sent[-4:-1]),
            "AROUND": (f"AROUND {other} msgid={sent[7][3]} 3", sent[6:9]),
        }
        request, expected = requests[sub]
        replies = peer.ask(f"CHATHISTORY {request}")
        _, inside, _ = batch_body(replies, "chathistory")
        assert [_key(m) for m in inside] == expected, (peer.nick, request)


def test_a_separate_conversation_stays_out_and_a_later_account_of_that_nick_sees_nothing(
    peers: Peers,
) -> None:
    foo = peers.connect("foo", *HISTORY, CH, account="foo")
    bar = peers.connect("bar", *HISTORY, CH, account="bar")
    _say(foo, "bar", ["between foo and bar"])
    bar.sync()
    guest = peers.connect("baz", *HISTORY, CH)
    _say(foo, "baz", ["this is a message in a separate conversation"])
    _say(guest, "foo", ["i agree that this is a separate conversation"])
    foo.sync()
    texts = [m.params[1] for m in batch_body(foo.ask("CHATHISTORY LATEST baz * 10"), CB)[1]]
    assert texts == [
        "this is a message in a separate conversation",
        "i agree that this is a separate conversation",
    ]
    texts = [m.params[1] for m in batch_body(foo.ask("CHATHISTORY LATEST bar * 10"), CB)[1]]
    assert texts == ["between foo and bar"]
    guest.send("QUIT")
    guest.until("ERROR")
    guest.close()
    # the account baz, logging in later, does not inherit what the guest "baz" said
    baz = peers.connect("baz", *HISTORY, CH, account="baz")
    assert batch_body(baz.ask("CHATHISTORY LATEST foo * 10"), CB)[1] == []


def test_messages_to_oneself_are_one_conversation_echo_or_not(peers: Peers) -> None:
    bar = peers.connect("bar", "batch", "labeled-response", "message-tags", "server-time", CH)
    kept = []
    (delivery,) = only(bar.ask("PRIVMSG bar :this is a privmsg sent to myself"), "PRIVMSG")
    kept.append(_key(delivery))
    bar.ask("CAP REQ echo-message")
    both = only(bar.ask("PRIVMSG bar :this is a second privmsg sent to myself"), "PRIVMSG")
    assert len(both) == 2
    assert _key(both[0]) == _key(both[1])
    kept.append(_key(both[0]))
    both = only(bar.ask("@label=xyz PRIVMSG bar :a third one"), "PRIVMSG")
    assert [m.tags.get("label") for m in both].count("xyz") == 1
    kept.append(_key(both[0]))
    got = [_key(m) for m in only(bar.ask("CHATHISTORY LATEST bar * 10"), "PRIVMSG")]
    assert got == kept


def test_targets_lists_conversations_by_their_latest_message_inside_the_window(
    peers: Peers,
) -> None:
    foo = peers.connect("foo", *HISTORY, CH, account="foo")
    peers.connect("bar", *HISTORY, CH, account="bar")
    foo.ask("JOIN #one", "JOIN #two")
    first = _say(foo, "#one", ["one"])[0]
    time.sleep(0.005)
    middle = _say(foo, "bar", ["to bar"])[0]
    time.sleep(0.005)
    last = _say(foo, "#two", ["two"])[0]
    before = "timestamp=2000-01-01T00:00:00.000Z"
    after = "timestamp=2100-01-01T00:00:00.000Z"
    replies = foo.ask(f"CHATHISTORY TARGETS {before} {after} 10")
    start, inside, _ = batch_body(replies, "draft/chathistory-targets")
    assert [m.params for m in inside] == [
        ["TARGETS", "#one", first[4]],
        ["TARGETS", "bar", middle[4]],
        ["TARGETS", "#two", last[4]],
    ]
    assert {m.command for m in inside} == {"CHATHISTORY"}
    # the window is exclusive, either order, and the limit keeps the oldest
    replies = foo.ask(f"CHATHISTORY TARGETS timestamp={last[4]} timestamp={first[4]} 10")
    _, inside, _ = batch_body(replies, "draft/chathistory-targets")
    assert [m.params[1] for m in inside] == ["bar"]
    _, inside, _ = batch_body(foo.ask(f"CHATHISTORY TARGETS {before} {after} 1"), start.params[1])
    assert [m.params[1] for m in inside] == ["#one"]


def test_without_the_batch_cap_no_batch_is_ever_sent(peers: Peers) -> None:
    """A client that negotiated draft/chathistory but not batch gets the lines bare (the
    fault Ergo fixed for TARGETS in its issue 2066)."""
    nb = peers.connect("nb", CH)
    nb.ask("JOIN #q", "PRIVMSG #q :hello")
    window = "timestamp=2000-01-01T00:00:00.000Z timestamp=2100-01-01T00:00:00.000Z"
    replies = nb.ask("CHATHISTORY LATEST #q * 10", f"CHATHISTORY TARGETS {window} 10")
    assert "BATCH" not in [m.command for m in replies]
    assert [m.params[:2] for m in only(replies, "PRIVMSG")] == [["#q", "hello"]]
    assert [m.params[:2] for m in only(replies, "CHATHISTORY")] == [["TARGETS", "#q"]]


def test_event_playback_gives_back_every_room_event_as_members_saw_it(peers: Peers) -> None:
    bar = peers.connect("bar", *HISTORY, CH, PLAYBACK, "extended-join")
    bar.ask("JOIN #ev")
    other = peers.connect("other")
    live = []
    for line in ("JOIN #ev", "PART #ev :bye", "JOIN #ev"):
        other.ask(line)
        live += bar.sync()
    for line in ("TOPIC #ev :tt", "MODE #ev +m", "NICK bar2", "NICK bar", "KICK #ev other :out"):
        live += bar.ask(line)
    other.ask("JOIN #ev")
    live += bar.sync()
    other.send("QUIT :gone")
    other.until("ERROR")
    live += bar.sync()
    events = [_key(m) for m in live if m.command not in ("353", "366", "NOTICE")]
    assert [k[1] for k in events] == [
        "JOIN", "PART", "JOIN", "TOPIC", "MODE", "NICK", "NICK", "KICK", "JOIN", "QUIT",
    ]  # fmt: skip
    after = batch_body(bar.ask(f"CHATHISTORY AFTER #ev msgid={events[0][3]} 100"), CB)[1]
    everything = [
        _key(m)
        for m in batch_body(bar.ask("CHATHISTORY LATEST #ev * 100"), CB)[1]
        if m.command != "PRIVMSG"
    ]
    assert everything[-len(events) :] == events
    assert [_key(m) for m in after] == events[1:]


def test_a_labeled_chathistory_nests_its_batch_in_the_labeled_batch(
    room: tuple[Peer, list[Key]],
) -> None:
    bar, sent = room
    replies = bar.ask("@label=c1 CHATHISTORY LATEST #chan * 3")
    outer, inner_lines, outer_end = batch_body(replies, "labeled-response")
    assert outer.tags["label"] == "c1"
    assert replies[0] is outer
    assert replies[-1] is outer_end
    inner_start, inside, inner_end = batch_body(replies, "chathistory")
    assert inner_start.tags["batch"] == outer.params[0][1:]
    assert inner_end.tags["batch"] == outer.params[0][1:]
    assert [_key(m) for m in inside] == sent[-3:]
    assert [m.command for m in inner_lines] == ["BATCH", "BATCH"]


def test_a_guest_holding_an_accounts_nick_sees_none_of_its_conversations(
    peers: Peers,
) -> None:
    foo = peers.connect("foo", *HISTORY, CH, account="foo")
    bar = peers.connect("bar", *HISTORY, CH, account="bar")
    _say(bar, "foo", ["secret for foo"])
    _say(foo, "bar", ["secret for bar"])
    foo.send("QUIT")
    foo.until("ERROR")
    impostor = peers.connect("foo", *HISTORY, CH)  # unidentified, inside the grace period
    assert batch_body(impostor.ask("CHATHISTORY LATEST bar * 10"), CB)[1] == []
    window = "timestamp=2000-01-01T00:00:00.000Z timestamp=2100-01-01T00:00:00.000Z"
    replies = impostor.ask(f"CHATHISTORY TARGETS {window} 10")
    assert batch_body(replies, "draft/chathistory-targets")[1] == []
