"""Channels as the irctest suite checks them on other servers: JOIN (with JOIN 0, lists
and keys), PART, KICK, TOPIC, NAMES, LIST with ELIST, INVITE, channel modes and the
CASEMAPPING of channel names, over a real socket (RFC 1459/2812, modern.ircdocs.horse)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from chatroom.irc.casemap import CaseMapping
from tests.integration.conformance_support import (
    Network,
    Peer,
    commands,
    one,
    only,
    serving,
    start_server,
)
from tests.realserver import ServerThread, make_config


@pytest.fixture
def net(tmp_path: Path) -> Iterator[Network]:
    with serving(start_server(tmp_path)) as network:
        yield network


def listed(peer: Peer, query: str) -> set[str]:
    return {m.params[1] for m in only(peer.ask(query), "322")}


# ------------------------------------------------------------------------------ JOIN


def test_join_confirms_then_sends_names_with_the_joiner_as_op(net: Network) -> None:
    foo = net.user("foo")
    replies = foo.ask("JOIN #chan")
    assert commands(replies) == ["JOIN", "353", "366"]
    assert replies[0].params == ("#chan",)
    assert replies[1].params == ("foo", "=", "#chan", "@foo")
    assert replies[2].params[:2] == ("foo", "#chan")


def test_join_of_a_room_one_is_in_says_nothing(net: Network) -> None:
    foo = net.user("foo")
    foo.ask("JOIN #chan")
    assert foo.ask("JOIN #chan") == []


def test_join_zero_parts_every_room(net: Network) -> None:
    foo, bar = net.user("foo"), net.user("bar")
    foo.ask("JOIN #a,#b")
    bar.ask("JOIN #a,#b")
    parts = bar.ask("JOIN 0")
    assert [(m.command, m.params[0]) for m in parts] == [("PART", "#a"), ("PART", "#b")]
    seen = [m for m in foo.ask() if m.command == "PART"]
    assert [m.params[0] for m in seen] == ["#a", "#b"]


def test_join_takes_lists_of_rooms_and_keys_in_order(net: Network) -> None:
    foo, bar = net.user("foo"), net.user("bar")
    foo.ask("JOIN #a,#b,#c", "MODE #b +k beer", "MODE #c +k wine")
    replies = bar.ask("JOIN #a,#b,#c x,beer")
    assert [m.params[0] for m in only(replies, "JOIN")] == ["#a", "#b"]
    assert one(replies, "475").params[1] == "#c"
    assert commands(bar.ask("JOIN #c wine"))[0] == "JOIN"


def test_join_with_a_wrong_or_missing_key_is_475(net: Network) -> None:
    bar, qux = net.user("bar"), net.user("qux")
    bar.ask("JOIN #chan", "MODE #chan +k beer")
    assert commands(qux.ask("JOIN #chan")) == ["475"]
    assert commands(qux.ask("JOIN #chan bees")) == ["475"]
    assert qux.ask("JOIN #chan beer")[0].params == ("#chan",)


def test_join_past_chanlimit_is_405(net: Network) -> None:
    foo = net.user("foo")
    for index in range(50):  # CHANLIMIT=#:50
        assert foo.ask(f"JOIN #chan{index}")[0].command == "JOIN"
    assert one(foo.ask("JOIN #chan"), "405").params[1] == "#chan"


def test_join_a_name_longer_than_channellen_is_403(net: Network) -> None:
    """modern.ircdocs.horse CHANNELLEN: the longest name one may join; a longer one is
    no channel at all (403 ERR_NOSUCHCHANNEL), as irctest expects of every server."""
    foo = net.user("foo")
    longest = "#" + "a" * 49  # CHANNELLEN=50
    assert foo.ask(f"JOIN {longest}")[0].params == (longest,)
    too_long = "#" + "b" * 50
    assert [(m.command, m.params[1]) for m in foo.ask(f"JOIN {too_long}")] == [("403", too_long)]


def test_join_of_a_name_without_a_channel_prefix_is_403(net: Network) -> None:
    foo = net.user("foo")
    assert commands(foo.ask("JOIN foo")) == ["403"]
    assert commands(foo.ask("JOIN")) == ["461"]


@pytest.mark.parametrize(
    ("first", "second"), [("#Foo", "#foo"), ("#F]|oo{", "#f}\\oo["), ("#F}o\\o[", "#f]o|o{")]
)
def test_channel_names_fold_under_rfc1459(net: Network, first: str, second: str) -> None:
    foo, bar = net.user("foo"), net.user("bar")
    foo.ask(f"JOIN {first}")
    bar.ask(f"JOIN {second}")
    joined = one(foo.ask(), "JOIN")
    assert joined.source is not None
    assert joined.source.startswith("bar!")


def test_every_command_finds_rooms_and_nicks_under_rfc1459_folding(net: Network) -> None:
    alice, bob, carol = net.user("alice"), net.user("b[o]b"), net.user("carol")
    alice.ask("JOIN #ch[a]n")
    bob.ask("JOIN #CH{A}N")
    alice.ask()
    assert alice.ask("MODE #CH{A}N +o B{O}B")[0].params == ("#ch[a]n", "+o", "b[o]b")
    assert alice.ask("TOPIC #Ch{a}N :hello")[0].params == ("#ch[a]n", "hello")
    assert one(carol.ask("NAMES #CH{A}N"), "353").params[2] == "#ch[a]n"
    assert one(carol.ask("LIST #CH{A}N"), "322").params[1] == "#ch[a]n"
    assert len(only(carol.ask("WHO #CH{A}N"), "352")) == 2
    assert one(alice.ask("INVITE CAROL #CH{A}N"), "341").params[1:] == ("carol", "#ch[a]n")
    assert one(alice.ask("KICK #CH{A}N B{O}B :x"), "KICK").params[:2] == ("#ch[a]n", "b[o]b")
    assert alice.ask("PART #CH{A}N")[0].params[0] == "#ch[a]n"
    assert one(carol.ask("WHOIS B{O}B"), "311").params[1] == "b[o]b"
    carol.ask("JOIN #x", "MODE #x +b B{O}B!*@*")
    assert commands(bob.ask("JOIN #x"))[-1] == "474"  # after the MODE, TOPIC and KICK


def test_casemapping_ascii_folds_letters_only(tmp_path: Path) -> None:
    """``server.casemapping = "ascii"``: CASEMAPPING=ascii, and ``[]\\~`` stay apart from
    ``{}|^`` in room names and nicks."""
    server = start_server(tmp_path, casemapping=CaseMapping.ASCII)
    net = Network(server)
    try:
        foo, bar = net.user("foo"), net.user("bar")
        isupport = [p for m in foo.ask("VERSION") if m.command == "005" for p in m.params]
        assert "CASEMAPPING=ascii" in isupport
        foo.ask("JOIN #F]|oo{", "JOIN #Foo")
        assert bar.ask("JOIN #f}\\oo[")[1].params[3] == "@bar"  # a room of its own
        assert bar.ask("JOIN #foo")[1].params[2] == "#Foo"
        assert commands(bar.ask("NICK FOO")) == ["433"]
        assert commands(bar.ask("NICK f[o]")) == ["NICK"]
        assert commands(net.user("f{o}").ask()) == []
    finally:
        net.close()
        server.stop()


def test_channel_names_that_differ_are_different_rooms(net: Network) -> None:
    foo, bar = net.user("foo"), net.user("bar")
    foo.ask("JOIN #Foo")
    bar.ask("JOIN #fooa")
    assert foo.ask() == []


# ------------------------------------------------------------------------------ PART


def test_part_of_a_room_one_is_not_in(net: Network) -> None:
    foo, bar = net.user("foo"), net.user("bar")
    assert commands(bar.ask("PART #chan")) == ["403"]  # no such room
    foo.ask("JOIN #chan")
    assert commands(bar.ask("PART #chan")) == ["442"]


def test_part_with_a_reason_reaches_every_member(net: Network) -> None:
    bar, baz = net.user("bar"), net.user("baz")
    bar.ask("JOIN #chan")
    baz.ask("JOIN #chan")
    bar.ask()
    assert bar.ask("PART #chan :bye everyone")[0].params == ("#chan", "bye everyone")
    assert baz.ask()[0].params == ("#chan", "bye everyone")


# ------------------------------------------------------------------------------ KICK


def three_in_chan(net: Network) -> tuple[Peer, Peer, Peer]:
    foo, bar, baz = net.user("foo"), net.user("bar"), net.user("baz")
    for peer in (foo, bar, baz):
        peer.ask("JOIN #chan")
    foo.ask()
    bar.ask()
    return foo, bar, baz


def test_kick_reaches_every_member_with_its_comment(net: Network) -> None:
    foo, bar, baz = three_in_chan(net)
    assert foo.ask("KICK #chan bar :bye")[0].params == ("#chan", "bar", "bye")
    assert bar.ask()[0].params == ("#chan", "bar", "bye")
    assert baz.ask()[0].params == ("#chan", "bar", "bye")


def test_kick_without_a_comment_gives_the_kickers_nick(net: Network) -> None:
    foo, _bar, baz = three_in_chan(net)
    foo.ask("KICK #chan bar")
    assert baz.ask()[0].params == ("#chan", "bar", "foo")


def test_kick_refusals(net: Network) -> None:
    foo, bar, _ = three_in_chan(net)
    outsider = net.user("qux")
    assert commands(outsider.ask("KICK #chan bar")) == ["442"]
    assert commands(bar.ask("KICK #chan foo")) == ["482"]
    assert commands(foo.ask("KICK #nochan bar")) == ["403"]
    assert commands(foo.ask("KICK #chan qux")) == ["441"]
    assert commands(foo.ask("KICK #chan zed")) == ["401"]


def test_an_op_can_kick_another_op(net: Network) -> None:
    foo, _bar, baz = three_in_chan(net)
    foo.ask("MODE #chan +o baz")
    assert commands(baz.ask("KICK #chan bar", "KICK #chan foo")) == ["MODE", "KICK", "KICK"]


@pytest.mark.parametrize("rooms", ["#chan", "#chan,#chan"])
def test_kick_of_several_nicks_sends_one_kick_each(net: Network, rooms: str) -> None:
    foo, _bar, _baz = three_in_chan(net)
    qux = net.user("qux")
    qux.ask("JOIN #chan")
    foo.ask(f"KICK {rooms} bar,baz :bye")
    kicks = [m.params for m in qux.ask() if m.command == "KICK"]
    assert kicks == [("#chan", "bar", "bye"), ("#chan", "baz", "bye")]


# ----------------------------------------------------------------------------- TOPIC


def test_topic_set_unset_and_queried(net: Network) -> None:
    bar, baz = net.user("bar"), net.user("baz")
    assert "331" not in commands(bar.ask("JOIN #test"))
    assert "331" not in commands(baz.ask("JOIN #test"))
    assert commands(baz.ask("TOPIC #test")) == ["331"]
    bar.ask()
    assert bar.ask("TOPIC #test :new topic")[0].params == ("#test", "new topic")
    assert baz.ask()[0].params == ("#test", "new topic")
    assert bar.ask("TOPIC #test :")[0].params == ("#test", "")
    assert baz.ask()[0].params == ("#test", "")
    qux = net.user("qux")
    assert "331" not in commands(qux.ask("JOIN #test"))


def test_topic_under_plus_t_needs_an_op_and_a_voice_is_not_enough(net: Network) -> None:
    bar, qux = net.user("bar"), net.user("qux")
    bar.ask("JOIN #chan", "MODE #chan +t", "TOPIC #chan :new topic")
    qux.ask("JOIN #chan")
    assert commands(qux.ask("TOPIC #chan :mine")) == ["482"]
    bar.ask("MODE #chan +v qux")
    assert commands(qux.ask("TOPIC #chan :mine")) == ["MODE", "482"]  # the +v, then 482
    bar.ask("MODE #chan -t")
    assert commands(qux.ask("TOPIC #chan :mine")) == ["MODE", "TOPIC"]  # the -t, then it


def test_join_sends_the_topic_and_who_set_it(net: Network) -> None:
    bar, buzz = net.user("bar"), net.user("buzz")
    bar.ask("JOIN #chan", "TOPIC #chan :new topic")
    replies = buzz.ask("JOIN #chan")
    assert commands(replies) == ["JOIN", "332", "333", "353", "366"]
    assert replies[1].params == ("buzz", "#chan", "new topic")


def test_topic_of_a_room_nobody_made_is_403(net: Network) -> None:
    foo = net.user("foo")
    assert commands(foo.ask("TOPIC #chan")) == ["403"]


# ----------------------------------------------------------------------------- NAMES


def test_names_lists_members_with_prefixes_then_ends(net: Network) -> None:
    nick1, nick2 = net.user("nick1"), net.user("nick2")
    nick1.ask("JOIN #chan")
    nick2.ask("JOIN #chan")
    nick1.ask()
    replies = nick1.ask("NAMES #chan")
    assert commands(replies) == ["353", "366"]
    assert replies[0].params[:3] == ("nick1", "=", "#chan")
    assert replies[0].params[3] in ("@nick1 nick2", "nick2 @nick1")  # no trailing space
    assert replies[1].params[:2] == ("nick1", "#chan")


def test_names_of_several_rooms_ends_each_room_with_its_own_366(net: Network) -> None:
    """The Modern docs: for each room, its 353 lines and a single 366 (not RFC 2812's
    one 366 for the whole list, which irctest expects of servers with NAMES in TARGMAX)."""
    nick1 = net.user("nick1")
    nick1.ask("JOIN #chan1", "JOIN #chan2")
    replies = nick1.ask("NAMES #chan1,#chan2")
    assert [(m.command, m.params[-2]) for m in replies] == [
        ("353", "#chan1"),
        ("366", "#chan1"),
        ("353", "#chan2"),
        ("366", "#chan2"),
    ]


@pytest.mark.parametrize("name", ["invalid", "#nonexisting"])
def test_names_of_no_room_is_only_the_end(net: Network, name: str) -> None:
    foo = net.user("foo")
    assert [(m.command, m.params[1]) for m in foo.ask(f"NAMES {name}")] == [("366", name)]


def test_names_of_a_secret_room_shows_nothing_to_outsiders(net: Network) -> None:
    foo, bar = net.user("foo"), net.user("bar")
    foo.ask("JOIN #sec", "MODE #sec +s")
    assert commands(bar.ask("NAMES #sec")) == ["366"]
    assert commands(bar.ask("WHO #sec")) == ["315"]


# ------------------------------------------------------------------------------ LIST


def test_list_of_an_empty_server_and_of_one_room(net: Network) -> None:
    foo, bar = net.user("foo"), net.user("bar")
    assert commands(bar.ask("LIST")) == ["321", "323"]
    foo.ask("JOIN #chan")
    replies = bar.ask("LIST")
    assert commands(replies) == ["321", "322", "323"]
    assert replies[1].params[1:3] == ("#chan", "1")
    assert commands(bar.ask("LIST #nonexistent")) == ["321", "323"]


def test_list_shows_the_permanent_lobby_even_when_empty(tmp_path: Path) -> None:
    """Deliberately unlike irctest's empty-server LIST: ``server.channels`` rooms exist
    from the start, so a new user always finds somewhere to go."""
    server = ServerThread(make_config(tmp_path)).start()  # the default config: #lobby
    net = Network(server)
    try:
        replies = net.user("foo").ask("LIST")
        assert [(m.command, m.params[1:3]) for m in replies[1:-1]] == [("322", ("#lobby", "0"))]
    finally:
        net.close()
        server.stop()


def test_list_filters_by_mask_and_by_not_mask(net: Network) -> None:
    foo, bar = net.user("foo"), net.user("bar")
    foo.ask("JOIN #chan1", "JOIN #chan2")
    assert listed(bar, "LIST *an1") == {"#chan1"}
    assert listed(bar, "LIST #c*n2") == {"#chan2"}
    assert listed(bar, "LIST *an3") == set()
    assert listed(bar, "LIST #ch*") == {"#chan1", "#chan2"}
    assert listed(bar, "LIST !*an1") == {"#chan2"}
    assert listed(bar, "LIST !#ch*") == set()


def test_list_filters_by_user_count(net: Network) -> None:
    foo, bar, baz = net.user("foo"), net.user("bar"), net.user("baz")
    foo.ask("JOIN #chan1", "JOIN #chan2")
    bar.ask("JOIN #chan2")
    assert listed(baz, "LIST >0") == {"#chan1", "#chan2"}
    assert listed(baz, "LIST <1") == set()
    assert listed(baz, "LIST >1") == {"#chan2"}
    assert listed(baz, "LIST <2") == {"#chan1"}


def test_list_shows_a_secret_room_to_its_members_only(net: Network) -> None:
    first, second = net.user("first"), net.user("second")
    first.ask("JOIN #gen", "MODE #gen +s")
    assert listed(first, "LIST") == {"#gen"}
    assert listed(second, "LIST") == set()
    second.ask("JOIN #gen")
    assert listed(second, "LIST") == {"#gen"}


# ---------------------------------------------------------------------------- INVITE


def test_invite_lets_a_user_into_an_invite_only_room(net: Network) -> None:
    foo = net.user("foo")
    foo.ask("JOIN #chan", "MODE #chan +i")
    assert commands(foo.ask("INVITE bar #chan")) == ["401"]
    bar = net.user("bar")
    assert commands(bar.ask("JOIN #chan")) == ["473"]
    assert foo.ask("INVITE bar #chan")[0].params == ("foo", "bar", "#chan")  # 341
    invite = bar.ask()[0]
    assert invite.command == "INVITE"
    assert invite.params == ("bar", "#chan")
    assert invite.source is not None
    assert invite.source.startswith("foo!")
    assert bar.ask("JOIN #chan")[0].command == "JOIN"


def test_invite_from_a_member_who_is_not_op_works_without_plus_i(net: Network) -> None:
    foo, bar, baz = net.user("foo"), net.user("bar"), net.user("baz")
    foo.ask("JOIN #chan")
    baz.ask("JOIN #chan")
    foo.ask("MODE #chan -o foo")
    baz.ask()
    assert one(foo.ask("INVITE bar #chan"), "341").params == ("foo", "bar", "#chan")
    assert one(bar.ask(), "INVITE").params == ("bar", "#chan")
    assert baz.ask() == []  # other members are not told


def test_invite_refusals(net: Network) -> None:
    foo, bar, baz = net.user("foo"), net.user("bar"), net.user("baz")
    baz.ask("JOIN #chan")
    assert one(foo.ask("INVITE bar #chan"), "442").params[1] == "#chan"
    assert bar.ask() == []
    baz.ask("MODE #chan +i", "MODE #chan -o baz")
    assert one(baz.ask("INVITE bar #chan"), "482").params[1] == "#chan"
    baz2 = net.user("owner")
    baz2.ask("JOIN #own")
    foo.ask()
    bar.ask("JOIN #own")
    assert one(baz2.ask("INVITE bar #own"), "443").params[1:3] == ("bar", "#own")


def test_an_invite_passes_a_ban_once(net: Network) -> None:
    alice, bob = net.user("alice"), net.user("bob")
    alice.ask("JOIN #alice", "MODE #alice +b bob!*@*")
    assert commands(bob.ask("JOIN #alice")) == ["474"]
    assert "341" in commands(alice.ask("INVITE bob #alice"))
    assert "JOIN" in commands(bob.ask("JOIN #alice"))
    alice.ask("KICK #alice bob")
    assert "474" in commands(bob.ask("JOIN #alice"))


# ----------------------------------------------------------------------------- MODES


def test_channel_mode_query_and_removing_every_mode(net: Network) -> None:
    chanop = net.user("chanop")
    chanop.ask("JOIN #chan", "MODE #chan +int")
    replies = chanop.ask("MODE #chan")
    assert commands(replies) == ["324", "329"]
    modes = replies[0].params[2]
    assert modes.startswith("+")
    assert set("int") <= set(modes)
    removed = chanop.ask(f"MODE #chan -{modes[1:]}")
    assert set(removed[0].params[1][1:]) == set(modes[1:])
    assert chanop.ask("MODE #chan")[0].params == ("chanop", "#chan", "+")


@pytest.mark.parametrize("key", ["passphrase with spaces", "long" * 100, ""])
def test_a_key_that_cannot_be_used_is_refused_or_cut(net: Network, key: str) -> None:
    bar = net.user("bar")
    bar.ask("JOIN #chan")
    replies = bar.ask(f"MODE #chan +k :{key}")
    if replies[0].command == "MODE":  # cut to KEYLEN: the cut key works
        assert replies[0].params[2] == ("long" * 100)[:32]
        foo = net.user("foo")
        assert foo.ask(f"JOIN #chan {replies[0].params[2]}")[0].command == "JOIN"
    elif replies[0].command == "696":
        assert replies[0].params[:4] == ("bar", "#chan", "k", "*")
    else:
        assert commands(replies) == ["525"]


def test_plus_l_keeps_out_a_joiner_past_the_limit(net: Network) -> None:
    foo, bar = net.user("foo"), net.user("bar")
    foo.ask("JOIN #chan", "MODE #chan +l 1")
    assert commands(bar.ask("JOIN #chan")) == ["471"]
    foo.ask("MODE #chan -l")
    assert bar.ask("JOIN #chan")[0].command == "JOIN"


@pytest.mark.parametrize("mask", ["bar!*@*", "BAR!*@*"])
def test_a_ban_keeps_out_until_removed_whatever_the_case(net: Network, mask: str) -> None:
    chanop, bar = net.user("chanop"), net.user("Bar")
    assert chanop.ask("JOIN #chan", f"MODE #chan +b {mask}")[-1].command == "MODE"
    assert commands(bar.ask("JOIN #chan")) == ["474"]
    ban_list = chanop.ask("MODE #chan +b")
    assert commands(ban_list) == ["367", "368"]
    assert chanop.ask("MODE #chan -b bar!*@*")[0].command == "MODE"
    assert bar.ask("JOIN #chan")[0].command == "JOIN"


def test_plus_m_silences_all_but_voices_and_ops(net: Network) -> None:
    chanop, baz = net.user("chanop"), net.user("baz")
    chanop.ask("JOIN #chan", "MODE #chan +m")
    baz.ask("JOIN #chan")
    chanop.ask()
    assert commands(baz.ask("PRIVMSG #chan :hi from baz")) == ["404"]
    assert chanop.ask() == []
    chanop.ask("MODE #chan +v baz")
    baz.ask("PRIVMSG #chan :hi again from baz")
    assert one(chanop.ask(), "PRIVMSG").params == ("#chan", "hi again from baz")


def test_plus_o_errors_each_have_one_numeric(net: Network) -> None:
    chanop, unprivileged, unrelated = net.user("chanop"), net.user("unpriv"), net.user("unrel")
    chanop.ask("JOIN #chan")
    unprivileged.ask("JOIN #chan")
    unrelated.ask("JOIN #unrelated")
    unprivileged.ask("JOIN #unrelated")
    chanop.ask()
    assert commands(unprivileged.ask("MODE #chan +o unpriv")) == ["482"]
    assert commands(chanop.ask("MODE #chan +o unrel")) == ["441"]
    assert commands(chanop.ask("MODE #chan +o nobody")) == ["401"]
    assert commands(chanop.ask("MODE #nonexistentchan +o chanop")) == ["403"]
    assert commands(chanop.ask("MODE #unrelated +o unpriv"))[0] in ("442", "482")
    granted = chanop.ask("MODE #chan +o unpriv")
    assert [m.params for m in granted] == [("#chan", "+o", "unpriv")]
    assert [m.params for m in unprivileged.ask()] == [("#chan", "+o", "unpriv")]


def test_plus_c_lets_action_through_and_refuses_other_ctcp(net: Network) -> None:
    bar, qux = net.user("bar"), net.user("qux")
    bar.ask("JOIN #chan", "MODE #chan +C")
    qux.ask("JOIN #chan")
    bar.ask()
    bar.ask("PRIVMSG #chan :\x01ACTION hi\x01")
    assert [m.params for m in qux.ask()] == [("#chan", "\x01ACTION hi\x01")]
    assert commands(bar.ask("PRIVMSG #chan :\x01PING 1473523796 918320\x01")) == ["404"]
    assert qux.ask() == []


@pytest.mark.parametrize("limit", ["0", "-1", "abc", ""])
def test_an_unusable_limit_is_696_and_sets_nothing(net: Network, limit: str) -> None:
    chanop = net.user("chanop")
    chanop.ask("JOIN #chan")
    replies = chanop.ask(f"MODE #chan +l :{limit}")
    assert [(m.command, m.params[:3]) for m in replies] == [("696", ("chanop", "#chan", "l"))]
    for nick in ("user2", "user3"):
        assert net.user(nick).ask("JOIN #chan")[0].command == "JOIN"


def test_a_lowered_limit_keeps_the_members_and_an_invite_passes_it(net: Network) -> None:
    chanop, user2, user3 = net.user("chanop"), net.user("user2"), net.user("user3")
    chanop.ask("JOIN #chan")
    user2.ask("JOIN #chan")
    user3.ask("JOIN #chan")
    chanop.ask("MODE #chan +l 1")
    user3.ask()
    user2.ask("PRIVMSG #chan :still here")
    assert [m.params for m in only(user3.ask(), "PRIVMSG")] == [("#chan", "still here")]
    user4 = net.user("user4")
    assert [(m.command, m.params[1]) for m in user4.ask("JOIN #chan")] == [("471", "#chan")]
    chanop.ask("INVITE user4 #chan")
    assert "JOIN" in commands(user4.ask("JOIN #chan"))


def test_an_invite_exception_lets_a_mask_into_an_invite_only_room(net: Network) -> None:
    chanop, bar, baz = net.user("chanop"), net.user("Bar"), net.user("Baz")
    chanop.ask("JOIN #chan", "MODE #chan +i")
    assert commands(bar.ask("JOIN #chan")) == ["473"]
    assert chanop.ask("MODE #chan +I bar!*@*")[0].params == ("#chan", "+I", "bar!*@*")
    assert bar.ask("JOIN #chan")[0].command == "JOIN"
    assert commands(baz.ask("JOIN #chan")) == ["473"]
    listing = chanop.ask("MODE #chan +I")
    assert commands(listing) == ["JOIN", "346", "347"]
    assert listing[1].params[:3] == ("chanop", "#chan", "bar!*@*")
    assert listing[1].params[3].startswith("chanop!")
    bar.ask("PART #chan")
    chanop.ask()
    assert chanop.ask("MODE #chan -I bar!*@*")[0].params == ("#chan", "-I", "bar!*@*")
    assert commands(bar.ask("JOIN #chan")) == ["473"]
