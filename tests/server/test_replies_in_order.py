"""Replies in order: a connection's later commands wait for the answer of one that waits.

Clients and bots send a command and then PING, and take everything before the PONG as the
command's answer. So on one connection every reply to a command comes before any reply
to a later command, whatever the command waits on (a password check in a worker, a
commit, a history query); other connections are never held up.

The harness defers every answer here (``defer_answers``), as the real shell does, so the
tests see what a client sees while the answer is on its way.
"""

from __future__ import annotations

import base64

from chatroom.irc import numerics as n
from chatroom.irc.message import Message
from chatroom.server.core.settings import CoreSettings, Limits, Timeouts
from chatroom.server.harness import Harness, SimClient
from tests.server.login_support import sasl_plain, settings, unregistered
from tests.server.moderation_support import PASSWORD
from tests.server.support import codes


def deferring(settings: CoreSettings | None = None) -> Harness:
    h = Harness(settings)
    h.defer_answers = True
    return h


def commands_then_pong(msgs: list[Message]) -> list[str]:
    """The commands received, cut after the PONG (what a PING barrier would collect)."""
    seen = codes(msgs)
    return seen[: seen.index("PONG") + 1] if "PONG" in seen else seen


def registered_guest(h: Harness, nick: str) -> SimClient:
    h.defer_answers = False
    client = h.connect(nick)
    h.defer_answers = True
    return client


def test_oper_answer_comes_before_the_pong_of_a_ping_sent_after_it() -> None:
    """`OPER a b` then `PING x` gave `PONG x` first and 381 a few ms later."""
    h = deferring()
    h.add_account("boss", PASSWORD, oper=True)
    boss = registered_guest(h, "boss")
    boss.send(f"OPER boss {PASSWORD}", "PING barrier")
    assert "PONG" not in codes(boss.take())  # the check is still in the worker
    h.answer()
    got = commands_then_pong(boss.take())
    assert got[-1] == "PONG"
    assert n.RPL_YOUREOPER in got


def test_nickserv_identify_answer_comes_before_the_pong() -> None:
    h = deferring()
    h.add_account("alice", PASSWORD)
    alice = registered_guest(h, "alice")
    alice.send(f"PRIVMSG NickServ :IDENTIFY {PASSWORD}", "PING barrier")
    assert codes(alice.take()) == []
    h.answer()
    got = commands_then_pong(alice.take())
    assert got[-1] == "PONG"
    assert n.RPL_LOGGEDIN in got


def test_register_success_comes_before_the_pong_after_the_hash_and_the_commit() -> None:
    h = deferring()
    bob = registered_guest(h, "bob")
    bob.send(f"REGISTER * * {PASSWORD}", "PING barrier")
    h.answer()  # the hash; the commit is asked for only now
    assert "PONG" not in codes(bob.take())
    h.answer()  # the commit
    got = bob.take()
    kinds = commands_then_pong(got)
    assert kinds.index("REGISTER") < kinds.index("PONG")


def test_sasl_plain_then_cap_end_and_join_wait_for_the_login() -> None:
    """A client that pipelines its whole login gets 903 before 001, and its JOIN works."""
    h = deferring()
    h.add_account("carol", PASSWORD)
    c = h.connect()
    blob = base64.b64encode(f"\0carol\0{PASSWORD}".encode()).decode()
    c.send(
        "CAP LS 302",
        "CAP REQ :sasl",
        "NICK carol",
        "USER carol 0 * :Carol",
        "AUTHENTICATE PLAIN",
        f"AUTHENTICATE {blob}",
        "CAP END",
        "JOIN #room",
        "PING barrier",
    )
    h.answer()  # the password check
    h.answer()  # the history query for what a first login missed (nothing here)
    got = commands_then_pong(c.take())
    assert got.index(n.RPL_SASLSUCCESS) < got.index(n.RPL_WELCOME) < got.index("JOIN")
    assert got[-1] == "PONG"


def test_a_labeled_sasl_plain_exchange_gets_its_900_and_903_in_the_labeled_batch() -> None:
    h = deferring()
    h.add_account("dave", PASSWORD)
    c = h.connect()
    c.send("CAP LS 302", "CAP REQ :sasl labeled-response batch", "AUTHENTICATE PLAIN")
    c.take()
    blob = base64.b64encode(f"\0dave\0{PASSWORD}".encode()).decode()
    c.send(f"@label=L1 AUTHENTICATE {blob}")
    assert c.take() == []
    h.answer()
    got = c.take()
    assert got[0].command == "BATCH"
    assert got[0].tags["label"] == "L1"
    ref = got[0].params[0][1:]
    inner = [m for m in got[1:-1] if m.tags.get("batch") == ref]
    assert {n.RPL_LOGGEDIN, n.RPL_SASLSUCCESS} <= set(codes(inner))
    assert got[-1].command == "BATCH"
    assert got[-1].params[0] == "-" + ref


def test_chathistory_batch_comes_before_the_pong() -> None:
    h = deferring()
    eve = registered_guest(h, "eve")
    eve.send("CAP REQ :draft/chathistory batch server-time message-tags", "JOIN #room")
    eve.send("PRIVMSG #room :one", "PRIVMSG #room :two")
    h.answer()
    eve.take()
    eve.send("CHATHISTORY LATEST #room * 10", "PING barrier")
    assert codes(eve.take()) == []
    h.answer()
    got = commands_then_pong(eve.take())
    assert got[0] == "BATCH"
    assert got.count("PRIVMSG") == 2
    assert got[-2:] == ["BATCH", "PONG"]


def test_a_waiting_command_does_not_hold_up_another_connection() -> None:
    h = deferring()
    frank = registered_guest(h, "frank")
    grace = registered_guest(h, "grace")
    frank.send("CAP REQ :draft/chathistory batch", "JOIN #room")
    h.answer()
    frank.take()
    frank.send("CHATHISTORY LATEST #room * 10", "PING f")
    assert grace.cmd("PING g")[-1].command == "PONG"
    assert "PONG" not in codes(frank.take())


def test_lines_held_behind_a_waiting_command_are_bounded_by_the_flood_backlog() -> None:
    h = deferring(CoreSettings(limits=Limits(connections_per_address=100, flood_backlog=8)))
    h.add_account("hank", PASSWORD)
    hank = registered_guest(h, "hank")
    hank.send(f"PRIVMSG NickServ :IDENTIFY {PASSWORD}")
    hank.send(*[f"PING {i}" for i in range(9)])
    assert hank.closed_reason == "Excess Flood"


def test_an_answer_that_never_comes_fails_the_command_and_frees_the_connection() -> None:
    h = deferring(CoreSettings(timeouts=Timeouts(answer=5.0)))
    h.add_account("ivy", PASSWORD, oper=True)
    ivy = registered_guest(h, "ivy")
    ivy.send(f"OPER ivy {PASSWORD}", "PING barrier")
    h.tick(4.0)
    assert "PONG" not in codes(ivy.take())
    h.tick(1.5)
    got = commands_then_pong(ivy.take())
    assert got[-1] == "PONG"
    assert n.RPL_YOUREOPER not in got
    assert n.ERR_PASSWDMISMATCH in got
    h.answer()  # the late answer changes nothing
    assert "o" not in ivy.session.modes


def test_a_too_long_line_behind_a_waiting_command_is_answered_in_its_place() -> None:
    h = deferring()
    h.add_account("jill", PASSWORD)
    jill = registered_guest(h, "jill")
    jill.send(f"PRIVMSG NickServ :IDENTIFY {PASSWORD}")
    h.world.receive_too_long(jill.session)
    jill.send("PING barrier")
    h.answer()
    got = codes(jill.take())
    assert got.index(n.RPL_LOGGEDIN) < got.index(n.ERR_INPUTTOOLONG) < got.index("PONG")


def test_a_login_the_throttle_holds_keeps_the_connections_later_lines_behind_it() -> None:
    """Three guesses in flight use the free budget; a fourth login waits in the throttle
    for them, and its connection's PING waits for that login's answer."""
    h = Harness(settings())
    h.add_account("owner", PASSWORD)
    h.hold_password_checks = True
    guessers = [unregistered(h, f"g{i}") for i in range(3)]
    for guesser in guessers:
        sasl_plain(guesser, "owner", "wrong-guess")
    waiting = unregistered(h, "w")
    sasl_plain(waiting, "owner", PASSWORD)
    waiting.send("PING barrier")
    assert "PONG" not in codes(waiting.take())
    h.answer_password_checks()  # the guesses fail; the held login is decided and checked
    h.answer_password_checks()
    got = codes(waiting.take())
    assert "PONG" in got
    assert got.index("PONG") > max(
        (got.index(code) for code in (n.RPL_SASLSUCCESS, n.ERR_SASLFAIL) if code in got),
        default=-1,
    )
    assert n.RPL_SASLSUCCESS in got or n.ERR_SASLFAIL in got


def test_a_connection_that_hangs_up_while_its_command_waits_still_has_its_lines_run() -> None:
    """A bot sends IDENTIFY, a JOIN and a message and closes the socket before the check
    ends: what it sent still happens, and then it is gone (its nick free, its QUIT seen)."""
    h = deferring()
    h.add_account("kim", PASSWORD)
    watcher = registered_guest(h, "watcher")
    watcher.send("JOIN #news")
    h.answer()
    kim = registered_guest(h, "kim")
    kim.send(f"PRIVMSG NickServ :IDENTIFY {PASSWORD}", "JOIN #news", "PRIVMSG #news :hello")
    kim.drop()
    assert h.world.nicks.find("kim") is not None  # held until its lines ran
    watcher.take()
    h.answer()
    heard = watcher.take()
    assert [m.command for m in heard] == ["JOIN", "PRIVMSG", "QUIT"]
    assert h.world.nicks.find("kim") is None
    assert kim.session.id not in h.world.sessions
