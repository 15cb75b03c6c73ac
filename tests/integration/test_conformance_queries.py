"""Classic queries as the irctest suite checks them on other servers: WHO/WHOX, WHOIS,
WHOWAS, AWAY, USERHOST, LUSERS, the server queries (INFO, VERSION, TIME, ADMIN, MOTD,
HELP), KILL and WALLOPS, over a real socket (RFC 1459/2812, modern.ircdocs.horse)."""

from __future__ import annotations

import base64
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.conformance_support import (
    Network,
    Peer,
    commands,
    one,
    only,
    serving,
    start_server,
)
from tests.integration.moderation_support import PASSWORD, config_with_accounts
from tests.realserver import ServerThread

SERVER = "chatroom.local"


@pytest.fixture
def net(tmp_path: Path) -> Iterator[Network]:
    with serving(start_server(tmp_path)) as network:
        yield network


@pytest.fixture
def opers(tmp_path: Path) -> Iterator[Network]:
    """A server whose store holds the operator account ``admin`` and the account ``val``."""
    with serving(ServerThread(config_with_accounts(tmp_path, "val")).start()) as network:
        yield network


def quit_now(net: Network, nick: str, username: str) -> None:
    peer = net.user(nick, username)
    peer.send("QUIT :bye")
    peer.closed_after()


# ------------------------------------------------------------------------------- WHO


def who_pair(net: Network) -> tuple[Peer, Peer]:
    cool = net.user("coolNick", "myusernam", "My UniqueReal Name")
    other = net.user("otherNick")
    cool.ask("JOIN #chan")
    other.ask("JOIN #chan")
    return cool, other


@pytest.mark.parametrize("mask", ["coolNick", "coolnick", "coolni*"])
def test_who_a_nick_or_mask_answers_one_reply_and_echoes_the_mask(net: Network, mask: str) -> None:
    _, other = who_pair(net)
    replies = other.ask(f"WHO {mask}")
    assert commands(replies) == ["352", "315"]
    assert replies[0].params == (
        "otherNick",
        "#chan",
        "~myusernam",
        "127.0.0.1",
        SERVER,
        "coolNick",
        "H@",
        "0 My UniqueReal Name",
    )
    assert replies[1].params[:2] == ("otherNick", mask)


def test_who_shows_away_as_g_and_operators_with_a_star(opers: Network) -> None:
    cool = opers.user("coolNick")
    other = opers.user("otherNick")
    cool.ask(f"OPER admin {PASSWORD}", "AWAY :be right back")
    reply = one(other.ask("WHO coolNick"), "352")
    assert reply.params[6] == "G*"


@pytest.mark.parametrize("mask", ["#chan", "#CHAN"])
def test_who_a_channel_lists_its_members_under_that_channel(net: Network, mask: str) -> None:
    cool, other = who_pair(net)
    cool.ask("JOIN #otherchan")
    other.ask("JOIN #otherchan")
    replies = other.ask(f"WHO {mask}")
    assert commands(replies) == ["352", "352", "315"]
    assert {m.params[1] for m in replies[:2]} == {"#chan"}
    assert sorted(m.params[5] for m in replies[:2]) == ["coolNick", "otherNick"]
    assert replies[2].params[1] == mask
    in_other = other.ask("WHO #otherchan")
    assert {m.params[1] for m in only(in_other, "352")} == {"#otherchan"}


def test_who_of_a_nick_nobody_has_is_only_the_end(net: Network) -> None:
    peer = net.user("otherNick")
    replies = peer.ask("WHO idontexist")
    assert [(m.command, m.params[1]) for m in replies] == [("315", "idontexist")]


def test_who_masks_skip_invisible_users_unless_a_channel_is_shared(net: Network) -> None:
    evan = net.user("evan")
    evan.ask("MODE evan +i")
    shiv = net.user("shivaram")
    assert commands(shiv.ask("WHO eva*")) == ["315"]
    assert commands(shiv.ask("WHO evan")) == ["352", "315"]  # a plain nick still answers
    evan.ask("JOIN #test")
    shiv.ask("JOIN #test")
    assert commands(shiv.ask("WHO eva*")) == ["352", "315"]


def test_whox_answers_every_field_in_the_order_of_the_spec(net: Network) -> None:
    _, other = who_pair(net)
    for fields in ("%tcuihsnfdlaor,123", "%roalfdnshiuct,123"):
        replies = other.ask(f"WHO coolNick {fields}")
        assert commands(replies) == ["354", "315"]
        params = replies[0].params
        assert params[:4] == ("otherNick", "123", "#chan", "~myusernam")
        assert params[5:9] == ("127.0.0.1", SERVER, "coolNick", "H@")
        assert re.fullmatch(r"[0-9]+", params[10])  # seconds idle
        assert params[11] == "0"  # no account
        assert params[13] == "My UniqueReal Name"


def test_whox_token_and_account_fields(opers: Network) -> None:
    val = opers.raw()
    val.send("CAP LS 302", "CAP REQ :sasl", "AUTHENTICATE PLAIN")
    val.until("AUTHENTICATE")
    plain = base64.b64encode(f"val\0val\0{PASSWORD}".encode()).decode()
    val.send(f"AUTHENTICATE {plain}", "NICK coolNick", "USER u 0 * :Real", "CAP END")
    val.until("376")
    guest = opers.user("guest")
    other = opers.user("otherNick")
    assert other.ask("WHO coolNick %tn,321")[0].params == ("otherNick", "321", "coolNick")
    assert other.ask("WHO coolNick %na")[0].params == ("otherNick", "coolNick", "val")
    assert other.ask("WHO guest %na")[0].params == ("otherNick", "guest", "0")
    guest.close()


# ----------------------------------------------------------------------------- WHOIS


@pytest.mark.parametrize("server", ["", SERVER, "coolNick"])
def test_whois_starts_with_the_user_line_with_or_without_a_server(
    net: Network, server: str
) -> None:
    net.user("coolNick", "myusernam", "My User Name")
    other = net.user("otherNick")
    replies = other.ask(f"WHOIS {server} coolNick".replace("  ", " "))
    assert replies[0].command == "311"
    assert replies[0].params == (
        "otherNick",
        "coolNick",
        "~myusernam",
        "127.0.0.1",
        "*",
        "My User Name",
    )
    assert replies[-1].command == "318"


def test_whois_sends_only_numerics_the_modern_spec_lists(opers: Network) -> None:
    """modern.ircdocs.horse/#whois-message: 301 with the away text, 319 with prefixes,
    312 naming this server, 317 with two numbers, 313 for an operator, 318 last."""
    allowed = {"301", "311", "312", "313", "317", "318", "319", "330", "338", "378", "671"}
    asker = opers.user("nick1")
    nick2 = opers.user("nick2")
    nick2.ask("JOIN #chan1", "JOIN #chan2", "AWAY :I'm on a break", f"OPER admin {PASSWORD}")
    replies = asker.ask("WHOIS nick2")
    assert replies[-1].command == "318"
    assert set(commands(replies)) <= allowed
    assert one(replies, "301").params == ("nick1", "nick2", "I'm on a break")
    assert one(replies, "319").params[2] in ("@#chan1 @#chan2", "@#chan2 @#chan1")
    assert one(replies, "312").params[2] == SERVER
    assert re.fullmatch(r"[0-9]+", one(replies, "317").params[2])
    assert one(replies, "313").params[1] == "nick2"


def test_whois_hides_an_invisible_users_rooms_unless_shared(net: Network) -> None:
    """modern.ircdocs.horse (+i): an invisible user is left out of WHO and NAMES for
    those who share no room with it, and servers may hide its rooms from WHOIS too;
    ChatRoom does, or WHOIS would show what NAMES hides (irctest's Ergo check)."""
    user_one, user_two = net.user("userOne"), net.user("userTwo")
    user_one.ask("JOIN #xyz", "JOIN #other")
    assert "319" in commands(user_two.ask("WHOIS userOne"))
    assert [m.params for m in user_one.ask("MODE userOne +i")] == [("userOne", "+i")]
    assert "319" not in commands(user_two.ask("WHOIS userOne"))
    user_two.ask("JOIN #xyz")
    shared = one(user_two.ask("WHOIS userOne"), "319")
    assert shared.params[2] == "@#xyz"  # the shared room only
    assert one(user_one.ask("WHOIS userOne"), "319").params[2] == "@#xyz @#other"
    user_two.ask("PART #xyz")
    user_one.ask("MODE userOne -i")
    assert "319" in commands(user_two.ask("WHOIS userOne"))


def test_whois_of_nobody_is_401_then_the_end(net: Network) -> None:
    peer = net.user("asker")
    assert commands(peer.ask("WHOIS zed")) == ["401", "318"]
    assert commands(peer.ask("WHOIS")) == ["431"]


# ---------------------------------------------------------------------------- WHOWAS


def test_whowas_lists_a_nick_that_quit(net: Network) -> None:
    asker = net.user("nick1")
    quit_now(net, "nick2", "username")
    replies = asker.ask("WHOWAS nick2")
    assert commands(replies) == ["314", "312", "369"]
    assert replies[0].params == ("nick1", "nick2", "~username", "127.0.0.1", "*", "Real Name")
    assert replies[1].params[2] == SERVER
    assert replies[2].params[:2] == ("nick1", "nick2")


@pytest.mark.parametrize(("count", "entries"), [("", 2), ("1", 1), ("2", 2), ("0", 2), ("-1", 2)])
def test_whowas_gives_the_most_recent_first_up_to_a_positive_count(
    net: Network, count: str, entries: int
) -> None:
    asker = net.user("nick1")
    quit_now(net, "nick2", "ident2")
    quit_now(net, "nick2", "ident3")
    users = [m.params[2] for m in only(asker.ask(f"WHOWAS nick2 {count}".strip()), "314")]
    assert users == ["~ident3", "~ident2"][:entries]


def test_whowas_of_an_unknown_nick_is_406_then_369(net: Network) -> None:
    asker = net.user("nick1")
    replies = asker.ask("WHOWAS nick2")
    assert [(m.command, m.params[1]) for m in replies] == [("406", "nick2"), ("369", "nick2")]


@pytest.mark.parametrize("targets", ["nick2,nick3", "nick3,nick2"])
def test_whowas_of_several_nicks_is_one_list_newest_first_with_one_end(
    net: Network, targets: str
) -> None:
    """RFC 2812 3.6.3 (TARGMAX advertises WHOWAS with no limit): the history is searched
    backward, newest entry first, and one RPL_ENDOFWHOWAS ends the whole reply."""
    asker = net.user("nick1")
    quit_now(net, "nick2", "ident2")
    quit_now(net, "nick3", "ident3")
    replies = asker.ask(f"WHOWAS {targets}")
    assert [m.params[1] for m in only(replies, "314")] == ["nick3", "nick2"]
    assert only(replies, "369") == [replies[-1]]
    assert replies[-1].params[:2] == ("nick1", targets)


def test_whowas_of_several_nicks_says_406_for_each_unknown_one(net: Network) -> None:
    asker = net.user("nick1")
    quit_now(net, "nick2", "ident2")
    replies = asker.ask("WHOWAS nick2,zed")
    assert [m.params[1] for m in only(replies, "406")] == ["zed"]
    assert commands(replies)[-1] == "369"
    assert len(only(replies, "369")) == 1


# ---------------------------------------------------------------------------- LUSERS


def lusers(peer: Peer) -> dict[str, tuple[str, ...]]:
    replies = peer.ask("LUSERS")
    by_numeric = {m.command: m.params for m in replies}
    assert len(by_numeric) == len(replies), "a numeric came twice"
    assert {params[0] for params in by_numeric.values()} == {peer.nick}
    return by_numeric


def counts(text: str) -> list[int]:
    return [int(number) for number in re.findall(r" (-?[0-9]+) ", f" {text} ")]


def test_lusers_counts_users_unregistered_connections_and_the_peak(net: Network) -> None:
    bar = net.user("bar")
    first = lusers(bar)
    visible, invisible, servers = counts(first["251"][1])
    assert (visible + invisible, servers) == (1, 1)
    assert first["265"][1:3] == ("1", "1")
    assert first["266"][1:3] == ("1", "1")
    assert counts(first["255"][1])[0] == 1
    half = net.raw()
    half.send("NICK qux", "PING x")
    half.until("PONG")
    assert lusers(bar)["253"][1] == "1"
    half.send("USER u s e r")
    half.until("376")
    both = lusers(bar)
    assert "253" not in both  # none left: left out, as modern docs give it a positive count
    assert both["265"][1:3] == ("2", "2")
    half.send("QUIT")
    half.closed_after()
    after = lusers(bar)
    assert after["265"][1:3] == ("1", "2")
    assert after["266"][1:3] == ("1", "2")


def test_lusers_counts_invisible_users_and_operators(opers: Network) -> None:
    """The invisible count is refreshed by the server's tick (about once a second, so
    that LUSERS stays O(1)): the test waits for it; the total is always exact."""
    bar = opers.user("bar")
    bar.ask("MODE bar +i")
    deadline = time.monotonic() + 10
    while counts(lusers(bar)["251"][1])[:2] != [0, 1]:
        assert time.monotonic() < deadline, "the invisible count never caught up"
        time.sleep(0.2)
    bar.ask(f"OPER admin {PASSWORD}")
    assert lusers(bar)["252"][1] == "1"
    bar.ask("MODE bar -o")
    assert "252" not in lusers(bar)  # no operator: left out


# ----------------------------------------------------------- server and user queries


@pytest.mark.parametrize("query", ["INFO", "VERSION", "TIME", "ADMIN", "MOTD"])
def test_server_queries_answer_and_refuse_another_server_with_402(net: Network, query: str) -> None:
    peer = net.user("nick")
    answer = peer.ask(query)
    assert answer
    assert all(m.params[0] == "nick" for m in answer if m.command.isdigit())
    refused = peer.ask(f"{query} invalid.server.example")
    assert [(m.command, m.params[1]) for m in refused] == [("402", "invalid.server.example")]


def test_info_is_info_lines_then_the_end(net: Network) -> None:
    peer = net.user("nick")
    replies = peer.ask("INFO")
    assert set(commands(replies[:-1])) == {"371"}
    assert replies[-1].command == "374"


@pytest.mark.parametrize("verb", ["HELP", "HELPOP"])
def test_help_is_start_text_end_and_524_for_an_unknown_subject(net: Network, verb: str) -> None:
    peer = net.user("nick")
    for subject, expected in (("", "*"), (" PRIVMSG", "PRIVMSG"), (" privmsg", "PRIVMSG")):
        replies = peer.ask(f"{verb}{subject}")
        assert replies[0].command == "704"
        assert replies[-1].command == "706"
        assert set(commands(replies[1:-1])) <= {"705"}
        assert {m.params[1] for m in replies} == {expected}
    unknown = peer.ask(f"{verb} THISISNOTACOMMAND")
    assert [(m.command, m.params[1]) for m in unknown] == [("524", "THISISNOTACOMMAND")]


def test_user_modes_query_set_and_refusals(net: Network) -> None:
    alice = net.user("alice")
    net.user("bob")
    assert alice.ask("MODE alice")[0].command == "221"
    assert [m.params for m in alice.ask("MODE alice +i")] == [("alice", "+i")]
    assert alice.ask("MODE alice")[0].params[1] == "+i"
    assert commands(alice.ask("MODE bob", "MODE bob +i")) == ["502", "502"]
    assert commands(alice.ask("MODE alice +Z")) == ["501"]
    assert alice.ask("MODE alice +o") == []  # one cannot make oneself an operator
    assert commands(alice.ask("MODE zed")) == ["401"]


# ------------------------------------------------------------------- KILL, WALLOPS


def test_kill_needs_an_operator_and_closes_the_victim(opers: Network) -> None:
    ircop, alice, bob = opers.user("ircop"), opers.user("alice"), opers.user("bob")
    assert "381" in commands(ircop.ask(f"OPER admin {PASSWORD}"))
    assert commands(alice.ask("KILL bob :some arbitrary reason")) == ["481"]
    assert commands(alice.ask("KILL alice :some arbitrary reason")) == ["481"]
    assert bob.ask() == []
    ircop.ask("KILL alice :some arbitrary reason")
    assert commands(alice.closed_after())[-1] == "ERROR"
    ircop.ask("KILL bob")  # no reason given: still a kill
    assert commands(bob.closed_after())[-1] == "ERROR"
    assert commands(ircop.ask("KILL zed :x", "KILL")) == ["401", "461"]


def test_wallops_reach_plus_w_users_and_need_an_operator(opers: Network) -> None:
    ircop, carol, dave = opers.user("ircop"), opers.user("carol"), opers.user("dave")
    assert commands(carol.ask("WALLOPS :x")) == ["481"]
    carol.ask("MODE carol +w")
    ircop.ask(f"OPER admin {PASSWORD}", "WALLOPS :hello all")
    assert [m.params for m in only(carol.ask(), "WALLOPS")] == [("hello all",)]
    assert only(dave.ask(), "WALLOPS") == []


# ------------------------------------------------------------------------ OPER, LINKS


def test_oper_success_is_381_and_mode_plus_o(opers: Network) -> None:
    baz = opers.user("baz")
    replies = baz.ask(f"OPER admin {PASSWORD}")
    assert one(replies, "381").params[0] == "baz"
    assert [m.params for m in only(replies, "MODE")] == [("baz", "+o")]


@pytest.mark.parametrize(
    ("line", "numeric"),
    [
        ("OPER admin nottheoperpassword", "464"),
        ("OPER admin", "461"),
        ("OPER notanoperuser somepassword", "464"),
        (f"OPER val {PASSWORD}", "491"),  # a real account that is no operator
    ],
)
def test_oper_failures_get_one_numeric_and_no_381(opers: Network, line: str, numeric: str) -> None:
    baz = opers.user("baz")
    replies = baz.ask(line)
    assert numeric in commands(replies)
    assert "381" not in commands(replies)
    assert all(m.params[0] == "baz" for m in replies if m.command.isdigit())


def test_links_lists_this_server_alone(net: Network) -> None:
    peer = net.user("nick")
    replies = peer.ask("LINKS")
    assert [m.command for m in replies] == ["364", "365"]
    assert replies[0].params[:3] == ("nick", SERVER, SERVER)
    assert replies[0].params[3].startswith("0 ")
    assert replies[1].params[:2] == ("nick", "*")
