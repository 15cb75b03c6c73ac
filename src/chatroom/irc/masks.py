"""Hostmasks, nicknames and channel names.

Masks are globs (``*`` any run, ``?`` one character) matched after case folding. The
matcher is the iterative two-pointer algorithm: at worst O(len(mask) * len(target)), never
the exponential backtracking a naive recursive or regex glob shows on ``*a*a*a*b``.
"""

from __future__ import annotations

import string
from collections.abc import Callable

from chatroom.irc.formatting import hidden_character

__all__ = ["is_channel_name", "is_valid_nick", "match_mask", "normalize_mask"]

_NICK_SPECIAL = "[]\\`_^{|}"
_NICK_FIRST = frozenset(string.ascii_letters + _NICK_SPECIAL)
_NICK_REST = _NICK_FIRST | frozenset(string.digits + "-")
_CHANNEL_FORBIDDEN = (" ", ",", "\x07", "\r", "\n", "\0")


def match_mask(mask: str, target: str, fold: Callable[[str], str]) -> bool:
    """True if ``target`` matches the glob ``mask`` under the case folding ``fold``."""
    pattern = fold(mask)
    text = fold(target)
    if "*" not in pattern and "?" not in pattern:
        return pattern == text
    p = t = 0
    n_pattern = len(pattern)
    n_text = len(text)
    star = -1  # position of the last '*' seen in the pattern
    resume = 0  # where in text that '*' match would extend to next
    while t < n_text:
        if p < n_pattern and pattern[p] == "*":
            star = p
            resume = t
            p += 1
        elif p < n_pattern and (pattern[p] == "?" or pattern[p] == text[t]):
            p += 1
            t += 1
        elif star >= 0:
            resume += 1
            t = resume
            p = star + 1
        else:
            return False
    while p < n_pattern and pattern[p] == "*":
        p += 1
    return p == n_pattern


def normalize_mask(mask: str) -> str:
    """Complete a partial ban mask to ``nick!user@host``, as servers do before storing it.

    ``nick`` → ``nick!*@*``, ``user@host`` → ``*!user@host``, ``nick!user`` →
    ``nick!user@*``; an empty part becomes ``*``. Extbans (``a:account``) are kept as given.
    """
    if len(mask) >= 2 and mask[1] == ":" and mask[0].isalpha():
        return mask
    if "!" in mask:
        nick, _, userhost = mask.partition("!")
        user, _, host = userhost.partition("@")
    elif "@" in mask:
        nick = ""
        user, _, host = mask.partition("@")
    else:
        nick, user, host = mask, "", ""
    return f"{nick or '*'}!{user or '*'}@{host or '*'}"


def is_valid_nick(nick: str, maxlen: int) -> bool:
    """Letters, digits and ``[]\\`_^{|}-``, not starting with a digit or ``-``.

    ASCII only, so nicks mean the same under every casemapping and in every client.
    """
    return 0 < len(nick) <= maxlen and nick[0] in _NICK_FIRST and _NICK_REST.issuperset(nick)


def is_channel_name(name: str, chantypes: str = "#", maxlen: int = 50) -> bool:
    """Starts with a channel type; no space, comma or BEL (they split or beep lists), and
    nothing invisible: no control or formatting character, zero-width character, bidi
    override or other space, so that no two rooms look alike and no name acts on a
    terminal (``hidden_character``)."""
    if not name or name[0] not in chantypes or len(name) > maxlen:
        return False
    return not any(c in name for c in _CHANNEL_FORBIDDEN) and hidden_character(name) is None
