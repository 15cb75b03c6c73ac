"""ISON, USERHOST, AWAY and the server queries (VERSION, TIME, INFO, ADMIN, HELP, LUSERS,
MOTD, USERS) through the core harness."""

from __future__ import annotations

from chatroom.irc import numerics as n
from chatroom.server.core.settings import CoreSettings, Limits
from chatroom.server.harness import Harness
from tests.server.support import codes, one

# ----------------------------------------------------------------------------- ISON


def test_ison_lists_online_nicks_as_the_server_spells_them() -> None:
    h = Harness()
    alice = h.connect("alice")
    h.connect("Bob")
    msgs = alice.cmd("ISON BOB carol alice")
    assert codes(msgs) == [n.RPL_ISON]
    assert msgs[0].params == ("alice", "Bob alice")


def test_ison_accepts_a_space_separated_trailing_list() -> None:
    h = Harness()
    alice = h.connect("alice")
    h.connect("bob")
    assert one(alice.cmd("ISON :nobody bob"), n.RPL_ISON).params == ("alice", "bob")


def test_ison_with_nobody_online_sends_an_empty_list() -> None:
    h = Harness()
    alice = h.connect("alice")
    assert one(alice.cmd("ISON ghost"), n.RPL_ISON).params == ("alice", "")


def test_ison_ignores_connections_that_have_not_registered() -> None:
    h = Harness()
    alice = h.connect("alice")
    half = h.connect()
    half.send("NICK halfway")
    assert one(alice.cmd("ISON halfway"), n.RPL_ISON).params == ("alice", "")


def test_ison_needs_a_nick() -> None:
    h = Harness()
    alice = h.connect("alice")
    assert codes(alice.cmd("ISON")) == [n.ERR_NEEDMOREPARAMS]


# ----------------------------------------------------------------------------- USERHOST


def test_userhost_reports_oper_star_and_away_minus() -> None:
    """RPL_USERHOST reply: nickname [ "*" ] "=" ( "+" / "-" ) hostname."""
    h = Harness()
    alice, bob = h.connect("alice"), h.connect("bob")
    bob.session.owner.set_mode("o", True)
    bob.send("AWAY :out")
    msgs = alice.cmd("USERHOST alice bob ghost")
    assert msgs[0].command == n.RPL_USERHOST
    assert msgs[0].params == ("alice", "alice=+~alice@127.0.0.1 bob*=-~bob@127.0.0.1")


def test_userhost_answers_at_most_five_nicks() -> None:
    h = Harness()
    alice = h.connect("alice")
    for name in "abcdef":
        h.connect(f"user{name}")
    reply = one(alice.cmd("USERHOST usera userb userc userd usere userf"), n.RPL_USERHOST)
    assert len(reply.params[1].split()) == 5
    assert "userf" not in reply.params[1]


def test_userhost_needs_a_nick() -> None:
    h = Harness()
    alice = h.connect("alice")
    assert codes(alice.cmd("USERHOST")) == [n.ERR_NEEDMOREPARAMS]


# ----------------------------------------------------------------------------- AWAY


def test_away_with_a_message_marks_you_away() -> None:
    h = Harness()
    alice = h.connect("alice")
    msgs = alice.cmd("AWAY :at lunch")
    assert codes(msgs) == [n.RPL_NOWAWAY]
    assert alice.session.away == "at lunch"


def test_away_without_a_message_marks_you_back() -> None:
    h = Harness()
    alice = h.connect("alice")
    alice.send("AWAY :at lunch")
    assert codes(alice.cmd("AWAY")) == [n.RPL_UNAWAY]
    assert alice.session.away is None


def test_away_with_an_empty_message_marks_you_back() -> None:
    h = Harness()
    alice = h.connect("alice")
    alice.send("AWAY :at lunch")
    assert codes(alice.cmd("AWAY :")) == [n.RPL_UNAWAY]
    assert alice.session.away is None


def test_away_message_is_cut_to_awaylen() -> None:
    h = Harness(CoreSettings(limits=Limits(away_length=5)))
    alice = h.connect("alice")
    alice.send("AWAY :far far away")
    assert alice.session.away == "far f"


def test_away_notify_tells_peers_who_asked_for_it() -> None:
    """away-notify: clients are sent `:nick!user@host AWAY [:message]` when a user sharing
    a channel with them sets, changes or removes their away state."""
    h = Harness()
    watcher = h.connect("watcher", caps=["away-notify"])
    plain = h.connect("plain")
    stranger = h.connect("stranger", caps=["away-notify"])
    bob = h.connect("bob")
    for client in (watcher, plain, bob):
        client.send("JOIN #room")
    for client in (watcher, plain, stranger, bob):
        client.take()
    bob.send("AWAY :brb")
    [note] = watcher.take()
    assert (note.source, note.command, note.params) == ("bob!~bob@127.0.0.1", "AWAY", ("brb",))
    assert plain.take() == []
    assert stranger.take() == []
    bob.send("AWAY")
    [back] = watcher.take()
    assert (back.command, back.params) == ("AWAY", ())


def test_away_notify_is_silent_when_you_were_not_away() -> None:
    h = Harness()
    watcher = h.connect("watcher", caps=["away-notify"])
    bob = h.connect("bob")
    for client in (watcher, bob):
        client.send("JOIN #room")
    watcher.take()
    bob.send("AWAY")
    assert watcher.take() == []


# ----------------------------------------------------------------------------- server


def test_version_sends_351_then_isupport() -> None:
    """modern docs: respond with one RPL_VERSION reply and one or more RPL_ISUPPORT."""
    h = Harness()
    alice = h.connect("alice")
    msgs = alice.cmd("VERSION")
    assert msgs[0].command == n.RPL_VERSION
    assert msgs[0].params[:3] == ("alice", "chatroom-0.1.0", "chatroom.local")
    assert len(msgs) > 1
    assert all(m.command == n.RPL_ISUPPORT for m in msgs[1:])
    assert any("WHOX" in m.params for m in msgs[1:])


def test_version_for_this_server_or_one_of_its_users_is_answered() -> None:
    h = Harness()
    alice = h.connect("alice")
    assert alice.cmd("VERSION chatroom.*")[0].command == n.RPL_VERSION
    assert alice.cmd("VERSION alice")[0].command == n.RPL_VERSION


def test_version_for_an_unknown_server_is_no_such_server() -> None:
    h = Harness()
    alice = h.connect("alice")
    msgs = alice.cmd("VERSION irc.elsewhere.example")
    assert codes(msgs) == [n.ERR_NOSUCHSERVER]
    assert msgs[0].params[1] == "irc.elsewhere.example"


def test_time_reports_the_server_clock() -> None:
    """RPL_TIME: "<client> <server> [<timestamp> [<TS offset>]] :<human-readable time>"."""
    h = Harness()
    alice = h.connect("alice")
    msgs = alice.cmd("TIME")
    assert codes(msgs) == [n.RPL_TIME]
    assert msgs[0].params[1] == "chatroom.local"
    assert "2027" in msgs[0].params[-1]  # the fake clock starts at 1.8e9 s (January 2027)


def test_info_sends_lines_then_end_of_info() -> None:
    h = Harness()
    alice = h.connect("alice")
    msgs = alice.cmd("INFO")
    assert codes(msgs)[-1] == n.RPL_ENDOFINFO
    assert set(codes(msgs)[:-1]) == {n.RPL_INFO}
    assert any("chatroom-0.1.0" in m.params[-1] for m in msgs)


def test_admin_sends_the_four_admin_numerics() -> None:
    h = Harness()
    alice = h.connect("alice")
    msgs = alice.cmd("ADMIN")
    assert codes(msgs) == [n.RPL_ADMINME, n.RPL_ADMINLOC1, n.RPL_ADMINLOC2, n.RPL_ADMINEMAIL]
    assert msgs[0].params[1] == "chatroom.local"
    assert [m.params[-1] for m in msgs[1:]] == [
        "ChatRoom server",
        "Run by its operator",
        "admin@localhost",
    ]


def test_admin_without_admin_info_is_no_admin_info() -> None:
    h = Harness(CoreSettings(admin_info=()))
    alice = h.connect("alice")
    assert codes(alice.cmd("ADMIN")) == [n.ERR_NOADMININFO]


def test_lusers_sends_the_user_counts() -> None:
    """modern docs: servers MUST reply with RPL_LUSERCLIENT and RPL_LUSERME."""
    h = Harness()
    alice = h.connect("alice")
    h.connect("bob")
    msgs = alice.cmd("LUSERS")
    assert n.RPL_LUSERCLIENT in codes(msgs)
    assert one(msgs, n.RPL_LUSERME).params[-1] == "I have 2 clients and 0 servers"


def test_motd_sends_start_lines_and_end() -> None:
    h = Harness()
    alice = h.connect("alice")
    msgs = alice.cmd("MOTD")
    assert codes(msgs) == [n.RPL_MOTDSTART, n.RPL_MOTD, n.RPL_ENDOFMOTD]


def test_motd_without_one_is_no_motd() -> None:
    h = Harness(CoreSettings(motd=()))
    alice = h.connect("alice")
    assert codes(alice.cmd("MOTD")) == [n.ERR_NOMOTD]


def test_users_is_disabled() -> None:
    h = Harness()
    alice = h.connect("alice")
    msgs = alice.cmd("USERS")
    assert codes(msgs) == [n.ERR_USERSDISABLED]
    assert msgs[0].params == ("alice", "USERS has been disabled")


# ----------------------------------------------------------------------------- HELP


def test_help_on_a_command_starts_with_its_syntax() -> None:
    """modern docs: one RPL_HELPSTART, then RPL_HELPTXT lines (the first SHOULD be empty),
    then one RPL_ENDOFHELP."""
    h = Harness()
    alice = h.connect("alice")
    msgs = alice.cmd("HELP whois")
    assert msgs[0].command == n.RPL_HELPSTART
    assert msgs[0].params == ("alice", "WHOIS", "WHOIS [<server>] <nick>")
    assert msgs[1].command == n.RPL_HELPTXT
    assert msgs[1].params == ("alice", "WHOIS", "")
    assert msgs[-1].command == n.RPL_ENDOFHELP
    assert set(codes(msgs[1:-1])) == {n.RPL_HELPTXT}
    assert any("idle" in m.params[-1] for m in msgs)


def test_help_on_a_command_with_a_long_syntax_shows_it_whole_without_a_gap() -> None:
    h = Harness()
    alice = h.connect("alice")
    msgs = alice.cmd("HELP BAN")
    assert msgs[0].params[2].endswith("IP, or CIDR)")
    texts = [m.params[-1] for m in msgs[1:-1]]
    assert texts[0] == ""
    assert "" not in texts[1:]


def test_help_works_for_every_registered_command() -> None:
    h = Harness()
    alice = h.connect("alice")
    for verb in ("JOIN", "NICK", "AWAY", "WHO", "USERHOST"):
        msgs = alice.cmd(f"HELP {verb}")
        assert msgs[0].command == n.RPL_HELPSTART, verb
        assert msgs[0].params[2].startswith(verb)


def test_help_without_a_subject_lists_the_commands() -> None:
    h = Harness()
    alice = h.connect("alice")
    msgs = alice.cmd("HELP")
    assert msgs[0].command == n.RPL_HELPSTART
    assert msgs[0].params[1] == "*"
    assert msgs[-1].command == n.RPL_ENDOFHELP
    listed = {word for m in msgs[1:-1] for word in m.params[-1].split()}
    assert {"WHO", "WHOIS", "AWAY", "HELP", "PRIVMSG"} <= listed


def test_help_on_an_unknown_subject_is_help_not_found() -> None:
    """modern docs: the <subject> MUST be the one requested, but may be casefolded."""
    h = Harness()
    alice = h.connect("alice")
    msgs = alice.cmd("HELP frobnicate")
    assert codes(msgs) == [n.ERR_HELPNOTFOUND]
    assert msgs[0].params[1] == "frobnicate"


def test_help_subject_that_cannot_be_a_parameter_is_echoed_as_star() -> None:
    """modern docs: unless it would be an invalid parameter, in which case it MUST be `*`."""
    h = Harness()
    alice = h.connect("alice")
    msgs = alice.cmd("HELP :unknown subject")
    assert codes(msgs) == [n.ERR_HELPNOTFOUND]
    assert msgs[0].params[1] == "*"


def test_helpop_is_the_same_as_help() -> None:
    h = Harness()
    alice = h.connect("alice")
    assert alice.cmd("HELPOP AWAY") == alice.cmd("HELP AWAY")
