"""Parsing and formatting single IRC lines (modern.ircdocs.horse, IRCv3 message-tags)."""

from __future__ import annotations

import pytest

from chatroom.irc import InputTooLong, Message, ParseError, format_line, format_message, parse
from chatroom.irc.message import (
    MAX_TAGS,
    escape_tag_value,
    fit_trailing,
    is_valid_tag_key,
    tag_data_size,
    to_bytes,
    unescape_tag_value,
)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("PING", Message("PING")),
        ("ping x", Message("PING", ("x",))),
        ("PRIVMSG #a :hello world", Message("PRIVMSG", ("#a", "hello world"))),
        ("PRIVMSG #a :", Message("PRIVMSG", ("#a", ""))),
        ("PRIVMSG #a ::-)", Message("PRIVMSG", ("#a", ":-)"))),
        ("PRIVMSG #a :b :c", Message("PRIVMSG", ("#a", "b :c"))),
        ("USER u 0 * :Real Name", Message("USER", ("u", "0", "*", "Real Name"))),
        (":n!u@h JOIN #a", Message("JOIN", ("#a",), "n!u@h")),
        (":irc.example 001 nick :Welcome", Message("001", ("nick", "Welcome"), "irc.example")),
        ("MODE #a +o:x y", Message("MODE", ("#a", "+o:x", "y"))),
        ("CMD a:b", Message("CMD", ("a:b",))),
        ("CMD trailing-tab\t", Message("CMD", ("trailing-tab\t",))),
    ],
)
def test_parse_table(line: str, expected: Message) -> None:
    assert parse(line) == expected
    assert parse(line.encode()) == expected


@pytest.mark.parametrize(
    "line",
    ["PRIVMSG   #a    b", "  PRIVMSG #a b", "PRIVMSG #a b   ", ":s   PRIVMSG  #a b"],
)
def test_runs_of_spaces_are_tolerated(line: str) -> None:
    msg = parse(line)
    assert msg.command == "PRIVMSG"
    assert msg.params == ("#a", "b")


def test_spaces_inside_trailing_param_are_kept() -> None:
    assert parse("PRIVMSG #a :  two  spaces  ").params == ("#a", "  two  spaces  ")


def test_multiple_spaces_before_trailing() -> None:
    assert parse("PRIVMSG #a   :x y").params == ("#a", "x y")


def test_command_is_uppercased() -> None:
    assert parse("privMsg #a b").command == "PRIVMSG"


def test_tags_are_parsed_and_unescaped() -> None:
    msg = parse(r"@id=1;+draft/reply=a\sb\:c\\d;flag :n PRIVMSG #a :hi")
    assert msg.tags == {"id": "1", "+draft/reply": "a b;c\\d", "flag": ""}
    assert msg.source == "n"


def test_duplicate_tag_key_last_wins() -> None:
    assert parse("@a=1;a=2 PING").tags == {"a": "2"}


def test_tag_with_empty_value_equals_tag_without_value() -> None:
    assert parse("@a=;b PING").tags == {"a": "", "b": ""}


def test_runs_of_spaces_after_tags() -> None:
    msg = parse("@a=1   :src   PING x")
    assert (msg.tags, msg.source, msg.params) == ({"a": "1"}, "src", ("x",))


def test_invalid_utf8_is_replaced_not_rejected() -> None:
    assert parse(b"PRIVMSG #a :\xff\xfe").params == ("#a", "\ufffd\ufffd")


@pytest.mark.parametrize(
    "line",
    [
        "",
        "   ",
        ":source",
        ":source   ",
        ": PING",
        "@a=b",
        "@a=b ",
        "@a=b :src",
        ":src :PING",
        "PRIVMSG\0 x",
        "PRIVMSG #a :a\rb",
        "PRIVMSG #a :a\nb",
        "PRIVMSG #a :a\0b",
        "@a=\0 PING",
        ":src",
    ],
)
def test_bad_lines_raise_parse_error(line: str) -> None:
    with pytest.raises(ParseError):
        parse(line)
    with pytest.raises(ParseError):
        parse(line.encode())


@pytest.mark.parametrize(
    ("line", "command"),
    [("NONEXISTENT_COMMAND", "NONEXISTENT_COMMAND"), ("foo-bar x", "FOO-BAR"), ("é", "É")],
)
def test_a_command_word_that_is_not_alphanumeric_still_parses(line: str, command: str) -> None:
    """The server must answer such a word with 421, so the parser may not drop it."""
    assert parse(line).command == command
    assert parse(line.encode()).command == command


def test_body_of_510_bytes_is_accepted() -> None:
    line = b"PRIVMSG #a :" + b"x" * (510 - 12)
    assert len(parse(line).params[1]) == 498


def test_body_of_511_bytes_is_input_too_long() -> None:
    line = b"PRIVMSG #a :" + b"x" * (511 - 12)
    with pytest.raises(InputTooLong) as info:
        parse(line)
    assert info.value.part == "body"


def test_body_limit_counts_utf8_bytes_for_str_input() -> None:
    line = "PRIVMSG #a :" + "é" * 250  # 12 + 500 bytes, 262 characters
    with pytest.raises(InputTooLong):
        parse(line)


def test_body_limit_does_not_count_tags() -> None:
    body = "PRIVMSG #a :" + "x" * (510 - 12)
    assert parse("@a=" + "y" * 4000 + " " + body).command == "PRIVMSG"


@pytest.mark.parametrize("as_bytes", [True, False])
def test_tag_section_limit_includes_at_and_space(as_bytes: bool) -> None:
    fits = "@a=" + "y" * (MAX_TAGS - 4) + " PING"  # "@" + "a=" + value + " " == MAX_TAGS
    over = "@a=" + "y" * (MAX_TAGS - 3) + " PING"
    assert parse(fits.encode() if as_bytes else fits).command == "PING"
    with pytest.raises(InputTooLong) as info:
        parse(over.encode() if as_bytes else over)
    assert info.value.part == "tags"


def test_huge_tag_section_without_space_is_input_too_long() -> None:
    with pytest.raises(InputTooLong):
        parse(b"@" + b"a" * 10000)


def test_input_too_long_is_a_parse_error() -> None:
    assert issubclass(InputTooLong, ParseError)
    assert issubclass(ParseError, ValueError)


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("plain", "plain"),
        (r"a\sb", "a b"),
        (r"a\:b", "a;b"),
        (r"a\\b", "a\\b"),
        (r"a\rb\nc", "a\rb\nc"),
        (r"\b\x", "bx"),
        ("end\\", "end"),
        ("\\", ""),
        (r"\\\\", "\\\\"),
    ],
)
def test_unescape_tag_value(raw: str, value: str) -> None:
    """IRCv3: unknown escapes drop the backslash; a trailing lone backslash is dropped."""
    assert unescape_tag_value(raw) == value


@pytest.mark.parametrize(
    ("value", "escaped"),
    [("a b;c\\d\r\n", r"a\sb\:c\\d\r\n"), ("plain", "plain"), ("", "")],
)
def test_escape_tag_value(value: str, escaped: str) -> None:
    assert escape_tag_value(value) == escaped
    assert unescape_tag_value(escaped) == value


@pytest.mark.parametrize(
    ("key", "ok"),
    [
        ("msgid", True),
        ("+draft/reply", True),
        ("example.com/foo-bar", True),
        ("", False),
        ("+", False),
        ("a/", False),
        ("a b", False),
        ("é", False),
        ("a/b/c", False),
    ],
)
def test_is_valid_tag_key(key: str, ok: bool) -> None:
    assert is_valid_tag_key(key) is ok


@pytest.mark.parametrize(
    ("msg", "line"),
    [
        (Message("PING"), "PING"),
        (Message("PRIVMSG", ("#a", "hi")), "PRIVMSG #a hi"),
        (Message("PRIVMSG", ("#a", "hello world")), "PRIVMSG #a :hello world"),
        (Message("PRIVMSG", ("#a", "")), "PRIVMSG #a :"),
        (Message("PRIVMSG", ("#a", ":)")), "PRIVMSG #a ::)"),
        (Message("JOIN", ("#a",), "n!u@h"), ":n!u@h JOIN #a"),
        (Message("TAGMSG", ("#a",), None, {"+typing": "active"}), "@+typing=active TAGMSG #a"),
        (Message("PING", (), None, {"flag": ""}), "@flag PING"),
        (Message("PING", (), None, {"k": "a b;c"}), r"@k=a\sb\:c PING"),
    ],
)
def test_format_message_table(msg: Message, line: str) -> None:
    assert format_message(msg) == line
    assert to_bytes(msg) == line.encode() + b"\r\n"


def test_trailing_param_with_space_gets_colon() -> None:
    assert format_message(Message("NOTICE", ("n", "two words"))) == "NOTICE n :two words"


@pytest.mark.parametrize(
    "msg",
    [
        Message("PRIVMSG", ("", "x")),
        Message("PRIVMSG", ("a b", "x")),
        Message("PRIVMSG", (":a", "x")),
        Message("PRIVMSG", ("#a", "x\r\nQUIT")),
        Message("PRIVMSG", ("#a\n", "x")),
        Message("PRIVMSG", ("#a", "x\0")),
        Message("PRI VMSG"),
        Message(""),
        Message("PING", (), "a b"),
        Message("PING", (), ""),
        Message("PING", (), "a\rb"),
        Message("PING", (), None, {"": "x"}),
        Message("PING", (), None, {"a=b": "x"}),
        Message("PING", (), None, {"a": "x\0"}),
    ],
)
def test_format_message_refuses_what_would_not_parse_back(msg: Message) -> None:
    with pytest.raises(ValueError, match=r"."):
        format_message(msg)


def test_to_bytes_encodes_utf8() -> None:
    assert to_bytes(Message("PRIVMSG", ("#a", "héllo"))) == "PRIVMSG #a héllo\r\n".encode()


@pytest.mark.parametrize(
    ("source", "command", "params", "line"),
    [
        (None, "PING", (), b"PING\r\n"),
        ("srv", "PONG", ("srv", "tok"), b":srv PONG srv tok\r\n"),
        ("srv", "001", ("nick", "Welcome home"), b":srv 001 nick :Welcome home\r\n"),
        ("n!u@h", "PRIVMSG", ("#a", ""), b":n!u@h PRIVMSG #a :\r\n"),
        ("n!u@h", "PRIVMSG", ("#a", ":D"), b":n!u@h PRIVMSG #a ::D\r\n"),
        (None, "X", ("one",), b"X one\r\n"),
    ],
)
def test_format_line_table(
    source: str | None, command: str, params: tuple[str, ...], line: bytes
) -> None:
    assert format_line(source, command, *params) == line


def test_format_line_with_tags() -> None:
    line = format_line("n", "PRIVMSG", "#a", "hi there", tags={"msgid": "x y", "bot": ""})
    assert line == b"@msgid=x\\sy;bot :n PRIVMSG #a :hi there\r\n"


def test_format_line_matches_format_message() -> None:
    msg = Message("PRIVMSG", ("#a", "hi there"), "n!u@h", {"t": "1"})
    assert format_line(msg.source, msg.command, *msg.params, tags=msg.tags) == to_bytes(msg)


@pytest.mark.parametrize("bad", ["x\r\nQUIT :bye", "x\nQUIT", "x\0"])
def test_format_line_refuses_line_breaks(bad: str) -> None:
    """A CR or LF in any field would let one outgoing message forge a second."""
    with pytest.raises(ValueError, match="CR, LF or NUL"):
        format_line("srv", "NOTICE", "nick", bad)
    with pytest.raises(ValueError, match="CR, LF or NUL"):
        format_line("srv", "NOTICE", bad, "ok")


def test_messages_compare_by_value() -> None:
    assert Message("PING", ("a",)) == Message("PING", ("a",), None, {})
    assert Message("PING", ("a",)) != Message("PING", ("b",))


def _body_size(line: bytes) -> int:
    """Bytes after the tag section, CRLF included: what the 512-byte limit counts."""
    if line.startswith(b"@"):
        line = line[line.index(b" ") + 1 :]
    return len(line)


@pytest.mark.parametrize("text", ["x" * 600, "é" * 300, "a " * 300, "😀" * 150])
def test_format_line_cuts_the_last_parameter_to_512_bytes(text: str) -> None:
    """No line the server writes has a body over 512 bytes (RFC 1459 2.3), tags aside."""
    line = format_line("nick!user@host.example", "PRIVMSG", "#room", text, tags={"a": "b" * 900})
    assert _body_size(line) <= 512
    sent = parse(line.rstrip(b"\r\n")).params[1]
    assert text.startswith(sent)
    assert _body_size(line) > 508  # cut only as much as needed (a character is <= 4 bytes)


def test_fit_trailing_keeps_text_that_fits_and_cuts_at_a_character_boundary() -> None:
    assert fit_trailing("n!u@h", "PRIVMSG", "#a", "short") == "short"
    cut = fit_trailing("n!u@h", "PRIVMSG", "#a", "é" * 300)
    assert cut == "é" * len(cut)
    assert len(format_line("n!u@h", "PRIVMSG", "#a", cut)) <= 512


def test_format_line_cuts_even_an_over_long_middle_parameter() -> None:
    line = format_line("irc.example", "421", "nick", "A" * 600, "Unknown command")
    assert len(line) <= 512
    assert parse(line.rstrip(b"\r\n")).command == "421"


def test_format_line_writes_an_empty_middle_parameter_as_a_star() -> None:
    """A reply never carries an empty middle parameter (``696 nick #c l  :...``)."""
    line = format_line("irc.example", "696", "nick", "#c", "l", "", "Invalid limit")
    assert line == b":irc.example 696 nick #c l * :Invalid limit\r\n"


def test_tag_data_size_counts_escaped_utf8_bytes() -> None:
    assert tag_data_size({"+a": "b c", "flag": ""}) == len(r"+a=b\sc;flag")
    assert tag_data_size({"+é": "é"}) == len("+é=é".encode())
