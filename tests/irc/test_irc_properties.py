"""Property tests: formatting round-trips, and no input crashes the parser or framer."""

from __future__ import annotations

import contextlib
import itertools
import string

from hypothesis import given
from hypothesis import strategies as st

from chatroom.irc import Message, ParseError, format_line, format_message, parse, to_bytes
from chatroom.irc.framing import LINE_TOO_LONG, LineBuffer, LineTooLong


def text(exclude: str = "", min_size: int = 0, max_size: int = 15) -> st.SearchStrategy[str]:
    alphabet = st.characters(codec="utf-8", exclude_characters="\r\n\0" + exclude)
    return st.text(alphabet, min_size=min_size, max_size=max_size)


commands = st.text(string.ascii_uppercase + string.digits, min_size=1, max_size=10)
sources = st.none() | text(" ", min_size=1, max_size=20)
middles = text(" ", min_size=1).filter(lambda s: not s.startswith(":"))
lasts = text()
tag_keys = st.builds(
    lambda plus, vendor, name: plus + vendor + name,
    st.sampled_from(["", "+"]),
    st.sampled_from(["", "example.com/", "draft/"]),
    st.text(string.ascii_letters + string.digits + "-", min_size=1, max_size=10),
)
tag_maps = st.dictionaries(tag_keys, text(max_size=20), max_size=4)


@st.composite
def messages(draw: st.DrawFn) -> Message:
    params = draw(st.lists(middles, max_size=3))
    if draw(st.booleans()):
        params.append(draw(lasts))
    return Message(draw(commands), tuple(params), draw(sources), draw(tag_maps))


@given(messages())
def test_parse_inverts_format_message(msg: Message) -> None:
    assert parse(format_message(msg)) == msg


@given(messages())
def test_parse_inverts_to_bytes(msg: Message) -> None:
    wire = to_bytes(msg)
    assert wire.endswith(b"\r\n")
    assert parse(wire[:-2]) == msg


@given(messages())
def test_format_line_agrees_with_to_bytes(msg: Message) -> None:
    assert format_line(msg.source, msg.command, *msg.params, tags=msg.tags) == to_bytes(msg)


@given(st.binary(max_size=600))
def test_parse_raises_only_parse_error_on_any_bytes(data: bytes) -> None:
    try:
        msg = parse(data)
    except ParseError:
        return
    assert msg.command
    assert msg.command[0] != ":"
    assert " " not in msg.command


irc_ish = st.lists(
    st.sampled_from([b"@a=b;c ", b":n!u@h ", b"PRIVMSG", b" ", b":", b"\\", b"\xff", b"\0", b"x"])
).map(b"".join)


@given(irc_ish | st.text(max_size=100).map(str.encode))
def test_parse_raises_only_parse_error_on_irc_like_input(data: bytes) -> None:
    with contextlib.suppress(ParseError):
        parse(data)
    with contextlib.suppress(ParseError):
        parse(data.decode("utf-8", "replace"))


LIMIT = 16
streams = st.lists(
    st.binary(max_size=20) | st.sampled_from([b"\r\n", b"\n", b"\r", b"PING x\r\n"]),
    max_size=30,
).map(b"".join)


def reference_lines(data: bytes, limit: int) -> list[bytes | LineTooLong]:
    """The framing rules written as plainly as possible, for one whole stream."""
    *complete, tail = data.split(b"\n")
    out: list[bytes | LineTooLong] = []
    for line in complete:
        content = line[:-1] if line.endswith(b"\r") else line
        if content:
            out.append(LINE_TOO_LONG if len(content) > limit else content)
    if len(tail) > limit and not (len(tail) == limit + 1 and tail.endswith(b"\r")):
        out.append(LINE_TOO_LONG)
    return out


@given(streams, st.lists(st.integers(min_value=0, max_value=600), max_size=20))
def test_line_buffer_is_independent_of_chunking(data: bytes, cuts: list[int]) -> None:
    whole = LineBuffer(LIMIT)
    expected = whole.feed(data)
    assert expected == reference_lines(data, LIMIT)

    chunked = LineBuffer(LIMIT)
    got: list[bytes | LineTooLong] = []
    bounds = [0, *sorted(c % (len(data) + 1) for c in cuts), len(data)]
    for start, end in itertools.pairwise(bounds):
        got.extend(chunked.feed(data[start:end]))
        assert chunked.pending <= LIMIT + 1
    assert got == expected
    assert chunked.pending == whole.pending


@given(st.lists(st.binary(max_size=300), max_size=20))
def test_line_buffer_never_raises_and_stays_bounded(chunks: list[bytes]) -> None:
    buf = LineBuffer(64)
    for chunk in chunks:
        for line in buf.feed(chunk):
            assert line is LINE_TOO_LONG or (isinstance(line, bytes) and 0 < len(line) <= 64)
        assert buf.pending <= 65
