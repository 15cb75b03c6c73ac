"""RPL_ISUPPORT tokens and their grouping into lines."""

from __future__ import annotations

import pytest

from chatroom.irc.isupport import (
    escape_isupport_value,
    format_token,
    isupport_lines,
    parse_token,
    unescape_isupport_value,
)


@pytest.mark.parametrize(
    ("name", "value", "token"),
    [
        ("SAFELIST", None, "SAFELIST"),
        ("NETWORK", "Example", "NETWORK=Example"),
        ("NETWORK", "Example Net", "NETWORK=Example\\x20Net"),
        ("X", "a=b\\c", "X=a\\x3Db\\x5Cc"),
        ("EMPTY", "", "EMPTY="),
        ("-EXCEPTS", None, "-EXCEPTS"),
        ("CHANMODES", "beIq,k,l,imnst", "CHANMODES=beIq,k,l,imnst"),
    ],
)
def test_format_token(name: str, value: str | None, token: str) -> None:
    assert format_token(name, value) == token
    assert parse_token(token) == (name, value)


def test_control_characters_are_escaped() -> None:
    assert escape_isupport_value("a\tb") == "a\\x09b"


@pytest.mark.parametrize(
    ("raw", "value"),
    [("a\\x20b", "a b"), ("\\x5c", "\\"), ("\\xZZ", "\\xZZ"), ("end\\x2", "end\\x2"), ("", "")],
)
def test_unescape_is_lenient(raw: str, value: str) -> None:
    assert unescape_isupport_value(raw) == value


def test_isupport_lines_groups_thirteen_per_line() -> None:
    tokens: dict[str, str | None] = {f"T{i}": str(i) for i in range(30)}
    tokens["BARE"] = None
    lines = isupport_lines(tokens)
    assert [len(line) for line in lines] == [13, 13, 5]
    assert lines[0][0] == "T0=0"
    assert lines[-1][-1] == "BARE"


def test_isupport_lines_custom_width_and_empty() -> None:
    assert isupport_lines({"A": None, "B": "1", "C": None}, per_line=2) == [["A", "B=1"], ["C"]]
    assert isupport_lines({}) == []


def test_isupport_lines_rejects_zero_width() -> None:
    with pytest.raises(ValueError, match="per_line"):
        isupport_lines({"A": None}, per_line=0)
