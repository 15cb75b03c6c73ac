"""Acknowledged means saved: no reply reports a durable change before its commit answers.

The harness holds every ``Persist`` (``hold_persists``), so a test sees exactly what a
client would have read while the write was still on its way to the disk: if the server
were killed then, any confirmation already sent would be a lie. Then the commit is
answered, with success (the confirmation comes) or with an error (a clear refusal comes,
and the change is not in force either).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import pytest

from chatroom.server.harness import Harness, SimClient
from chatroom.server.store.base import DeleteAccount, PutAccount
from tests.server.moderation_support import PASSWORD, notices, oper, user

FP = "ab" * 32


@dataclass(frozen=True)
class Case:
    """One durable change: how to get there, what confirms it, what refuses it."""

    setup: Callable[[Harness], SimClient]  # returns the client that sends ``line``
    line: str
    confirmed: str  # a part of the confirmation
    refused: str  # a part of the answer when the commit fails
    unchanged: Callable[[Harness], bool]  # after a failed commit: nothing is in force


def _oper_and_bob(h: Harness) -> SimClient:
    user(h, "bob")
    return oper(h)


def _banned_bob(h: Harness) -> SimClient:
    admin = _oper_and_bob(h)
    admin.cmd("BAN a:bob :spam")
    return admin


def _muted_bob(h: Harness) -> SimClient:
    admin = _oper_and_bob(h)
    admin.cmd("MUTE bob :spam")
    return admin


def _room_op(h: Harness) -> SimClient:
    alice = user(h, "alice")
    alice.cmd("JOIN #room")
    return alice


def _founder(h: Harness) -> SimClient:
    alice = _room_op(h)
    user(h, "bob")
    alice.cmd("PRIVMSG ChanServ :REGISTER #room")
    return alice


def _founder_with_bob(h: Harness) -> SimClient:
    alice = _founder(h)
    alice.cmd("PRIVMSG ChanServ :ACCESS #room ADD bob")
    return alice


def _bob_client(h: Harness) -> SimClient:
    return next(c for c in h.clients.values() if c.nick == "bob" and c.closed_reason is None)


def _room_registered(h: Harness) -> bool:
    room = h.world.rooms.find("#room")
    return room is not None and room.registration is not None


def _room_ops(h: Harness) -> tuple[str, ...]:
    room = h.world.rooms.find("#room")
    assert room is not None
    assert room.registration is not None
    return room.registration.ops


def _room_bans(h: Harness) -> list[str]:
    room = h.world.rooms.find("#room")
    return [] if room is None else [e.mask for e in room.lists["b"]]


CASES = {
    "BAN": Case(
        _oper_and_bob,
        "BAN a:bob :spam",
        "Banned account:bob",
        "Not banned",
        lambda h: not len(h.world.sanctions.bans),
    ),
    "UNBAN": Case(
        _banned_bob,
        "UNBAN a:bob",
        "Lifted the server ban on account:bob",
        "still in force",
        lambda h: len(h.world.sanctions.bans) == 1,
    ),
    "MUTE": Case(
        _oper_and_bob,
        "MUTE bob 1h :spam",
        "Muted bob",
        "Not muted",
        lambda h: not h.world.sanctions.mutes and _bob_client(h).session.muted is None,
    ),
    "UNMUTE": Case(
        _muted_bob,
        "UNMUTE bob",
        "Unmuted bob",
        "still muted",
        lambda h: "bob" in h.world.sanctions.mutes and _bob_client(h).session.muted is not None,
    ),
    "TBAN": Case(
        _room_op,
        "TBAN #room 1h spam!*@*",
        "Timed ban on spam!*@*",
        "No timed ban",
        lambda h: _room_bans(h) == [],
    ),
    "ChanServ REGISTER": Case(
        _room_op,
        "PRIVMSG ChanServ :REGISTER #room",
        "is now registered to alice",
        "is not registered",
        lambda h: not _room_registered(h),
    ),
    "ChanServ DROP": Case(
        _founder,
        "PRIVMSG ChanServ :DROP #room",
        "is no longer registered",
        "is still registered",
        _room_registered,
    ),
    "ChanServ ACCESS ADD": Case(
        _founder,
        "PRIVMSG ChanServ :ACCESS #room ADD bob",
        "bob added to the op list",
        "op list of #room is unchanged",
        lambda h: _room_ops(h) == (),
    ),
    "ChanServ ACCESS DEL": Case(
        _founder_with_bob,
        "PRIVMSG ChanServ :ACCESS #room DEL bob",
        "bob removed from the op list",
        "op list of #room is unchanged",
        lambda h: _room_ops(h) == ("bob",),
    ),
    "NickServ SET PASSWORD": Case(
        lambda h: user(h, "alice"),
        "PRIVMSG NickServ :SET PASSWORD another-long-password",
        "password has been changed",
        "could not be saved",
        lambda h: h.hasher.verify(h.world.accounts["alice"].password_hash, PASSWORD),
    ),
    "NickServ DROP": Case(
        lambda h: user(h, "alice"),
        "PRIVMSG NickServ :DROP alice",
        "has been dropped",
        "could not be dropped",
        lambda h: "alice" in h.world.accounts,
    ),
    "NickServ CERT ADD": Case(
        lambda h: user(h, "alice"),
        f"PRIVMSG NickServ :CERT ADD {FP}",
        "now logs in to alice",
        "could not be saved",
        lambda h: h.world.accounts["alice"].certfps == (),
    ),
    "NickServ REGISTER": Case(
        lambda h: h.connect("carol"),
        "PRIVMSG NickServ :REGISTER a-long-enough-password",
        "is now registered to you",
        "could not be saved",
        lambda h: "carol" not in h.world.accounts,
    ),
}


def _texts(client: SimClient) -> list[str]:
    """Every NOTICE and REGISTER/FAIL text the client received since the last look."""
    return [m.params[-1] for m in client.take() if m.command in ("NOTICE", "FAIL")]


@pytest.mark.parametrize("name", list(CASES))
def test_no_confirmation_is_sent_before_the_commit_answers(name: str) -> None:
    case = CASES[name]
    h = Harness()
    client = case.setup(h)
    client.take()
    h.hold_persists = True
    client.send(case.line)
    waiting = _texts(client)
    assert h.held, "the change was never sent to the store"
    assert not any(case.confirmed in text for text in waiting), waiting
    h.release_persists()
    assert any(case.confirmed in text for text in _texts(client))


@pytest.mark.parametrize("name", list(CASES))
def test_a_refused_commit_is_reported_and_nothing_stays_in_force(name: str) -> None:
    case = CASES[name]
    h = Harness()
    client = case.setup(h)
    client.take()
    h.hold_persists = True
    client.send(case.line)
    h.release_persists(fail=True)
    answer = _texts(client)
    assert any(case.refused in text for text in answer), answer
    assert not any(case.confirmed in text for text in answer), answer
    assert case.unchanged(h)


def test_a_ban_is_enforced_at_once_but_confirmed_only_after_the_commit() -> None:
    """Enforcement never waits for the disk: bob is gone while the write is on its way."""
    h = Harness()
    admin = _oper_and_bob(h)
    bob = _bob_client(h)
    h.hold_persists = True
    admin.cmd("BAN a:bob :spam")
    assert bob.closed_reason is not None
    assert "banned" in bob.closed_reason
    h.release_persists()
    assert any("1 connection(s) closed" in text for text in _texts(admin))


def test_an_unban_lifts_the_ban_only_once_it_is_saved() -> None:
    h = Harness()
    admin = _banned_bob(h)
    h.hold_persists = True
    admin.cmd("UNBAN a:bob")
    assert len(h.world.sanctions.bans) == 1  # still in force while the lift is unsaved
    h.release_persists()
    assert not len(h.world.sanctions.bans)


def test_the_muted_user_hears_of_the_mute_only_after_the_commit() -> None:
    h = Harness()
    admin = _oper_and_bob(h)
    bob = _bob_client(h)
    bob.take()
    h.hold_persists = True
    admin.cmd("MUTE bob :spam")
    assert bob.session.muted is not None  # in force at once
    assert not any("muted" in text for text in notices(bob.take()))
    h.release_persists()
    assert any("You have been muted" in text for text in notices(bob.take()))


def test_a_refused_timed_ban_is_announced_as_lifted_to_the_room() -> None:
    h = Harness()
    alice = _room_op(h)
    watcher = h.connect("watcher")
    watcher.cmd("JOIN #room")
    h.hold_persists = True
    alice.cmd("TBAN #room 1h spam!*@*")
    assert [m.params[1:] for m in watcher.take() if m.command == "MODE"] == [("+b", "spam!*@*")]
    h.release_persists(fail=True)
    assert [m.params[1:] for m in watcher.take() if m.command == "MODE"] == [("-b", "spam!*@*")]


def test_a_refused_ban_gives_back_the_ban_it_replaced() -> None:
    h = Harness()
    admin = _oper_and_bob(h)
    admin.cmd("BAN a:bob :first")
    h.hold_persists = True
    admin.cmd("BAN a:bob 1h :second")
    h.release_persists(fail=True)
    [kept] = h.world.sanctions.bans.bans
    assert (kept.reason, kept.expires_at) == ("first", None)


def test_a_labeled_ban_gets_its_label_on_the_confirmation_after_the_commit() -> None:
    h = Harness()
    user(h, "bob")
    admin = oper(h)
    admin.cmd("CAP REQ :labeled-response batch")
    h.hold_persists = True
    assert admin.cmd("@label=b1 BAN a:bob :spam") == []  # no ACK: an answer is coming
    h.release_persists()
    answer = admin.take()
    assert answer[0].command == "BATCH"
    assert answer[0].tags["label"] == "b1"
    assert any("Banned account:bob" in m.params[-1] for m in answer if m.command == "NOTICE")


def _modes(client: SimClient) -> list[tuple[str, ...]]:
    return [tuple(m.params[1:]) for m in client.take() if m.command == "MODE"]


def test_a_room_ban_in_a_registered_room_is_announced_once_it_is_saved() -> None:
    """The MODE line is what tells the op (and the room) that +b holds; in a registered
    room it holds across a restart only once it is written, so it comes after the commit."""
    h = Harness()
    alice = _founder(h)
    watcher = h.connect("watcher")
    watcher.cmd("JOIN #room")
    h.hold_persists = True
    alice.send("MODE #room +b spam!*@*")
    assert _modes(alice) == []
    assert _modes(watcher) == []
    assert _room_bans(h) == ["spam!*@*"]  # in force already
    h.release_persists()
    assert _modes(alice) == [("+b", "spam!*@*")]
    assert _modes(watcher) == [("+b", "spam!*@*")]


def test_a_room_ban_in_an_unregistered_room_is_announced_at_once() -> None:
    h = Harness()
    alice = _room_op(h)
    h.hold_persists = True
    alice.send("MODE #room +b spam!*@*")
    assert _modes(alice) == [("+b", "spam!*@*")]


def test_a_room_change_the_store_refuses_is_announced_with_a_warning() -> None:
    h = Harness()
    alice = _founder(h)
    h.hold_persists = True
    alice.send("TOPIC #room :new topic")
    assert not [m for m in alice.take() if m.command == "TOPIC"]
    h.release_persists(fail=True)
    answer = alice.take()
    assert [m.params[-1] for m in answer if m.command == "TOPIC"] == ["new topic"]
    assert any("could not be saved" in text for text in notices(answer))


def test_a_topic_in_a_registered_room_is_announced_once_it_is_saved() -> None:
    h = Harness()
    alice = _founder(h)
    h.hold_persists = True
    alice.send("TOPIC #room :saved topic")
    assert not [m for m in alice.take() if m.command == "TOPIC"]
    h.release_persists()
    assert [m.params[-1] for m in alice.take() if m.command == "TOPIC"] == ["saved topic"]
    assert h.store.load().channels["#room"].topic == "saved topic"


def test_an_operator_grant_from_the_shell_survives_a_certificate_change_before_the_reload() -> None:
    """``chatroom admin oper alice on`` printed its confirmation; before the server reloads
    (up to two seconds), alice adds a certificate. The server's write must not put back
    the account as the server still holds it, without the grant."""
    h = Harness()
    alice = user(h, "alice")
    account = h.world.accounts["alice"]
    h.store.apply([PutAccount(replace(account, oper_role="oper"))])  # the shell's grant
    alice.cmd(f"PRIVMSG NickServ :CERT ADD {FP}")
    alice.cmd("PRIVMSG NickServ :SET PASSWORD another-long-password")
    stored = h.store.load().accounts["alice"]
    assert (stored.oper_role, stored.certfps) == ("oper", (FP,))
    assert h.hasher.verify(stored.password_hash, "another-long-password")


def test_a_deleted_account_is_not_brought_back_by_a_write_before_the_reload() -> None:
    h = Harness()
    alice = user(h, "alice")
    h.store.apply([DeleteAccount("alice")])  # chatroom admin delete alice
    alice.cmd(f"PRIVMSG NickServ :CERT ADD {FP}")
    assert "alice" not in h.store.load().accounts
