"""WHO (with WHOX), WHOIS and WHOWAS through the core harness."""

from __future__ import annotations

from chatroom.irc import numerics as n
from chatroom.irc.message import Message
from chatroom.server.harness import Harness, SimClient
from tests.server.support import codes, one


def only(msgs: list[Message], numeric: str) -> list[Message]:
    return [m for m in msgs if m.command == numeric]


def join(*clients: SimClient, room: str = "#room") -> None:
    for client in clients:
        client.send(f"JOIN {room}")
        client.take()


def make_oper(client: SimClient) -> None:
    client.session.owner.set_mode("o", True)


def whox_about_bob(fields: str, *, bob_ip: str = "127.0.0.1") -> tuple[str, ...]:
    """The params of the one 354 alice gets for ``WHO bob <fields>``."""
    h = Harness()
    alice = h.connect("alice")
    h.connect("bob", ip=bob_ip)
    return one(alice.cmd(f"WHO bob {fields}"), n.RPL_WHOSPCRPL).params


# ----------------------------------------------------------------------------- WHO


def test_who_channel_lists_each_member_then_end_of_who() -> None:
    """352: <client> <channel> <user> <host> <server> <nick> <flags> :<hopcount> <realname>"""
    h = Harness()
    alice, bob = h.connect("alice"), h.connect("bob")
    join(alice, bob)
    msgs = alice.cmd("WHO #room")
    assert codes(msgs) == [n.RPL_WHOREPLY, n.RPL_WHOREPLY, n.RPL_ENDOFWHO]
    by_nick = {m.params[5]: m for m in only(msgs, n.RPL_WHOREPLY)}
    bob_line = by_nick["bob"]
    assert bob_line.params == (
        "alice",
        "#room",
        "~bob",
        "127.0.0.1",
        "chatroom.local",
        "bob",
        "H",
        "0 bob real",
    )
    assert msgs[-1].params == ("alice", "#room", "End of WHO list")


def test_who_flags_show_the_channel_op_prefix() -> None:
    h = Harness()
    alice, bob = h.connect("alice"), h.connect("bob")
    join(alice, bob)  # the first joiner of a new room is its operator
    flags = {m.params[5]: m.params[6] for m in only(bob.cmd("WHO #room"), n.RPL_WHOREPLY)}
    assert flags == {"alice": "H@", "bob": "H"}


def test_who_flags_show_every_prefix_with_multi_prefix() -> None:
    """multi-prefix: all of a member's prefixes are listed, highest first."""
    h = Harness()
    alice = h.connect("alice", caps=["multi-prefix"])
    plain = h.connect("plain")
    join(alice, plain)
    alice.send("MODE #room +v alice")
    msgs = alice.cmd("WHO #room")
    assert {m.params[5]: m.params[6] for m in only(msgs, n.RPL_WHOREPLY)}["alice"] == "H@+"
    others = plain.cmd("WHO #room")
    assert {m.params[5]: m.params[6] for m in only(others, n.RPL_WHOREPLY)}["alice"] == "H@"


def test_who_flags_mark_away_users_as_gone() -> None:
    h = Harness()
    alice, bob = h.connect("alice"), h.connect("bob")
    bob.send("AWAY :lunch")
    reply = one(alice.cmd("WHO bob"), n.RPL_WHOREPLY)
    assert reply.params[6] == "G"


def test_who_flags_mark_operators_with_a_star() -> None:
    h = Harness()
    alice, bob = h.connect("alice"), h.connect("bob")
    make_oper(bob)
    assert one(alice.cmd("WHO bob"), n.RPL_WHOREPLY).params[6] == "H*"


def test_who_flags_mark_bots_with_the_bot_mode_letter() -> None:
    """bot-mode: the BOT ISUPPORT character is returned in the WHO flags of a bot."""
    h = Harness()
    alice, robo = h.connect("alice"), h.connect("robo")
    robo.session.owner.set_mode("B", True)
    join(robo, alice)
    flags = {m.params[5]: m.params[6] for m in only(alice.cmd("WHO #room"), n.RPL_WHOREPLY)}
    assert flags["robo"] == "H@B"


def test_who_channel_hides_invisible_members_from_outsiders() -> None:
    h = Harness()
    alice, ghost, outsider = h.connect("alice"), h.connect("ghost"), h.connect("outsider")
    ghost.session.owner.set_mode("i", True)
    join(alice, ghost)
    nicks = [m.params[5] for m in only(outsider.cmd("WHO #room"), n.RPL_WHOREPLY)]
    assert nicks == ["alice"]


def test_who_channel_shows_invisible_members_to_fellow_members() -> None:
    h = Harness()
    alice, ghost = h.connect("alice"), h.connect("ghost")
    ghost.session.owner.set_mode("i", True)
    join(alice, ghost)
    nicks = sorted(m.params[5] for m in only(alice.cmd("WHO #room"), n.RPL_WHOREPLY))
    assert nicks == ["alice", "ghost"]


def test_who_secret_channel_lists_nobody_to_outsiders() -> None:
    h = Harness()
    alice, outsider = h.connect("alice"), h.connect("outsider")
    join(alice, room="#hidden")
    alice.send("MODE #hidden +s")
    assert codes(outsider.cmd("WHO #hidden")) == [n.RPL_ENDOFWHO]
    make_oper(outsider)
    assert codes(outsider.cmd("WHO #hidden")) == [n.RPL_WHOREPLY, n.RPL_ENDOFWHO]


def test_who_unknown_channel_ends_at_once() -> None:
    h = Harness()
    alice = h.connect("alice")
    msgs = alice.cmd("WHO #nowhere")
    assert [(m.command, m.params[1]) for m in msgs] == [(n.RPL_ENDOFWHO, "#nowhere")]


def test_who_unknown_nick_sends_a_single_end_of_who_with_the_mask() -> None:
    """modern docs (PR 216): WHO with a non-existing nickname gets a single RPL_ENDOFWHO."""
    h = Harness()
    alice = h.connect("alice")
    msgs = alice.cmd("WHO NoBody")
    assert len(msgs) == 1
    assert msgs[0].command == n.RPL_ENDOFWHO
    assert msgs[0].params[1] == "NoBody"


def test_who_mask_matches_nick_user_host_or_realname() -> None:
    h = Harness()
    alice = h.connect("alice")
    h.connect("bob")
    h.connect("carol")
    by_realname = [m.params[5] for m in only(alice.cmd("WHO :b*real"), n.RPL_WHOREPLY)]
    assert by_realname == ["bob"]
    by_user = [m.params[5] for m in only(alice.cmd("WHO ~car*"), n.RPL_WHOREPLY)]
    assert by_user == ["carol"]
    by_host = sorted(m.params[5] for m in only(alice.cmd("WHO 127.*"), n.RPL_WHOREPLY))
    assert by_host == ["alice", "bob", "carol"]


def test_who_mask_matches_full_hostmask() -> None:
    h = Harness()
    alice = h.connect("alice")
    h.connect("bob")
    msgs = alice.cmd("WHO b*!~bob@127.0.0.1")
    assert [m.params[5] for m in only(msgs, n.RPL_WHOREPLY)] == ["bob"]
    assert one(msgs, n.RPL_ENDOFWHO).params[1] == "b*!~bob@127.0.0.1"


def test_who_mask_skips_invisible_users_sharing_no_channel() -> None:
    """Visible users are users who either aren't invisible or have a common channel."""
    h = Harness()
    alice, ghost = h.connect("alice"), h.connect("ghost")
    ghost.session.owner.set_mode("i", True)
    assert [m.params[5] for m in only(alice.cmd("WHO *"), n.RPL_WHOREPLY)] == ["alice"]
    join(alice, ghost)
    assert sorted(m.params[5] for m in only(alice.cmd("WHO *"), n.RPL_WHOREPLY)) == [
        "alice",
        "ghost",
    ]


def test_who_exact_nick_answers_for_an_invisible_user() -> None:
    """An exact nickname is answered as WHOIS would be; +i hides from searches only."""
    h = Harness()
    alice, ghost = h.connect("alice"), h.connect("ghost")
    ghost.session.owner.set_mode("i", True)
    assert one(alice.cmd("WHO GHOST"), n.RPL_WHOREPLY).params[5] == "ghost"


def test_who_mask_reply_names_a_shared_channel_or_star() -> None:
    h = Harness()
    alice, bob = h.connect("alice"), h.connect("bob")
    assert one(alice.cmd("WHO bob"), n.RPL_WHOREPLY).params[1] == "*"
    join(bob, alice)
    reply = one(alice.cmd("WHO bob"), n.RPL_WHOREPLY)
    assert reply.params[1] == "#room"
    assert reply.params[6] == "H@"


def test_who_o_filter_lists_only_operators() -> None:
    h = Harness()
    alice, bob = h.connect("alice"), h.connect("bob")
    join(alice, bob)
    make_oper(bob)
    assert [m.params[5] for m in only(alice.cmd("WHO #room o"), n.RPL_WHOREPLY)] == ["bob"]


def test_who_without_a_mask_needs_more_params() -> None:
    h = Harness()
    alice = h.connect("alice")
    assert codes(alice.cmd("WHO")) == [n.ERR_NEEDMOREPARAMS]


# ----------------------------------------------------------------------------- WHOX


def test_whox_sends_fields_in_the_spec_order_whatever_the_request_order() -> None:
    """WHOX: Servers MUST send the fields in the order specified above (t c u i h s n f d l a
    o r), and MUST NOT send RPL_WHOREPLY."""
    h = Harness()
    alice, bob = h.connect("alice"), h.connect("bob")
    join(alice, bob)
    msgs = alice.cmd("WHO bob %rnacfhsudlot,7")
    assert codes(msgs) == [n.RPL_WHOSPCRPL, n.RPL_ENDOFWHO]
    assert msgs[0].params == (
        "alice",
        "7",  # t
        "#room",  # c
        "~bob",  # u
        "127.0.0.1",  # h
        "chatroom.local",  # s
        "bob",  # n
        "H",  # f
        "0",  # d
        "0",  # l
        "0",  # a
        "0",  # o
        "bob real",  # r
    )


def test_whox_echoes_the_query_token() -> None:
    assert whox_about_bob("%tn,42") == ("alice", "42", "bob")


def test_whox_reports_account_zero_when_logged_out() -> None:
    """WHOX: `0` is used for [account] when the user is logged out."""
    assert whox_about_bob("%na") == ("alice", "bob", "0")


def test_whox_reports_the_account_name_when_logged_in() -> None:
    h = Harness()
    alice, bob = h.connect("alice"), h.connect("bob")
    bob.session.account = "Bobby"
    assert one(alice.cmd("WHO bob %na"), n.RPL_WHOSPCRPL).params == ("alice", "bob", "Bobby")


def test_whox_hides_other_users_ip_addresses() -> None:
    """WHOX: `255.255.255.255` is used for [ip] when the server refuses to disclose it."""
    assert whox_about_bob("%i", bob_ip="192.0.2.7") == ("alice", "255.255.255.255")


def test_whox_shows_your_own_ip_and_operators_see_all() -> None:
    h = Harness()
    alice = h.connect("alice", ip="198.51.100.1")
    h.connect("bob", ip="192.0.2.7")
    assert one(alice.cmd("WHO alice %i"), n.RPL_WHOSPCRPL).params[1] == "198.51.100.1"
    make_oper(alice)
    assert one(alice.cmd("WHO bob %i"), n.RPL_WHOSPCRPL).params[1] == "192.0.2.7"


def test_whox_idle_counts_from_the_last_message() -> None:
    h = Harness()
    alice, bob = h.connect("alice"), h.connect("bob")
    h.clock.advance(30)
    assert one(alice.cmd("WHO bob %l"), n.RPL_WHOSPCRPL).params[1] == "30"
    bob.session.last_message = h.clock()
    h.clock.advance(4)
    assert one(alice.cmd("WHO bob %l"), n.RPL_WHOSPCRPL).params[1] == "4"


def test_whox_channel_field_is_star_without_a_channel() -> None:
    """WHOX: `*` is used for [channel] when no channel is returned."""
    assert whox_about_bob("%cn") == ("alice", "*", "bob")


def test_whox_replaces_an_invalid_token_with_zero() -> None:
    """WHOX: the token MUST contain only digits and at most 3 characters."""
    assert whox_about_bob("%tn,12345") == ("alice", "0", "bob")


def test_whox_host_that_looks_like_a_trailing_param_is_escaped() -> None:
    assert whox_about_bob("%hn", bob_ip="::1") == ("alice", "0::1", "bob")


# ----------------------------------------------------------------------------- WHOIS


def test_whois_reports_identity_server_idle_and_end() -> None:
    h = Harness()
    alice, bob = h.connect("alice"), h.connect("bob")
    signon = int(bob.session.connected_at)
    h.clock.advance(12)
    msgs = alice.cmd("WHOIS bob")
    assert one(msgs, n.RPL_WHOISUSER).params == (
        "alice",
        "bob",
        "~bob",
        "127.0.0.1",
        "*",
        "bob real",
    )
    assert one(msgs, n.RPL_WHOISSERVER).params == (
        "alice",
        "bob",
        "chatroom.local",
        "ChatRoom IRC server",
    )
    assert one(msgs, n.RPL_WHOISIDLE).params == (
        "alice",
        "bob",
        "12",
        str(signon),
        "seconds idle, signon time",
    )
    assert msgs[0].command == n.RPL_WHOISUSER
    assert msgs[-1].command == n.RPL_ENDOFWHOIS
    assert msgs[-1].params[:2] == ("alice", "bob")
    for absent in (
        n.RPL_WHOISOPERATOR,
        n.RPL_AWAY,
        n.RPL_WHOISACCOUNT,
        n.RPL_WHOISSECURE,
        n.RPL_WHOISBOT,
        n.RPL_WHOISCHANNELS,
    ):
        assert not only(msgs, absent)


def test_whois_idle_counts_from_the_last_message_once_there_is_one() -> None:
    h = Harness()
    alice, bob = h.connect("alice"), h.connect("bob")
    h.clock.advance(100)
    bob.session.last_message = h.clock()
    h.clock.advance(3)
    assert one(alice.cmd("WHOIS bob"), n.RPL_WHOISIDLE).params[2] == "3"


def test_whois_unknown_nick_sends_no_such_nick_then_end() -> None:
    """modern docs: the server SHOULD end with RPL_ENDOFWHOIS even if it sent nothing else."""
    h = Harness()
    alice = h.connect("alice")
    msgs = alice.cmd("WHOIS ghost")
    assert codes(msgs) == [n.ERR_NOSUCHNICK, n.RPL_ENDOFWHOIS]
    assert msgs[0].params[1] == "ghost"
    assert msgs[1].params[1] == "ghost"


def test_whois_without_a_nick_is_no_nickname_given() -> None:
    h = Harness()
    alice = h.connect("alice")
    assert codes(alice.cmd("WHOIS")) == [n.ERR_NONICKNAMEGIVEN]


def test_whois_with_a_server_parameter_asks_about_the_second() -> None:
    h = Harness()
    alice = h.connect("alice")
    h.connect("bob")
    msgs = alice.cmd("WHOIS bob bob")
    assert one(msgs, n.RPL_WHOISUSER).params[1] == "bob"


def test_whois_uses_the_nick_as_the_server_spells_it() -> None:
    h = Harness()
    alice = h.connect("alice")
    h.connect("Bob")
    msgs = alice.cmd("WHOIS BOB")
    assert one(msgs, n.RPL_WHOISUSER).params[1] == "Bob"
    assert msgs[-1].params[1] == "Bob"


def test_whois_channels_carry_member_prefixes() -> None:
    h = Harness()
    alice, bob = h.connect("alice"), h.connect("bob")
    join(bob, alice)
    join(alice, room="#other")
    join(bob, room="#other")
    line = one(alice.cmd("WHOIS bob"), n.RPL_WHOISCHANNELS)
    assert sorted(line.params[2].split()) == ["#other", "@#room"]


def test_whois_channels_show_all_prefixes_with_multi_prefix() -> None:
    h = Harness()
    alice = h.connect("alice", caps=["multi-prefix"])
    bob = h.connect("bob")
    join(bob, alice)
    bob.send("MODE #room +v bob")
    assert one(alice.cmd("WHOIS bob"), n.RPL_WHOISCHANNELS).params[2] == "@+#room"


def test_whois_hides_secret_channels_not_shared() -> None:
    h = Harness()
    alice, bob = h.connect("alice"), h.connect("bob")
    join(bob, room="#secret")
    bob.send("MODE #secret +s")
    join(bob, room="#open")
    line = one(alice.cmd("WHOIS bob"), n.RPL_WHOISCHANNELS)
    assert line.params[2] == "@#open"
    join(alice, room="#secret")
    line = one(alice.cmd("WHOIS bob"), n.RPL_WHOISCHANNELS)
    assert sorted(line.params[2].split()) == ["@#open", "@#secret"]


def test_whois_shows_your_own_secret_channels() -> None:
    h = Harness()
    bob = h.connect("bob")
    join(bob, room="#secret")
    bob.send("MODE #secret +s")
    assert one(bob.cmd("WHOIS bob"), n.RPL_WHOISCHANNELS).params[2] == "@#secret"


def test_whois_splits_long_channel_lists_over_several_lines() -> None:
    h = Harness()
    alice, bob = h.connect("alice"), h.connect("bob")
    rooms = [f"#room-number-{i:02d}-with-a-long-name" for i in range(30)]
    for room in rooms:
        join(bob, room=room)
    lines = only(alice.cmd("WHOIS bob"), n.RPL_WHOISCHANNELS)
    assert len(lines) > 1
    shown = [name for line in lines for name in line.params[2].split()]
    assert sorted(shown) == sorted("@" + room for room in rooms)
    assert all(len(line.params[2]) <= 400 for line in lines)


def test_whois_marks_operators() -> None:
    h = Harness()
    alice, bob = h.connect("alice"), h.connect("bob")
    make_oper(bob)
    line = one(alice.cmd("WHOIS bob"), n.RPL_WHOISOPERATOR)
    assert line.params == ("alice", "bob", "is an IRC operator")


def test_whois_shows_the_away_message() -> None:
    h = Harness()
    alice, bob = h.connect("alice"), h.connect("bob")
    bob.send("AWAY :gone fishing")
    assert one(alice.cmd("WHOIS bob"), n.RPL_AWAY).params == ("alice", "bob", "gone fishing")


def test_whois_shows_the_account() -> None:
    h = Harness()
    alice, bob = h.connect("alice"), h.connect("bob")
    bob.session.account = "bobacct"
    line = one(alice.cmd("WHOIS bob"), n.RPL_WHOISACCOUNT)
    assert line.params == ("alice", "bob", "bobacct", "is logged in as")


def test_whois_marks_secure_connections() -> None:
    h = Harness()
    alice = h.connect("alice")
    h.connect("bob", secure=True)
    line = one(alice.cmd("WHOIS bob"), n.RPL_WHOISSECURE)
    assert line.params == ("alice", "bob", "is using a secure connection")


def test_whois_marks_bots() -> None:
    """bot-mode: RPL_WHOISBOT (335) is returned as part of a bot's WHOIS reply."""
    h = Harness()
    alice, robo = h.connect("alice"), h.connect("robo")
    robo.session.owner.set_mode("B", True)
    assert one(alice.cmd("WHOIS robo"), n.RPL_WHOISBOT).params[:2] == ("alice", "robo")


# ----------------------------------------------------------------------------- WHOWAS


def test_whowas_lists_a_user_who_quit() -> None:
    """modern docs: a WHOWAS entry starts with RPL_WHOWASUSER; the list ends with 369."""
    h = Harness()
    alice, bob = h.connect("alice"), h.connect("bob")
    bob.send("QUIT :bye")
    msgs = alice.cmd("WHOWAS bob")
    assert codes(msgs) == [n.RPL_WHOWASUSER, n.RPL_WHOISSERVER, n.RPL_ENDOFWHOWAS]
    assert msgs[0].params == ("alice", "bob", "~bob", "127.0.0.1", "*", "bob real")
    assert msgs[1].params[:3] == ("alice", "bob", "chatroom.local")
    assert msgs[2].params == ("alice", "bob", "End of WHOWAS")


def test_whowas_unknown_nick_is_was_no_such_nick_then_end() -> None:
    """modern docs: reply with ERR_WASNOSUCHNICK or entries, both followed by 369."""
    h = Harness()
    alice = h.connect("alice")
    msgs = alice.cmd("WHOWAS nobody")
    assert codes(msgs) == [n.ERR_WASNOSUCHNICK, n.RPL_ENDOFWHOWAS]
    assert msgs[0].params == ("alice", "nobody", "There was no such nickname")


def test_whowas_returns_the_most_recent_first_up_to_count() -> None:
    h = Harness()
    alice = h.connect("alice")
    first = h.connect("bob", ip="192.0.2.1")
    first.send("QUIT")
    h.clock.advance(10)
    second = h.connect("bob", ip="192.0.2.2")
    second.send("QUIT")
    hosts = [m.params[3] for m in only(alice.cmd("WHOWAS bob"), n.RPL_WHOWASUSER)]
    assert hosts == ["192.0.2.2", "192.0.2.1"]
    limited = only(alice.cmd("WHOWAS bob 1"), n.RPL_WHOWASUSER)
    assert [m.params[3] for m in limited] == ["192.0.2.2"]
    everything = only(alice.cmd("WHOWAS bob 0"), n.RPL_WHOWASUSER)
    assert len(everything) == 2


def test_whowas_ignores_case() -> None:
    h = Harness()
    alice, bob = h.connect("alice"), h.connect("Bob")
    bob.send("QUIT")
    assert one(alice.cmd("WHOWAS BOB"), n.RPL_WHOWASUSER).params[1] == "Bob"


def test_whowas_without_a_nick_needs_more_params() -> None:
    h = Harness()
    alice = h.connect("alice")
    assert codes(alice.cmd("WHOWAS")) == [n.ERR_NEEDMOREPARAMS]
