"""Mode strings (modern.ircdocs.horse: CHANMODES types A-D and PREFIX)."""

from __future__ import annotations

import pytest

from chatroom.irc.modes import (
    ChannelModeSpec,
    ModeChange,
    format_mode_changes,
    parse_channel_modes,
    parse_user_modes,
)

SPEC = ChannelModeSpec()


def plus(letter: str, arg: str | None = None) -> ModeChange:
    return ModeChange(True, letter, arg)


def minus(letter: str, arg: str | None = None) -> ModeChange:
    return ModeChange(False, letter, arg)


@pytest.mark.parametrize(
    ("modestring", "args", "changes"),
    [
        ("+n", [], [plus("n")]),
        ("nt", [], [plus("n"), plus("t")]),
        ("+nt-s+i", [], [plus("n"), plus("t"), minus("s"), plus("i")]),
        ("+ov", ["alice", "bob"], [plus("o", "alice"), plus("v", "bob")]),
        ("-o+v", ["alice", "bob"], [minus("o", "alice"), plus("v", "bob")]),
        ("+b", [], [plus("b")]),
        ("b", [], [plus("b")]),
        ("+b", ["*!*@x"], [plus("b", "*!*@x")]),
        ("-b", ["*!*@x"], [minus("b", "*!*@x")]),
        ("+k", ["secret"], [plus("k", "secret")]),
        ("-k", ["secret"], [minus("k", "secret")]),
        ("-k", [], [minus("k")]),
        ("+l", ["10"], [plus("l", "10")]),
        ("-l", ["10"], [minus("l")]),
        ("-l+k", ["key"], [minus("l"), plus("k", "key")]),
        ("+o", [], [plus("o")]),
        ("+lk", ["5"], [plus("l", "5"), plus("k")]),
        ("++--+n", [], [plus("n")]),
        ("", [], []),
        (
            "+ntbov",
            ["m1", "alice"],
            [plus("n"), plus("t"), plus("b", "m1"), plus("o", "alice"), plus("v")],
        ),
    ],
)
def test_parse_channel_modes(modestring: str, args: list[str], changes: list[ModeChange]) -> None:
    assert parse_channel_modes(modestring, args, SPEC) == (changes, [])


def test_list_mode_without_arg_is_a_list_query() -> None:
    changes, _ = parse_channel_modes("+b", [], SPEC)
    assert changes == [ModeChange(True, "b", None)]


def test_unknown_letters_are_reported_once_and_take_no_arg() -> None:
    changes, unknown = parse_channel_modes("+Xo-XY", ["alice"], SPEC)
    assert changes == [plus("o", "alice")]
    assert unknown == ["X", "Y"]


def test_extra_args_are_ignored() -> None:
    assert parse_channel_modes("+n", ["spare"], SPEC) == ([plus("n")], [])


def test_custom_spec() -> None:
    spec = ChannelModeSpec(lists="b", always_arg="", set_arg="", flags="m", prefixes="qaohv")
    changes, unknown = parse_channel_modes("+qhk", ["a", "b"], spec)
    assert changes == [plus("q", "a"), plus("h", "b")]
    assert unknown == ["k"]


def test_chanmodes_token() -> None:
    assert ChannelModeSpec().chanmodes_token() == "beIq,k,l,imnst"
    assert ChannelModeSpec(lists="b", always_arg="", set_arg="", flags="").chanmodes_token() == (
        "b,,,"
    )


@pytest.mark.parametrize(
    ("modestring", "changes", "unknown"),
    [
        ("+i", [plus("i")], []),
        ("-i+w", [minus("i"), plus("w")], []),
        ("iw", [plus("i"), plus("w")], []),
        ("+iZ", [plus("i")], ["Z"]),
        ("+ZZ", [], ["Z"]),
    ],
)
def test_parse_user_modes(modestring: str, changes: list[ModeChange], unknown: list[str]) -> None:
    assert parse_user_modes(modestring, "iwo") == (changes, unknown)


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ([], ("", [])),
        ([plus("n")], ("+n", [])),
        (
            [plus("o", "alice"), plus("v", "bob"), minus("b", "*!*@x")],
            ("+ov-b", ["alice", "bob", "*!*@x"]),
        ),
        ([minus("n"), minus("t"), plus("l", "5"), minus("k", "*")], ("-nt+l-k", ["5", "*"])),
    ],
)
def test_format_mode_changes_compresses_signs(
    changes: list[ModeChange], expected: tuple[str, list[str]]
) -> None:
    assert format_mode_changes(changes) == expected


def test_format_then_parse_round_trips() -> None:
    changes = [plus("o", "a"), minus("v", "b"), plus("l", "3"), minus("l"), plus("b", "m")]
    modestring, args = format_mode_changes(changes)
    assert parse_channel_modes(modestring, args, SPEC) == (changes, [])
