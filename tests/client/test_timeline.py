"""Day separators, the "new messages" line and replays, in the pure client code."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from chatroom.client.session import ClientSession
from chatroom.client.state import LineKind, Show
from chatroom.client.timeline import DayBreak, EarlierLines, Entry, NewMessages, Timeline
from chatroom.irc.message import parse

NOON = datetime(2030, 5, 6, 12, 0, tzinfo=UTC)


def said(text: str, when: datetime, nick: str = "bob", **flags: Any) -> Show:
    return Show("#r", LineKind.MESSAGE, nick, text, when, **flags)


def labels(entries: list[Entry]) -> list[str]:
    out = []
    for e in entries:
        if isinstance(e, Show):
            out.append(e.text)
        elif isinstance(e, DayBreak):
            out.append(f"day {e.day.isoformat()}")
        elif isinstance(e, NewMessages):
            out.append("NEW")
        elif isinstance(e, EarlierLines):
            out.append("EARLIER")
    return out


def test_a_day_separator_goes_before_each_new_day_and_before_an_old_first_line() -> None:
    lines = [
        said("monday", NOON - timedelta(days=2)),
        said("monday again", NOON - timedelta(days=2, hours=-1)),
        said("wednesday", NOON),
    ]
    entries = Timeline(None, today=NOON.date(), tz=UTC).entries(lines)
    assert labels(entries) == [
        "day 2030-05-04",
        "monday",
        "monday again",
        "day 2030-05-06",
        "wednesday",
    ]


def test_a_log_of_today_only_has_no_separator() -> None:
    entries = Timeline(None, today=NOON.date(), tz=UTC).entries([said("hi", NOON)])
    assert labels(entries) == ["hi"]


def test_the_day_is_the_local_one() -> None:
    """23:30 UTC is already the next day two hours east of Greenwich."""
    from datetime import timezone

    late = datetime(2030, 5, 6, 23, 30, tzinfo=UTC)
    east = timezone(timedelta(hours=2))
    entries = Timeline(None, today=date(2030, 5, 1), tz=east).entries([said("x", late)])
    assert labels(entries) == ["day 2030-05-07", "x"]


def test_new_messages_line_goes_once_before_the_first_unread_line_by_someone_else() -> None:
    lines = [
        said("read", NOON),
        said("mine", NOON + timedelta(seconds=1), nick="tina", own=True),
        Show("#r", LineKind.JOIN, "carl", "carl joined", NOON + timedelta(seconds=2)),
        said("new one", NOON + timedelta(seconds=3)),
        said("new two", NOON + timedelta(seconds=4)),
    ]
    entries = Timeline(NOON, today=NOON.date(), tz=UTC).entries(lines)
    assert labels(entries) == ["read", "mine", "carl joined", "NEW", "new one", "new two"]


def test_a_run_of_earlier_lines_gets_one_heading() -> None:
    lines = [
        said("old 1", NOON, earlier=True),
        said("old 2", NOON + timedelta(seconds=1), earlier=True),
        said("live", NOON + timedelta(seconds=2)),
    ]
    entries = Timeline(None, today=NOON.date(), tz=UTC).entries(lines)
    assert labels(entries) == ["EARLIER", "old 1", "old 2", "live"]


def _feed(s: ClientSession, line: str) -> None:
    s.feed(parse(line.encode()))


def _welcomed(nick: str = "tina") -> ClientSession:
    s = ClientSession(nick, clock=lambda: NOON.timestamp())
    _feed(s, f":srv 001 {nick} :Welcome")
    _feed(s, f"@time=2030-05-06T12:00:00.000Z :{nick}!u@h JOIN #r")
    return s


def test_a_replayed_line_outside_a_batch_goes_in_its_place_as_earlier_and_read() -> None:
    s = _welcomed()
    s.set_active("*")
    _feed(s, "@time=2030-05-06T12:00:05.000Z :bob!u@h PRIVMSG #r :live")
    _feed(s, "@time=2030-05-06T11:59:00.000Z :bob!u@h PRIVMSG #r :replayed")
    texts = [line.text for line in s.logs["#r"]]
    assert texts == ["replayed", "You joined #r", "live"]
    replayed = s.logs["#r"][0]
    assert replayed.earlier
    assert replayed.history
    assert not s.logs["#r"][2].earlier
    assert s.buffers["#r"].unread == 1  # "live" only


def test_lines_without_server_time_are_never_taken_for_replays() -> None:
    s = _welcomed()
    _feed(s, ":bob!u@h PRIVMSG #r :no tag")
    assert not s.logs["#r"][-1].earlier


def test_coming_back_to_a_buffer_with_unread_lines_places_the_new_messages_line() -> None:
    s = _welcomed()
    s.set_active("#r")
    _feed(s, "@time=2030-05-06T12:00:01.000Z :bob!u@h PRIVMSG #r :read")
    s.set_active("*")
    assert s.buffers["#r"].read_until == datetime(2030, 5, 6, 12, 0, 1, tzinfo=UTC)
    s.set_active("#r")
    assert s.buffers["#r"].new_since is None  # nothing new: no line
    s.set_active("*")
    _feed(s, "@time=2030-05-06T12:00:09.000Z :bob!u@h PRIVMSG #r :unread")
    s.set_active("#r")
    assert s.buffers["#r"].new_since == datetime(2030, 5, 6, 12, 0, 1, tzinfo=UTC)
    s.set_active("*")
    assert s.buffers["#r"].new_since is None


def test_a_dropped_connection_marks_what_follows_in_the_open_buffer_as_new() -> None:
    s = _welcomed()
    s.set_active("#r")
    _feed(s, "@time=2030-05-06T12:00:01.000Z :bob!u@h PRIVMSG #r :before")
    s.reconnecting()
    assert s.buffers["#r"].new_since == datetime(2030, 5, 6, 12, 0, 1, tzinfo=UTC)
