"""Splitting a byte stream into lines, with bounded memory."""

from __future__ import annotations

import pytest

from chatroom.irc.framing import LINE_TOO_LONG, LineBuffer, LineTooLong


def feed_all(buf: LineBuffer, *chunks: bytes) -> list[bytes | LineTooLong]:
    out: list[bytes | LineTooLong] = []
    for chunk in chunks:
        out.extend(buf.feed(chunk))
    return out


@pytest.mark.parametrize(
    ("chunks", "lines"),
    [
        ((b"PING a\r\n",), [b"PING a"]),
        ((b"PING a\n",), [b"PING a"]),
        ((b"A\r\nB\nC\r\n",), [b"A", b"B", b"C"]),
        ((b"PI", b"NG", b"\r", b"\n"), [b"PING"]),
        ((b"A\r\n\r\n\n\nB\n",), [b"A", b"B"]),
        ((b"A\r\r\n",), [b"A\r"]),
        ((b"A\rB\n",), [b"A\rB"]),
        ((b"no newline yet",), []),
        ((b"",), []),
    ],
)
def test_feed_table(chunks: tuple[bytes, ...], lines: list[bytes]) -> None:
    assert feed_all(LineBuffer(), *chunks) == lines


def test_partial_line_is_kept_and_counted() -> None:
    buf = LineBuffer()
    assert buf.feed(b"PRIVMSG #a :hel") == []
    assert buf.pending == 15
    assert buf.feed(b"lo\r\nNEXT") == [b"PRIVMSG #a :hello"]
    assert buf.pending == 4


def test_overlong_line_is_dropped_and_reported_once() -> None:
    buf = LineBuffer(max_line=10)
    assert buf.feed(b"x" * 11 + b"\r\nok\r\n") == [LINE_TOO_LONG, b"ok"]


def test_line_of_exactly_max_is_kept() -> None:
    buf = LineBuffer(max_line=10)
    assert buf.feed(b"x" * 10 + b"\r\n") == [b"x" * 10]


def test_overlong_partial_line_is_discarded_until_newline() -> None:
    """Memory stays bounded: bytes past the limit are never buffered."""
    buf = LineBuffer(max_line=10)
    assert buf.feed(b"y" * 11) == [LINE_TOO_LONG]
    assert buf.pending == 0
    assert buf.feed(b"y" * 1000) == []
    assert buf.pending == 0
    assert buf.feed(b"yyy\nok\n") == [b"ok"]


def test_partial_line_at_max_plus_cr_waits_for_lf() -> None:
    buf = LineBuffer(max_line=4)
    assert buf.feed(b"abcd\r") == []
    assert buf.feed(b"\n") == [b"abcd"]


def test_partial_line_at_max_plus_cr_then_more_is_too_long() -> None:
    buf = LineBuffer(max_line=4)
    assert buf.feed(b"abcd\r") == []
    assert buf.feed(b"e\nok\n") == [LINE_TOO_LONG, b"ok"]


def test_default_max_fits_largest_legal_line() -> None:
    line = b"@" + b"a" * 8189 + b" " + b"x" * 510
    assert LineBuffer().feed(line + b"\r\n") == [line]


def test_many_small_lines_in_one_read() -> None:
    data = b"".join(b"PRIVMSG #a :%d\r\n" % i for i in range(1000))
    lines = LineBuffer().feed(data)
    assert len(lines) == 1000
    assert lines[-1] == b"PRIVMSG #a :999"


def test_marker_repr() -> None:
    assert repr(LINE_TOO_LONG) == "LINE_TOO_LONG"
