"""A duration too long for a date (found by fuzz/fuzz_server.py): ``TBAN #room
99999999999999w mask`` raised OverflowError formatting its end, after the +b had been set
and announced, and answered 400 "nothing was changed". Durations over 100 years are now
no durations: refused where one is required, part of the reason where it is optional."""

from __future__ import annotations

import logging

import pytest

from chatroom.irc import numerics as n
from chatroom.server.core.bans import parse_duration
from chatroom.server.harness import Harness
from tests.server.moderation_support import numerics, oper, user


@pytest.mark.parametrize("text", ["99999999999999w", "101y", "9" * 400, "3200000000"])
def test_a_duration_over_a_hundred_years_is_no_duration(text: str) -> None:
    assert parse_duration(text) is None


def test_a_hundred_years_is_still_a_duration() -> None:
    assert parse_duration("100y") == 100 * 31536000


def test_tban_with_a_huge_duration_is_refused_and_sets_no_ban(
    caplog: pytest.LogCaptureFixture,
) -> None:
    h = Harness()
    alice = user(h, "alice")
    alice.cmd("JOIN #room")
    with caplog.at_level(logging.ERROR):
        replies = alice.cmd("TBAN #room 99999999999999w spam!*@*")
    assert numerics(replies) == [n.ERR_INVALIDMODEPARAM]
    room = h.world.rooms.find("#room")
    assert room is not None
    assert room.lists["b"] == []
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


@pytest.mark.parametrize("command", ["BAN spam!*@*", "MUTE bob"])
def test_ban_and_mute_with_a_huge_duration_do_not_fail(
    command: str, caplog: pytest.LogCaptureFixture
) -> None:
    h = Harness()
    h.add_account("bob", "correct-horse")
    admin = oper(h)
    with caplog.at_level(logging.ERROR):
        replies = admin.cmd(f"{command} 99999999999999w :spam")
    assert n.ERR_UNKNOWNERROR not in numerics(replies)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
