"""IRC message lines: parse and format them, and escape IRCv3 tag values.

The rules this module enforces (modern.ircdocs.horse "Message format", ircv3.net
"Message Tags"):

* A line is ``[@tags SP] [:source SP] command [SP params] [SP :trailing]``. Fields are
  separated by one or more spaces; we accept runs of spaces because real clients send them.
* The body (everything after the tag section) is at most 512 bytes including CRLF; the tag
  section is at most 8191 bytes including its ``@`` and the space after it. Limits count
  bytes, so bytes input is measured before it is decoded.
* NUL, CR and LF never appear inside a message. Refusing them when parsing means nothing a
  client sends can smuggle a second line into what the server relays to others.
* Only the last parameter may be empty, contain a space or start with ``:``, and then it
  must be written with a ``:`` prefix.
* The command is any word that does not start with ``:``, not only letters and digits:
  a server must answer ``FOO-BAR`` with 421 ERR_UNKNOWNCOMMAND, which it can only do if
  the line parses.
* ``format_line`` never writes a body over 512 bytes: it cuts the last parameter at a
  UTF-8 boundary (``fit_trailing``), and writes an empty middle parameter as ``*``.
* A client's tag data (between ``@`` and the space) is at most 4094 bytes
  (``MAX_CLIENT_TAG_DATA``); the server measures it with ``tag_data_size``.

``parse`` and ``format_line`` are the server's hot paths: ``str.partition`` and ``split``,
no regular expressions, no per-character Python loops on the common no-tags path.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = [
    "MAX_BODY",
    "MAX_CLIENT_TAG_DATA",
    "MAX_TAGS",
    "InputTooLong",
    "Message",
    "ParseError",
    "escape_tag_value",
    "fit_trailing",
    "format_line",
    "format_message",
    "is_valid_tag_key",
    "parse",
    "tag_data_size",
    "to_bytes",
    "unescape_tag_value",
]

MAX_BODY = 512
"""Bytes of the body, CRLF included (RFC 1459 and modern docs)."""
MAX_TAGS = 8191
"""Bytes of a whole tag section, its ``@`` and trailing space included (IRCv3)."""
MAX_CLIENT_TAG_DATA = 4094
"""Bytes of tag data a client may send (IRCv3 message-tags); a server refuses more with 417."""

_MAX_BODY_TEXT = MAX_BODY - 2
_UNESCAPES = {":": ";", "s": " ", "\\": "\\", "r": "\r", "n": "\n"}
_TAG_KEY_EXTRA = frozenset("-./+")


class ParseError(ValueError):
    """A line that is not an IRC message; the caller chooses to answer or to drop it."""


class InputTooLong(ParseError):  # noqa: N818 (name fixed by the API)
    """A line over a length limit, which a server answers with 417 ERR_INPUTTOOLONG.

    ``part`` is ``"tags"`` or ``"body"``: the two sections have separate limits, and a
    server may report or log them differently.
    """

    def __init__(self, part: str) -> None:
        super().__init__(f"input line too long ({part})")
        self.part = part


@dataclass(frozen=True, slots=True)
class Message:
    """One IRC message. Frozen so a parsed message can be shared without copying.

    A tag without a value has the value ``""``: the spec makes ``key`` and ``key=`` equal.
    """

    command: str
    params: tuple[str, ...] = ()
    source: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)


# Building a frozen dataclass through __init__ costs four object.__setattr__ calls (about
# 1 µs, half of a parse). The parser, which has already validated the fields, writes the
# slots directly through their descriptors instead; the result is an ordinary Message.
_new_object = object.__new__
_set_command = Message.__dict__["command"].__set__
_set_params = Message.__dict__["params"].__set__
_set_source = Message.__dict__["source"].__set__
_set_tags = Message.__dict__["tags"].__set__


def _make_message(
    command: str, params: tuple[str, ...], source: str | None, tags: dict[str, str]
) -> Message:
    msg: Message = _new_object(Message)
    _set_command(msg, command)
    _set_params(msg, params)
    _set_source(msg, source)
    _set_tags(msg, tags)
    return msg


def escape_tag_value(v: str) -> str:
    """Escape a tag value so it holds no ``;``, space, CR, LF (backslash first, or the
    backslashes we add would be doubled)."""
    return (
        v.replace("\\", "\\\\")
        .replace(";", "\\:")
        .replace(" ", "\\s")
        .replace("\r", "\\r")
        .replace("\n", "\\n")
    )


def unescape_tag_value(v: str) -> str:
    """Undo ``escape_tag_value``, leniently as IRCv3 asks: an unknown ``\\x`` becomes ``x``
    and a lone trailing backslash is dropped, so no input is an error."""
    find = v.find
    i = find("\\")
    if i < 0:
        return v
    out: list[str] = []
    start = 0
    end = len(v)
    while i >= 0:
        out.append(v[start:i])
        if i + 1 >= end:
            return "".join(out)
        c = v[i + 1]
        out.append(_UNESCAPES.get(c, c))
        start = i + 2
        i = find("\\", start)
    out.append(v[start:])
    return "".join(out)


def is_valid_tag_key(key: str) -> bool:
    """True for ``[+][vendor/]name`` made of ASCII letters, digits, ``-``, ``.`` and ``/``.

    The parser stays lenient about keys; the server uses this before relaying client tags.
    """
    if key[:1] == "+":
        key = key[1:]
    if not key or key[0] == "/" or key[-1] == "/" or key.count("/") > 1:
        return False
    return key.isascii() and all(c.isalnum() or c in _TAG_KEY_EXTRA for c in key)


def _utf8_len(s: str) -> int:
    # str.isascii is O(1) in CPython, so ASCII lines are never encoded just to measure them.
    return len(s) if s.isascii() else len(s.encode("utf-8", "surrogatepass"))


def _split_bytes(line: bytes) -> tuple[str | None, str]:
    if line[:1] == b"@":
        space = line.find(b" ")
        if space < 0:
            if len(line) > MAX_TAGS:
                raise InputTooLong("tags")
            raise ParseError("tags without a command")
        if space + 1 > MAX_TAGS:
            raise InputTooLong("tags")
        if len(line) - space - 1 > _MAX_BODY_TEXT:
            raise InputTooLong("body")
        return (
            line[1:space].decode("utf-8", "replace"),
            line[space + 1 :].decode("utf-8", "replace"),
        )
    if len(line) > _MAX_BODY_TEXT:
        raise InputTooLong("body")
    return None, line.decode("utf-8", "replace")


def _split_str(line: str) -> tuple[str | None, str]:
    tag_text = None
    if line[:1] == "@":
        space = line.find(" ")
        if space < 0:
            if _utf8_len(line) > MAX_TAGS:
                raise InputTooLong("tags")
            raise ParseError("tags without a command")
        tag_text = line[1:space]
        if _utf8_len(tag_text) + 2 > MAX_TAGS:
            raise InputTooLong("tags")
        line = line[space + 1 :]
    if _utf8_len(line) > _MAX_BODY_TEXT:
        raise InputTooLong("body")
    return tag_text, line


def _parse_tags(tag_text: str) -> dict[str, str]:
    tags: dict[str, str] = {}
    for item in tag_text.split(";"):
        key, _, value = item.partition("=")
        if not key:
            continue  # ";;" or "=x": nothing to keep, and refusing would help nobody
        if "\\" in value:
            value = unescape_tag_value(value)
        tags[key] = value  # a repeated key: the last one wins, as the spec says
    return tags


def parse(line: bytes | str) -> Message:
    """Parse one line given WITHOUT its line ending.

    Bytes are decoded as UTF-8 with replacement, so undecodable input never fails here.
    Raises ``InputTooLong`` over a length limit, ``ParseError`` for anything else invalid.
    """
    tag_text: str | None
    if line.__class__ is bytes and line[:1] != b"@":
        # The common case, inlined: an untagged line read from a socket.
        if len(line) > _MAX_BODY_TEXT:
            raise InputTooLong("body")
        tag_text, text = None, line.decode("utf-8", "replace")
    elif isinstance(line, bytes):
        tag_text, text = _split_bytes(line)
    else:
        tag_text, text = _split_str(line)
    if "\0" in text or "\r" in text or "\n" in text:
        raise ParseError("NUL, CR or LF inside a line")
    if text[:1] == " ":
        text = text.lstrip(" ")
    source = None
    if text[:1] == ":":
        source, _, text = text[1:].partition(" ")
        if not source:
            raise ParseError("empty source")
        if text[:1] == " ":
            text = text.lstrip(" ")
    head, sep, trailing = text.partition(" :")
    if "  " in head:
        words = [w for w in head.split(" ") if w]
    else:
        words = head.split(" ")
        if not words[-1]:
            words.pop()
    if not words:
        raise ParseError("no command")
    command = words[0]
    if command[0] == ":":
        raise ParseError("bad command")  # ":src :x": a second source, not a command
    if sep:
        words.append(trailing)
    tags: dict[str, str]
    if tag_text is None:
        tags = {}
    else:
        if "\0" in tag_text or "\r" in tag_text or "\n" in tag_text:
            raise ParseError("NUL, CR or LF inside a line")
        tags = _parse_tags(tag_text)
    return _make_message(command.upper(), tuple(words[1:]), source, tags)


def _check_clean(value: str, what: str) -> None:
    if "\r" in value or "\n" in value or "\0" in value:
        raise ValueError(f"{what} contains CR, LF or NUL: {value!r}")


def _format_tags(tags: Mapping[str, str]) -> str:
    return ";".join(k if v == "" else f"{k}={escape_tag_value(v)}" for k, v in tags.items())


def _check_tags(tags: Mapping[str, str]) -> None:
    for key, value in tags.items():
        if not key or any(c in key for c in "=; \\\r\n\0"):
            raise ValueError(f"bad tag key: {key!r}")
        if "\0" in value:
            raise ValueError(f"tag {key!r} value contains NUL")


def format_message(msg: Message) -> str:
    """Serialize ``msg`` without CRLF, refusing anything that would not parse back equal.

    Raises ``ValueError`` rather than emit a line another client could misread.
    """
    parts: list[str] = []
    if msg.tags:
        _check_tags(msg.tags)
        parts.append("@" + _format_tags(msg.tags))
    if msg.source is not None:
        source = msg.source
        if not source or " " in source:
            raise ValueError(f"bad source: {source!r}")
        _check_clean(source, "source")
        parts.append(":" + source)
    command = msg.command
    if not (command.isascii() and command.isalnum()):
        raise ValueError(f"bad command: {command!r}")
    parts.append(command)
    params = msg.params
    if params:
        for param in params[:-1]:
            if not param or " " in param or param[0] == ":":
                raise ValueError(f"only the last parameter may be {param!r}")
            _check_clean(param, "parameter")
        last = params[-1]
        _check_clean(last, "parameter")
        if not last or " " in last or last[0] == ":":
            last = ":" + last
        parts.extend(params[:-1])
        parts.append(last)
    return " ".join(parts)


def to_bytes(msg: Message) -> bytes:
    """The wire form of ``msg``: UTF-8 with CRLF."""
    return (format_message(msg) + "\r\n").encode("utf-8")


def _cut_utf8(text: str, size: int) -> str:
    """The longest prefix of ``text`` that is at most ``size`` bytes of UTF-8."""
    if size <= 0:
        return ""
    return text.encode("utf-8")[:size].decode("utf-8", "ignore")


def fit_trailing(source: str | None, command: str, *params: str) -> str:
    """The last parameter, cut at a UTF-8 boundary so the line's body fits in 512 bytes.

    A relayed PRIVMSG is the client's line plus the sender's ``nick!user@host``, so a
    line a client was allowed to send can be too long to relay; the server stores and
    delivers the cut text, so everyone (and the history) sees the same message. Returns
    the parameter unchanged when it fits (the common case costs a few ``len`` calls).
    """
    if not params:
        return ""
    last = params[-1]
    size = len(command) + 1 + _utf8_len(last)
    if not last or last[0] == ":" or " " in last:
        size += 1
    if source is not None:
        size += _utf8_len(source) + 2
    for param in params[:-1]:
        size += (_utf8_len(param) or 1) + 1
    excess = size - _MAX_BODY_TEXT
    if excess <= 0:
        return last
    return _cut_utf8(last, _utf8_len(last) - excess)


def format_line(
    source: str | None, command: str, *params: str, tags: Mapping[str, str] | None = None
) -> bytes:
    """Build an outgoing line (with CRLF) without constructing a ``Message``.

    The server's fast path: middle parameters are trusted, but the last one always gets
    its ``:`` when needed, and a CR, LF or NUL anywhere raises ``ValueError`` because a
    line break there would let one message forge another. The body (everything after the
    tags) never exceeds 512 bytes: an over-long last parameter is cut at a UTF-8 boundary,
    and in the last resort (middle parameters alone too long) the body itself is.
    """
    # Written out here, not in a helper: this runs for every reply and fan-out variant.
    if params:
        middles = params[:-1]
        if "" in middles:
            middles = tuple(p or "*" for p in middles)
        last = params[-1]
        if not last or last[0] == ":" or " " in last:
            last = ":" + last
        line = f"{command} {' '.join(middles)} {last}" if middles else f"{command} {last}"
    else:
        line = command
    if source is not None:
        line = f":{source} {line}"
    prefix = ""
    if tags:
        prefix = f"@{_format_tags(tags)} "
        line = prefix + line
    if "\r" in line or "\n" in line or "\0" in line:
        raise ValueError(f"CR, LF or NUL in outgoing line: {line!r}")
    data = (line + "\r\n").encode("utf-8")
    if len(data) <= MAX_BODY or len(data) - _utf8_len(prefix) <= MAX_BODY:
        return data
    if params:
        fitted = fit_trailing(source, command, *params)
        if fitted != params[-1]:  # once more with the cut text: it fits now, or the
            return format_line(source, command, *params[:-1], fitted, tags=tags)
    body = line[len(prefix) :]  # last resort: the middle parameters alone are too long
    return f"{prefix}{_cut_utf8(body, _MAX_BODY_TEXT)}\r\n".encode()


def tag_data_size(tags: Mapping[str, str]) -> int:
    """Bytes the tags take on the wire between ``@`` and the space, escaped."""
    return _utf8_len(_format_tags(tags))
