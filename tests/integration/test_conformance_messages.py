"""PRIVMSG and NOTICE as the irctest suite checks them on other servers: to rooms and
nicks, to targets that do not exist, empty, to several targets, case-folded, with
STATUSMSG prefixes, and the away reply, over a real socket (RFC 1459 4.4, RFC 2812 3.3,
modern.ircdocs.horse)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.conformance_support import (
    Network,
    Peer,
    commands,
    names_in,
    only,
    serving,
    start_server,
)


@pytest.fixture
def net(tmp_path: Path) -> Iterator[Network]:
    with serving(start_server(tmp_path)) as network:
        yield network


def two_in_chan(net: Network) -> tuple[Peer, Peer]:
    foo, bar = net.user("foo"), net.user("bar")
    foo.ask("JOIN #chan")
    bar.ask("JOIN #chan")
    foo.ask()
    return foo, bar


@pytest.mark.parametrize("verb", ["PRIVMSG", "NOTICE"])
def test_a_room_message_reaches_the_other_members_once(net: Network, verb: str) -> None:
    foo, bar = two_in_chan(net)
    assert foo.ask(f"{verb} #chan :hello there") == []
    relayed = only(bar.ask(), verb)
    assert [m.params for m in relayed] == [("#chan", "hello there")]
    assert relayed[0].source == "foo!~foo@127.0.0.1"


def test_a_private_message_reaches_its_nick(net: Network) -> None:
    foo, bar = net.user("foo"), net.user("bar")
    assert foo.ask("PRIVMSG bar :hey there!") == []
    assert [m.params for m in only(bar.ask(), "PRIVMSG")] == [("bar", "hey there!")]


def test_privmsg_to_nobody_is_401_or_403(net: Network) -> None:
    foo = net.user("foo")
    assert [m.params[:2] for m in foo.ask("PRIVMSG bar :hey there!")] == [("foo", "bar")]
    assert commands(foo.ask("PRIVMSG bar :x")) == ["401"]
    assert commands(foo.ask("PRIVMSG #nonexistent :hello there")) == ["403"]


@pytest.mark.parametrize("target", ["#nonexistent", "nobody"])
def test_notice_to_nobody_gets_no_reply(net: Network, target: str) -> None:
    """RFC 2812 3.3.2: servers MUST NOT send any error reply to a NOTICE."""
    foo = net.user("foo")
    assert foo.ask(f"NOTICE {target} :hello there") == []


def test_an_empty_message_is_412_and_relays_nothing(net: Network) -> None:
    foo, bar = two_in_chan(net)
    replies = foo.ask("PRIVMSG #chan :")
    assert [(m.command, m.params[0]) for m in replies] == [("412", "foo")]
    assert commands(foo.ask("PRIVMSG #chan")) == ["412"]
    assert commands(foo.ask("PRIVMSG")) == ["411"]
    assert bar.ask() == []


def test_outsiders_need_minus_n_to_write_to_a_room(net: Network) -> None:
    foo, outsider = net.user("foo"), net.user("outsider")
    foo.ask("JOIN #chan")
    assert commands(outsider.ask("PRIVMSG #chan :from outside")) == ["404"]
    foo.ask("MODE #chan -n")
    assert outsider.ask("PRIVMSG #chan :from outside") == []
    assert [m.params for m in only(foo.ask(), "PRIVMSG")] == [("#chan", "from outside")]


def test_one_message_to_several_targets_reaches_each(net: Network) -> None:
    foo, bar = two_in_chan(net)
    baz = net.user("baz")
    assert commands(foo.ask("PRIVMSG baz,#chan,zed :multi")) == ["401"]
    assert [m.params for m in only(baz.ask(), "PRIVMSG")] == [("baz", "multi")]
    assert [m.params for m in only(bar.ask(), "PRIVMSG")] == [("#chan", "multi")]


def test_targets_fold_under_rfc1459(net: Network) -> None:
    foo, bar = two_in_chan(net)
    bar.ask("NICK b[a]r")
    foo.ask()
    foo.ask("PRIVMSG #CHAN :to the room", "PRIVMSG B{A}R :to bar")
    assert [m.params for m in only(bar.ask(), "PRIVMSG")] == [
        ("#chan", "to the room"),
        ("b[a]r", "to bar"),
    ]


# ------------------------------------------------------------------------- STATUSMSG


def statusmsg_room(net: Network) -> tuple[Peer, Peer, Peer]:
    chanop, joe, schmoe = net.user("chanop"), net.user("joe"), net.user("schmoe")
    chanop.ask("JOIN #chan")
    joe.ask("JOIN #chan")
    assert names_in(schmoe.ask("join #chan")) == {"@chanop", "joe", "schmoe"}
    chanop.ask()
    joe.ask()
    return chanop, joe, schmoe


def test_statusmsg_from_an_op_reaches_the_ops_only(net: Network) -> None:
    chanop, joe, schmoe = statusmsg_room(net)
    chanop.ask("MODE #chan +o schmoe")
    joe.ask()
    schmoe.ask()
    assert schmoe.ask("privmsg @#chan :this message is for operators") == []
    relayed = only(chanop.ask(), "PRIVMSG")
    assert [m.params for m in relayed] == [("@#chan", "this message is for operators")]
    assert only(joe.ask(), "PRIVMSG") == []


def test_statusmsg_from_a_member_reaches_the_ops_only(net: Network) -> None:
    chanop, joe, schmoe = statusmsg_room(net)
    assert schmoe.ask("privmsg @#chan :this message is for operators") == []
    relayed = only(chanop.ask(), "PRIVMSG")
    assert [m.params for m in relayed] == [("@#chan", "this message is for operators")]
    assert only(joe.ask(), "PRIVMSG") == []


# ------------------------------------------------------------------------------ AWAY


def test_away_is_acknowledged_and_told_to_whoever_writes(net: Network) -> None:
    bar, qux = net.user("bar"), net.user("qux")
    assert qux.ask("PRIVMSG bar :what's up") == []
    assert commands(bar.ask("AWAY :I'm not here right now")) == ["PRIVMSG", "306"]
    replies = qux.ask("PRIVMSG bar :what's up")
    assert [(m.command, m.params) for m in replies] == [
        ("301", ("qux", "bar", "I'm not here right now"))
    ]
    assert commands(bar.ask("AWAY")) == ["PRIVMSG", "305"]
    assert qux.ask("PRIVMSG bar :what's up") == []


def test_away_shows_in_whois_and_userhost(net: Network) -> None:
    bar, qux = net.user("bar"), net.user("qux")
    assert only(qux.ask("WHOIS bar"), "301") == []
    assert qux.ask("USERHOST bar")[0].params[1].startswith("bar=+")
    bar.ask("AWAY :I'm not here right now")
    away = only(qux.ask("WHOIS bar"), "301")
    assert [m.params for m in away] == [("qux", "bar", "I'm not here right now")]
    assert qux.ask("USERHOST bar")[0].params[1].startswith("bar=-")


@pytest.mark.parametrize(
    "case",
    ["empty", "no-text", "no-target", "outsider", "moderated", "banned", "ctcp", "too-many"],
)
def test_a_notice_that_cannot_be_delivered_gets_no_error(net: Network, case: str) -> None:
    """RFC 2812 3.3.2: automatic replies MUST NEVER be sent in response to a NOTICE."""
    chanop, bob, outsider = net.user("chanop"), net.user("bob"), net.user("outsider")
    chanop.ask("JOIN #n")
    bob.ask("JOIN #n")
    line = {
        "empty": "NOTICE #n :",
        "no-text": "NOTICE #n",
        "no-target": "NOTICE",
        "outsider": "NOTICE #n :hi",
        "moderated": "NOTICE #n :hi",
        "banned": "NOTICE #n :hi",
        "ctcp": "NOTICE #n :\x01VERSION\x01",
        "too-many": "NOTICE a,b,c,d,e,f :hi",
    }[case]
    chanop.ask({"moderated": "MODE #n +m", "banned": "MODE #n +b bob!*@*"}.get(case, "MODE #n +C"))
    bob.ask()
    sender = outsider if case == "outsider" else bob
    assert sender.ask(line) == []
