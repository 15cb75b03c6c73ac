"""Connection registration as the irctest suite checks it on other servers: PASS, NICK,
USER, QUIT, PING/PONG, nick collisions and releases, the line length limit, lines split
across packets, and RPL_ISUPPORT, over a real socket (RFC 1459 4.1, RFC 2812 3.1,
modern.ircdocs.horse)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.conformance_support import Network, commands, one, serving, start_server

SERVER = "chatroom.local"


@pytest.fixture
def net(tmp_path: Path) -> Iterator[Network]:
    with serving(start_server(tmp_path)) as network:
        yield network


@pytest.fixture
def locked(tmp_path: Path) -> Iterator[Network]:
    """A server with the password ``testpassword`` and no MOTD."""
    with serving(start_server(tmp_path, server_password="testpassword", motd=())) as network:
        yield network


# -------------------------------------------------------------------------- PASS


def test_pass_before_nick_and_user_registers(locked: Network) -> None:
    peer = locked.raw()
    peer.send("PASS testpassword", "NICK foo", "USER username * * :Realname")
    assert peer.until("001", "464", "ERROR")[-1].command == "001"


@pytest.mark.parametrize(
    "lines",
    [
        ("NICK foo", "USER username * * :Realname"),
        ("PASS testpasswordgarbage", "NICK foo", "USER username * * :Realname"),
        ("NICK foo", "USER username * * :Realname", "PASS testpassword"),
    ],
    ids=["no-pass", "wrong-pass", "pass-after-user"],
)
def test_a_missing_wrong_or_late_password_is_464_then_error(
    locked: Network, lines: tuple[str, ...]
) -> None:
    peer = locked.raw()
    peer.send(*lines)
    replies = peer.closed_after()
    assert commands(replies) == ["464", "ERROR"]


def test_no_motd_is_422_at_the_end_of_the_welcome(locked: Network) -> None:
    peer = locked.raw()
    peer.send("PASS testpassword", "NICK foo", "USER username * * :Realname")
    assert peer.until("376", "422")[-1].command == "422"


# -------------------------------------------------------------------- NICK / USER


def test_the_welcome_burst_is_in_the_order_modern_gives(net: Network) -> None:
    peer = net.raw()
    peer.send("NICK foo", "USER username 0 * :Realname")
    burst = commands(peer.until("376"))
    assert burst[:4] == ["001", "002", "003", "004"]
    assert burst[4] == "005"
    assert burst.index("251") > max(i for i, c in enumerate(burst) if c == "005")


def test_isupport_lines_hold_at_most_13_ascii_tokens(net: Network) -> None:
    peer = net.raw()
    peer.send("NICK foo", "USER username 0 * :Realname")
    isupport = [m for m in peer.until("376") if m.command == "005"]
    assert isupport
    tokens = {}
    for line in isupport:
        assert line.params[0] == "foo"
        assert 3 <= len(line.params) <= 15
        for token in line.params[1:-1]:
            assert token.isascii()
            key, _, value = token.partition("=")
            tokens[key] = value
    assert re.fullmatch(r"\(ov\)@\+", tokens["PREFIX"])
    assert all(re.fullmatch(r"[A-Z]+:[0-9]*", part) for part in tokens["TARGMAX"].split(","))
    assert tokens["CASEMAPPING"] == "rfc1459"


def test_an_empty_realname_is_461(net: Network) -> None:
    peer = net.raw()
    peer.send("NICK foo", "USER username * * :")
    reply = peer.until("461", "001")[-1]
    assert reply.command == "461"
    assert reply.params[:2] in (("*", "USER"), ("foo", "USER"))


@pytest.mark.parametrize(("nick", "numeric"), [("*", "432"), (":", "431"), ("1abc", "432")])
def test_a_bad_nick_is_refused_and_a_good_one_then_registers(
    net: Network, nick: str, numeric: str
) -> None:
    peer = net.raw()
    peer.send(f"NICK {nick}", "USER u s e r")
    assert peer.until("431", "432", "001")[-1].command == numeric
    peer.send("NICK valid")
    assert peer.until("001", "431", "432")[-1].command == "001"


def test_registering_with_a_nick_in_use_is_433(net: Network) -> None:
    net.user("foo")
    peer = net.raw()
    peer.send("NICK FOO", "USER username * * :Realname")
    assert peer.until("433", "001")[-1].command == "433"


def test_two_clients_racing_for_one_nick_get_one_welcome(net: Network) -> None:
    first, second = net.raw(), net.raw()
    first.send("NICK foo")
    second.send("NICK foo")
    first.send("USER username * * :Realname")
    second.send("USER username * * :Realname")
    results = {first.until("001", "433")[-1].command, second.until("001", "433")[-1].command}
    assert results == {"001", "433"}


def test_a_nick_is_free_again_after_a_change_or_a_quit(net: Network) -> None:
    alice = net.user("alice")
    assert alice.ask("NICK malice")[0].params == ("malice",)
    taker = net.raw()
    taker.send("NICK alice", "USER u s e r")
    assert taker.until("001", "433")[-1].command == "001"
    taker.send("QUIT")
    taker.closed_after()
    again = net.raw()
    again.send("NICK ALICE", "USER u s e r")
    assert again.until("001", "433")[-1].command == "001"


def test_a_nick_held_by_an_unregistered_client_is_freed_by_its_quit(net: Network) -> None:
    holder = net.raw()
    holder.send("NICK alice", "QUIT")
    holder.closed_after()
    peer = net.raw()
    peer.send("NICK alice", "USER u s e r")
    assert peer.until("001", "433")[-1].command == "001"


def test_a_failed_nick_change_keeps_the_old_nick(net: Network) -> None:
    alice, bob = net.user("alice"), net.user("bob")
    assert commands(bob.ask("NICK alice")) == ["433"]
    assert alice.ask("PRIVMSG bob hi") == []
    assert [m.params for m in bob.ask()] == [("bob", "hi")]


def test_a_case_change_is_a_nick_and_a_same_nick_is_nothing(net: Network) -> None:
    alice, bob = net.user("alice"), net.user("bob")
    alice.ask("JOIN #test")
    bob.ask("JOIN #test")
    alice.ask()
    assert [m.params for m in alice.ask("NICK Alice")] == [("Alice",)]
    assert [m.params for m in bob.ask()] == [("Alice",)]
    assert alice.ask("NICK Alice") == []
    assert bob.ask() == []


def test_nicks_fold_under_rfc1459(net: Network) -> None:
    net.user("c[ar]ol")
    peer = net.user("other")
    assert commands(peer.ask("NICK C{AR}OL")) == ["433"]


def test_commands_before_registration_are_451(net: Network) -> None:
    peer = net.raw()
    peer.send("NICK foo", "PRIVMSG bar :x")
    assert peer.until("451")[-1].params[0] in ("*", "foo")


def test_user_or_pass_after_registration_is_462(net: Network) -> None:
    peer = net.user("foo")
    assert commands(peer.ask("USER a b c d", "PASS x")) == ["462", "462"]


# -------------------------------------------------------------------------- QUIT


def test_quit_is_answered_with_error_and_a_close(net: Network) -> None:
    peer = net.user("foo")
    peer.send("QUIT")
    assert commands(peer.closed_after()) == ["ERROR"]


def test_quit_reaches_the_rooms_with_its_reason(net: Network) -> None:
    bar, qux = net.user("bar"), net.user("qux")
    bar.ask("JOIN #chan")
    qux.ask("JOIN #chan")
    bar.ask()
    qux.send("QUIT :qux out")
    qux.closed_after()
    quit_line = one(bar.ask(), "QUIT")
    assert "qux out" in quit_line.params[0]
    assert quit_line.source is not None
    assert quit_line.source.startswith("qux!")


# --------------------------------------------------------------------- PING/PONG


def test_ping_is_answered_with_the_server_and_the_token(net: Network) -> None:
    peer = net.user("foo")
    peer.send("PING abcdef")
    assert peer.until("PONG")[-1].params == (SERVER, "abcdef")
    peer.send("PING :")
    assert peer.until("PONG", "409", "461")[-1].params in ((SERVER, ""), ("foo", "PING"))


def test_ping_without_a_token_is_409(net: Network) -> None:
    peer = net.user("foo")
    assert commands(peer.ask("PING")) == ["409"]


def test_ping_before_registration_is_answered(net: Network) -> None:
    peer = net.raw()
    peer.send("PING x")
    assert peer.until("PONG", "451")[-1].command == "PONG"


# ------------------------------------------------------------------ line framing


def test_a_line_of_510_bytes_is_read_and_one_of_511_is_417(net: Network) -> None:
    peer = net.user("bar")
    peer.send("PING " + "x" * 505)
    assert "x" * 450 in peer.until("PONG")[-1].params[-1]
    assert commands(peer.ask("PING " + "x" * 506)) == ["417"]
    assert peer.ask("JOIN #still_here")[0].command == "JOIN"


def test_lines_sent_a_byte_at_a_time_are_put_back_together(net: Network) -> None:
    peer = net.raw()
    for byte in "NICK bytey\r\nUSER u s e r\r\nPRIVMSG bytey :😃!\r\n".encode():
        peer.send_bytes(bytes([byte]))
    assert peer.until("PRIVMSG")[-1].params == ("bytey", "😃!")


def test_text_that_is_not_utf8_is_refused_with_fail(net: Network) -> None:
    foo, bar = net.user("foo"), net.user("bar")
    foo.send_bytes(b"PRIVMSG bar hi\xaa\r\n")
    fail = foo.until("FAIL", "PRIVMSG")[-1]
    assert fail.params[:2] == ("PRIVMSG", "INVALID_UTF8")
    assert bar.ask() == []


@pytest.mark.parametrize(
    "verb", ["USER", "MODE", "KICK", "TOPIC", "PART", "OPER", "USERHOST", "ISON", "KILL", "WHO"]
)
def test_a_command_missing_its_parameters_is_461_naming_it(net: Network, verb: str) -> None:
    peer = net.user("foo")
    replies = peer.ask(verb)
    assert [(m.command, m.params[:2]) for m in replies] == [("461", ("foo", verb))]


def test_topics_kick_comments_and_away_texts_are_cut_to_their_isupport_lengths(
    net: Network,
) -> None:
    alice, bob = net.user("alice"), net.user("bob")
    alice.ask("JOIN #t")
    bob.ask("JOIN #t")
    alice.ask()
    assert len(alice.ask("TOPIC #t :" + "x" * 400)[0].params[1]) == 390  # TOPICLEN
    bob.ask("AWAY :" + "z" * 300)  # AWAYLEN=200
    assert len(one(alice.ask("WHOIS bob"), "301").params[2]) == 200
    assert len(alice.ask("KICK #t bob :" + "y" * 300)[0].params[2]) == 255  # KICKLEN
