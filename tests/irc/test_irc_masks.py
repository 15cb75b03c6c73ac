"""Hostmask globbing, mask completion, nick and channel name rules."""

from __future__ import annotations

import time

import pytest

from chatroom.irc.casemap import CaseMapping, casefolder
from chatroom.irc.masks import is_channel_name, is_valid_nick, match_mask, normalize_mask

FOLD = casefolder(CaseMapping.RFC1459)


@pytest.mark.parametrize(
    ("mask", "target", "ok"),
    [
        ("*!*@*", "nick!user@host", True),
        ("nick!*@*", "NICK!user@host", True),
        ("*!*@*.example.com", "n!u@a.example.com", True),
        ("*!*@*.example.com", "n!u@example.com", False),
        ("n?ck!*@*", "nick!u@h", True),
        ("n?ck!*@*", "nck!u@h", False),
        ("[a]!*@*", "{A}!u@h", True),
        ("exact", "exact", True),
        ("exact", "EXACT", True),
        ("exact", "exactly", False),
        ("*", "", True),
        ("", "", True),
        ("?", "", False),
        ("a*b*c", "aXXbYYc", True),
        ("a*b*c", "aXXbYYcZ", False),
        ("**a**", "bab", True),
        ("*a", "aaab", False),
    ],
)
def test_match_mask(mask: str, target: str, ok: bool) -> None:
    assert match_mask(mask, target, FOLD) is ok


def test_match_mask_has_no_backtracking_blowup() -> None:
    start = time.perf_counter()
    assert not match_mask("*a" * 30 + "b", "a" * 300, FOLD)
    assert time.perf_counter() - start < 1.0


@pytest.mark.parametrize(
    ("mask", "normal"),
    [
        ("nick", "nick!*@*"),
        ("user@host", "*!user@host"),
        ("nick!user", "nick!user@*"),
        ("nick!user@host", "nick!user@host"),
        ("*!*@*", "*!*@*"),
        ("!@", "*!*@*"),
        ("@host", "*!*@host"),
        ("a:account", "a:account"),
        ("R:name", "R:name"),
        ("1:x", "1:x!*@*"),
    ],
)
def test_normalize_mask(mask: str, normal: str) -> None:
    assert normalize_mask(mask) == normal


@pytest.mark.parametrize(
    ("nick", "ok"),
    [
        ("alice", True),
        ("[away]", True),
        ("a-1", True),
        ("`^_{|}\\", True),
        ("1abc", False),
        ("-abc", False),
        ("", False),
        ("a b", False),
        ("a!b", False),
        ("a@b", False),
        ("#chan", False),
        ("héllo", False),
        ("abcdefghi", True),
        ("abcdefghij", False),
    ],
)
def test_is_valid_nick(nick: str, ok: bool) -> None:
    assert is_valid_nick(nick, 9) is ok


@pytest.mark.parametrize(
    ("name", "ok"),
    [
        ("#chat", True),
        ("#", True),
        ("#héllo", True),
        ("chat", False),
        ("", False),
        ("&local", False),
        ("#a b", False),
        ("#a,b", False),
        ("#a\x07", False),
        ("#a\x1b[2J", False),
        ("#a\x02b", False),
        ("#lob\u200bby", False),
        ("#abc\u202e", False),
        ("#" + "x" * 49, True),
        ("#" + "x" * 50, False),
    ],
)
def test_is_channel_name(name: str, ok: bool) -> None:
    assert is_channel_name(name) is ok


def test_is_channel_name_with_other_chantypes() -> None:
    assert is_channel_name("&local", "#&")
