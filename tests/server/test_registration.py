"""Connection registration, CAP negotiation, keep-alive and timeouts, through the core harness."""

from __future__ import annotations

from chatroom.irc import numerics as n
from chatroom.server.core.settings import CoreSettings, Timeouts
from chatroom.server.harness import Harness
from tests.server.support import codes


def test_nick_and_user_register_with_welcome_burst_in_order() -> None:
    h = Harness()
    c = h.connect()
    c.send("NICK alice", "USER alice 0 * :Alice Liddell")
    got = codes(c.take())
    assert got[:4] == ["001", "002", "003", "004"]
    assert "005" in got
    assert got.index("251") > got.index("005")
    assert got[-1] == n.RPL_ENDOFMOTD


def test_welcome_names_the_full_prefix() -> None:
    h = Harness()
    c = h.connect()
    c.send("NICK alice", "USER al 0 * :Alice")
    welcome = c.take()[0]
    assert welcome.params[-1].endswith("alice!~al@127.0.0.1")


def test_isupport_advertises_bot_mode_and_casemapping() -> None:
    h = Harness()
    c = h.connect()
    c.send("NICK alice", "USER a 0 * :A")
    tokens = [p for m in c.take() if m.command == "005" for p in m.params[1:-1]]
    assert "BOT=B" in tokens
    assert "CASEMAPPING=rfc1459" in tokens
    assert "PREFIX=(ov)@+" in tokens


def test_commands_before_registration_get_451() -> None:
    h = Harness()
    c = h.connect()
    assert codes(c.cmd("JOIN #lobby")) == [n.ERR_NOTREGISTERED]


def test_unknown_command_gets_421() -> None:
    h = Harness()
    c = h.connect("alice")
    reply = c.cmd("FROBNICATE now")
    assert codes(reply) == [n.ERR_UNKNOWNCOMMAND]
    assert reply[0].params[1] == "FROBNICATE"


def test_user_with_too_few_params_gets_461() -> None:
    h = Harness()
    c = h.connect()
    assert codes(c.cmd("USER onlyone")) == [n.ERR_NEEDMOREPARAMS]


def test_nickname_in_use_gets_433_even_with_other_case() -> None:
    h = Harness()
    h.connect("Alice")
    c = h.connect()
    reply = c.cmd("NICK aLICE")
    assert codes(reply) == [n.ERR_NICKNAMEINUSE]


def test_rfc1459_casemapping_treats_brackets_as_lowercase_braces() -> None:
    h = Harness()
    h.connect("nick[a]")
    c = h.connect()
    assert codes(c.cmd("NICK NICK{A}")) == [n.ERR_NICKNAMEINUSE]


def test_erroneous_nickname_gets_432() -> None:
    h = Harness()
    c = h.connect()
    assert codes(c.cmd("NICK 1abc")) == [n.ERR_ERRONEUSNICKNAME]
    assert codes(c.cmd("NICK")) == [n.ERR_NONICKNAMEGIVEN]


def test_cap_negotiation_holds_registration_until_cap_end() -> None:
    h = Harness()
    c = h.connect()
    ls = c.cmd("CAP LS 302")
    assert ls[0].command == "CAP"
    assert ls[0].params[1] == "LS"
    assert "echo-message" in [cap for m in ls for cap in m.params[-1].split()]
    c.send("NICK alice", "USER a 0 * :A")
    assert codes(c.take()) == []
    ack = c.cmd("CAP REQ :echo-message server-time")
    assert ack[0].params[1:] == ("ACK", "echo-message server-time")
    got = codes(c.cmd("CAP END"))
    assert got[0] == n.RPL_WELCOME


def test_cap_req_with_unknown_cap_is_refused_whole() -> None:
    h = Harness()
    c = h.connect()
    c.send("CAP LS 302")
    reply = c.cmd("CAP REQ :echo-message no-such-cap")
    assert reply[0].params[1] == "NAK"
    assert reply[0].params[2] == "echo-message no-such-cap"
    listed = c.cmd("CAP LIST")
    assert "echo-message" not in listed[0].params[-1].split()


def test_cap_ls_302_implies_cap_notify() -> None:
    h = Harness()
    c = h.connect()
    c.send("CAP LS 302")
    listed = c.cmd("CAP LIST")
    assert "cap-notify" in listed[0].params[-1].split()


def test_cap_ls_before_302_comes_in_one_line_when_it_fits() -> None:
    """A CAP 3.1 client cannot know that more lines follow (the irc library looks for
    sasl in the first one only), so the whole list comes in one line of at most 512."""
    c = Harness().connect()
    c.send("CAP LS")
    [line] = c.inbox
    assert len(line) <= 512
    assert {b"sasl", b"draft/read-marker"} <= set(line.rstrip(b"\r\n").split())


def test_invalid_cap_subcommand_gets_410() -> None:
    h = Harness()
    c = h.connect()
    assert codes(c.cmd("CAP FOO")) == [n.ERR_INVALIDCAPCMD]


def test_ping_gets_pong_with_same_token() -> None:
    h = Harness()
    c = h.connect("alice")
    reply = c.cmd("PING :abc 123")
    assert reply[0].command == "PONG"
    assert reply[0].params[-1] == "abc 123"


def test_overlong_line_gets_417_and_the_connection_stays() -> None:
    h = Harness()
    c = h.connect("alice")
    reply = c.cmd("PRIVMSG bob :" + "x" * 600)
    assert codes(reply) == [n.ERR_INPUTTOOLONG]
    assert codes(c.cmd("PING x")) == ["PONG"]


def test_server_password_is_required_when_configured() -> None:
    h = Harness(CoreSettings(server_password="sesame"))
    bad = h.connect()
    bad.send("PASS wrong", "NICK alice", "USER a 0 * :A")
    got = bad.take()
    assert codes(got)[:2] == [n.ERR_PASSWDMISMATCH, "ERROR"]
    assert bad.closed_reason == "Bad password"
    good = h.connect()
    good.send("PASS sesame", "NICK alice", "USER a 0 * :A")
    assert codes(good.take())[0] == n.RPL_WELCOME


def test_registration_times_out() -> None:
    h = Harness(CoreSettings(timeouts=Timeouts(registration=10)))
    c = h.connect()
    c.send("NICK slow")
    h.tick(9)
    assert c.closed_reason is None
    h.tick(2)
    assert c.closed_reason == "Registration timed out"
    assert h.world.nicks.find("slow") is None


def test_idle_client_is_pinged_then_dropped_when_silent() -> None:
    h = Harness(CoreSettings(timeouts=Timeouts(ping_interval=30, ping_timeout=20)))
    c = h.connect("alice")
    h.tick(31)
    assert codes(c.take()) == ["PING"]
    h.tick(21)
    assert c.closed_reason is not None
    assert c.closed_reason.startswith("Ping timeout")


def test_answering_the_ping_keeps_the_connection() -> None:
    h = Harness(CoreSettings(timeouts=Timeouts(ping_interval=30, ping_timeout=20)))
    c = h.connect("alice")
    h.tick(31)
    token = c.take()[0].params[0]
    c.send(f"PONG :{token}")
    h.tick(21)
    assert c.closed_reason is None


def test_quit_sends_error_and_frees_the_nick() -> None:
    h = Harness()
    c = h.connect("alice")
    reply = c.cmd("QUIT :gone fishing")
    assert reply[-1].command == "ERROR"
    assert c.closed_reason == "Quit: gone fishing"
    assert h.world.nicks.find("alice") is None


def test_nick_change_is_seen_by_self() -> None:
    h = Harness()
    c = h.connect("alice")
    reply = c.cmd("NICK alicia")
    assert reply[0].command == "NICK"
    assert reply[0].params == ("alicia",)
    assert reply[0].source == "alice!~alice@127.0.0.1"
    assert h.world.nicks.find("alice") is None
    assert h.world.nicks.find("alicia") is c.session.owner


def test_labeled_command_with_one_reply_gets_the_label() -> None:
    h = Harness()
    c = h.connect("alice", caps=["labeled-response", "batch"])
    reply = c.cmd("@label=abc PING x")
    assert reply[0].command == "PONG"
    assert reply[0].tags["label"] == "abc"


def test_labeled_command_with_no_reply_gets_ack() -> None:
    h = Harness()
    c = h.connect("alice", caps=["labeled-response", "batch"])
    reply = c.cmd("@label=xyz PONG x")
    assert codes(reply) == ["ACK"]
    assert reply[0].tags["label"] == "xyz"


def test_labeled_command_with_many_replies_is_batched() -> None:
    """labeled-response: several replies come in a BATCH of type labeled-response."""
    h = Harness()
    c = h.connect("alice", caps=["labeled-response", "batch"])
    reply = c.cmd("@label=m1 MOTD")
    assert reply[0].command == "BATCH"
    assert reply[0].params[1] == "labeled-response"
    assert reply[0].tags["label"] == "m1"
    ref = reply[0].params[0][1:]
    assert all(m.tags.get("batch") == ref for m in reply[1:-1])
    assert reply[-1].command == "BATCH"
    assert reply[-1].params == ("-" + ref,)


def test_setname_is_shown_to_peers_with_the_cap() -> None:
    h = Harness()
    a = h.connect("alice", caps=["setname"])
    b = h.connect("bob", caps=["setname"])
    a.send("JOIN #lobby")
    b.send("JOIN #lobby")
    b.take()
    mine = a.cmd("SETNAME :Alice in Wonderland")
    assert mine[0].command == "SETNAME"
    assert b.take()[0].params == ("Alice in Wonderland",)
