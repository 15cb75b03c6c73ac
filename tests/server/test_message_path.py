"""The room message's own shortcuts (issue 18): each gives exactly what the general way
gives, so the cheaper path changes no byte a client or the history sees."""

from __future__ import annotations

import calendar
import time

import pytest

from chatroom.server.core.history import HistoryRecord, format_time, new_record
from chatroom.server.harness import Harness


def _reference_time(ms: int) -> str:
    seconds, millis = divmod(ms, 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{millis:03d}Z"


@pytest.mark.parametrize(
    "ms",
    [
        0,
        1,
        999,
        1000,
        1001,
        59_999,
        60_000,
        1_764_900_000_000,
        1_764_900_000_999,
        4_102_444_799_999,
    ],
)
def test_server_time_is_the_iso_form_of_the_millisecond(ms: int) -> None:
    assert format_time(ms) == _reference_time(ms)


def test_server_time_of_consecutive_milliseconds_across_a_second() -> None:
    start = calendar.timegm((2026, 12, 31, 23, 59, 59, 0, 0, 0)) * 1000 + 990
    for ms in range(start, start + 30):  # into the next second, minute, hour, day, year
        assert format_time(ms) == _reference_time(ms)


def test_a_record_built_for_a_message_equals_the_dataclass_built_one() -> None:
    values = (
        "#lobby",
        "abc-1",
        1_764_900_000_123,
        "a:alice",
        "",
        "alice!~alice@127.0.0.1",
        "PRIVMSG",
        "#Lobby",
        "hello",
        "alice",
        (("+typing", "active"),),
    )
    built = new_record(*values)
    made = HistoryRecord(*values)
    assert built == made
    assert type(built) is HistoryRecord
    assert built.order == 0
    assert hash(built) == hash(made)


def test_the_stored_record_of_a_room_message_holds_what_was_delivered() -> None:
    h = Harness()
    alice = h.connect("alice", caps=["message-tags", "server-time"])
    bob = h.connect("bob", caps=["message-tags", "server-time"])
    alice.cmd("JOIN #lobby")
    bob.cmd("JOIN #lobby")
    bob.take()
    alice.send("@+draft/reply=x PRIVMSG #lobby :hello there")
    (line,) = bob.take()
    (record,) = h.history.lines["#lobby"]
    assert record == HistoryRecord(
        target="#lobby",
        msgid=line.tags["msgid"],
        at=int(h.clock() * 1000),
        sender="n:alice",
        recipient="",
        source="alice!~alice@127.0.0.1",
        command="PRIVMSG",
        target_name="#lobby",
        text="hello there",
        account=None,
        tags=(("+draft/reply", "x"),),
    )
    assert line.tags["time"] == format_time(record.at)
