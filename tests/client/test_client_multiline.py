"""draft/multiline in the client session: a batch of lines is one message to show, live
or from history, in the terminal app and in line mode alike."""

from __future__ import annotations

from datetime import UTC, datetime

from chatroom.client.login import WANTED_CAPS
from chatroom.client.plain import format_plain
from chatroom.client.state import LineKind, Show
from chatroom.tui.widgets import render_line
from tests.client.test_client_session import feed, shown, welcomed

BATCH = [
    "@msgid=m1;time=2030-01-01T10:00:00.000Z :bob!u@h BATCH +ml draft/multiline #lobby",
    "@batch=ml :bob!u@h PRIVMSG #lobby :first line",
    "@batch=ml :bob!u@h PRIVMSG #lobby :",
    "@batch=ml :bob!u@h PRIVMSG #lobby :third ",
    "@batch=ml;draft/multiline-concat :bob!u@h PRIVMSG #lobby :line",
    ":bob!u@h BATCH -ml",
]


def test_the_client_asks_for_multiline() -> None:
    assert "draft/multiline" in WANTED_CAPS


def test_a_multiline_batch_is_shown_as_one_message_when_it_is_complete() -> None:
    s = welcomed()
    assert shown(feed(s, *BATCH[:-1])) == []
    [line] = shown(feed(s, BATCH[-1]))
    assert (line.kind, line.nick, line.text) == (
        LineKind.MESSAGE,
        "bob",
        "first line\n\nthird line",
    )
    assert line.time == datetime(2030, 1, 1, 10, 0, tzinfo=UTC)
    # The same msgid again (say, from history) is not shown twice.
    assert shown(feed(s, *BATCH)) == []


def test_a_multiline_message_from_history_is_scrollback_and_counts_as_one_line() -> None:
    s = welcomed()
    nested = [
        ":srv BATCH +h chathistory #lobby",
        *("@batch=h;" + line[1:] if line.startswith("@") else "@batch=h " + line for line in BATCH),
        ":srv BATCH -h",
    ]
    lines = shown(feed(s, *nested))
    assert [(line.text, line.history) for line in lines] == [("first line\n\nthird line", True)]


def _show(text: str) -> Show:
    return Show("#lobby", LineKind.MESSAGE, "bob", text, datetime(2030, 1, 1, 10, 0, tzinfo=UTC))


def test_line_mode_indents_the_later_lines_and_the_app_keeps_them_apart() -> None:
    plain = format_plain(_show("one\ntwo"), "#lobby").splitlines()
    assert plain[0].endswith("<bob> one")
    assert plain[1] == " " * plain[0].index("one") + "two"
    # The terminal app's log lays the later lines under the text (test_tui_pilot.py).
    assert render_line(_show("one\ntwo")).plain.splitlines()[1] == "two"
