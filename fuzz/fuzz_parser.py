"""Coverage-guided fuzz target for the IRC line framer and parser (``chatroom.irc``).

Every byte a client sends goes through ``LineBuffer.feed`` and then ``parse`` before any
other code sees it, so these two must never raise anything but their own errors, must
not depend on how TCP cut the stream, and must agree with the formatter. ``check`` states
those promises as assertions; atheris (libFuzzer for Python) searches for an input that
breaks one. The same function replays ``fuzz/corpus/`` in the ordinary test run
(``tests/irc/test_fuzz_corpus.py``), so what the fuzzer once found stays fixed without
atheris installed. See ``fuzz/README.md`` for how to run it.
"""

from __future__ import annotations

import sys
from pathlib import Path

try:
    import chatroom.irc  # noqa: F401 (only asks whether the package is importable)
except ImportError:  # run from a checkout without the package installed
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from chatroom.irc.framing import LINE_TOO_LONG, LineBuffer
from chatroom.irc.message import (
    MAX_BODY,
    InputTooLong,
    Message,
    ParseError,
    format_line,
    format_message,
    parse,
)

# Small enough that the fuzzer reaches the over-long paths with short inputs.
FRAME_LIMIT = 64


def _framing(data: bytes) -> list[bytes]:
    """Feed ``data`` whole and cut at places the data itself picks: the lines must agree,
    because TCP may deliver a stream in any pieces."""
    whole = LineBuffer(FRAME_LIMIT)
    expected = whole.feed(data)
    pieces = LineBuffer(FRAME_LIMIT)
    got = []
    start = 0
    step = (data[0] % 7 + 1) if data else 1
    while start < len(data):
        got.extend(pieces.feed(data[start : start + step]))
        assert pieces.pending <= FRAME_LIMIT + 1, "the framer kept more than one line"
        start += step
    assert got == expected, (got, expected)
    assert pieces.pending == whole.pending
    lines = []
    for line in expected:
        if line is LINE_TOO_LONG:
            continue
        assert isinstance(line, bytes)
        assert line, "an empty line came out of the framer"
        assert b"\n" not in line
        assert len(line) <= FRAME_LIMIT
        lines.append(line)
    return lines


def _parse_or_none(line: bytes | str) -> Message | None:
    try:
        msg = parse(line)
    except ParseError:
        return None  # InputTooLong is a ParseError too: both are the parser's own answers
    # Any word is a command (the server answers an unknown one with 421), but never
    # an empty one, one with a space, or a second source.
    assert msg.command, msg
    assert " " not in msg.command, msg
    assert not msg.command.startswith(":"), msg
    assert msg.command == msg.command.upper(), msg
    for param in msg.params[:-1]:
        assert param, msg
        assert " " not in param, msg
        assert not param.startswith(":"), msg
    for text in (*msg.params, msg.source or "", msg.command):
        for forbidden in ("\r", "\n", "\0"):
            assert forbidden not in text, msg
    return msg


def _round_trip(line: bytes, msg: Message) -> None:
    """What the parser accepts, the formatter writes back to the same message, or refuses
    with ValueError (a tag key no server would send); it never writes a different one.

    One exception, found by this fuzzer: invalid UTF-8 decodes to U+FFFD, three bytes for
    each bad one, so the line written back may exceed the limit the original met. The
    server never relays such a line (UTF8ONLY refuses it whole), so only that is allowed.
    """
    try:
        text = format_message(msg)
    except ValueError:
        return
    try:
        again = parse(text)
    except InputTooLong:
        assert "\ufffd" in text, (line, text)
        assert not _is_utf8(line), (line, text)
        return
    assert again == msg, (text, msg)
    wire = format_line(msg.source, msg.command, *msg.params, tags=msg.tags)
    assert wire == (text + "\r\n").encode(), (wire, text)


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def check(data: bytes) -> None:
    """The fuzz entry point: frame ``data``, parse every line and the whole input."""
    lines = _framing(data)
    # The whole input as one line too: the parser must also stand up to what the framer
    # would have cut (CR, LF, NUL inside) and to the real length limits.
    for line in [*lines, data.split(b"\n", 1)[0], data]:
        msg = _parse_or_none(line)
        if msg is not None:
            _round_trip(line, msg)
        if not _is_utf8(line):
            continue
        text = line.decode("utf-8")
        # Bytes and str agree on valid UTF-8: the shell parses bytes, clients parse text.
        assert _parse_or_none(text) == msg, (line, msg)
    if len(data) <= MAX_BODY - 2 and b"\n" not in data and b"\r" not in data:
        try:
            parse(data)
        except InputTooLong as err:  # pragma: no cover (a failure report, not a path)
            raise AssertionError(f"a short line was called too long: {data!r}") from err
        except ParseError:
            pass


def main() -> None:
    import atheris  # type: ignore[import-untyped,import-not-found,unused-ignore]

    atheris.instrument_all()
    atheris.Setup(sys.argv, check)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
