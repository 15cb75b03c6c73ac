"""Mode strings: ``+ov-b alice bob *!*@x`` to and from lists of changes.

Rules (modern.ircdocs.horse, CHANMODES and PREFIX): type A (lists) take an argument both
ways, and without one they ask for the list; type B always take one; type C take one only
when set; type D never do; PREFIX modes behave like type B. A mode string starts in ``+``.
Parsing never fails: a missing argument is ``arg=None`` and an unknown letter is returned
apart, so the caller picks the numeric (461, 472, 696) and keeps the valid changes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "ChannelModeSpec",
    "ModeChange",
    "format_mode_changes",
    "parse_channel_modes",
    "parse_user_modes",
]


@dataclass(frozen=True, slots=True)
class ModeChange:
    """One letter set or unset, with its argument if it takes one."""

    adding: bool
    letter: str
    arg: str | None = None


@dataclass(frozen=True, slots=True)
class ChannelModeSpec:
    """Which channel mode letters exist and how each takes arguments."""

    lists: str = "beIq"
    always_arg: str = "k"
    set_arg: str = "l"
    flags: str = "imnst"
    prefixes: str = "ov"

    def chanmodes_token(self) -> str:
        """The ISUPPORT CHANMODES value, e.g. ``beIq,k,l,imnst``."""
        return f"{self.lists},{self.always_arg},{self.set_arg},{self.flags}"


def _dedupe(letters: list[str]) -> list[str]:
    return list(dict.fromkeys(letters))


def parse_channel_modes(
    modestring: str, args: Sequence[str], spec: ChannelModeSpec
) -> tuple[list[ModeChange], list[str]]:
    """Split a channel mode string into changes, consuming ``args`` left to right.

    Returns ``(changes, unknown_letters)``; unknown letters are listed once each and take
    no argument, as most servers do.
    """
    changes: list[ModeChange] = []
    unknown: list[str] = []
    adding = True
    next_arg = 0
    n_args = len(args)
    both_ways = spec.always_arg + spec.prefixes
    for letter in modestring:
        if letter == "+":
            adding = True
        elif letter == "-":
            adding = False
        elif letter in spec.lists or letter in both_ways or (adding and letter in spec.set_arg):
            arg = None
            if next_arg < n_args:
                arg = args[next_arg]
                next_arg += 1
            changes.append(ModeChange(adding, letter, arg))
        elif letter in spec.flags or letter in spec.set_arg:
            changes.append(ModeChange(adding, letter))
        else:
            unknown.append(letter)
    return changes, _dedupe(unknown)


def parse_user_modes(modestring: str, allowed: str) -> tuple[list[ModeChange], list[str]]:
    """Split a user mode string; user modes take no arguments here."""
    changes: list[ModeChange] = []
    unknown: list[str] = []
    adding = True
    for letter in modestring:
        if letter == "+":
            adding = True
        elif letter == "-":
            adding = False
        elif letter in allowed:
            changes.append(ModeChange(adding, letter))
        else:
            unknown.append(letter)
    return changes, _dedupe(unknown)


def format_mode_changes(changes: Sequence[ModeChange]) -> tuple[str, list[str]]:
    """Write changes back as a mode string and its arguments, e.g. ``("+ov-b", [...])``.

    A sign is written only where it changes, as clients expect from a server.
    """
    out: list[str] = []
    args: list[str] = []
    sign = ""
    for change in changes:
        want = "+" if change.adding else "-"
        if want != sign:
            out.append(want)
            sign = want
        out.append(change.letter)
        if change.arg is not None:
            args.append(change.arg)
    return "".join(out), args
