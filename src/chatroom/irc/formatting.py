"""IRC text formatting, and text that is safe to show on a terminal.

Whatever another user sends ends up in someone's terminal. A terminal obeys C0 controls
(BEL, BS, CR, ESC...) and C1 controls (U+0080-U+009F, which xterm and others read as
8-bit ESC sequences: U+009B is CSI), so ``\\x1b]0;...\\x07`` would retitle the window and
``\\x1b[2J`` clear the screen. The rules here, for every client and ``chatroom admin``:

* IRC formatting codes (bold, colours, italics...) are either parsed into ``Style`` spans
  (``spans``, for a client that can draw them) or removed with their colour arguments
  (``strip_formatting``), never shown raw.
* Every other control character becomes visible: a C0 control is shown as its Unicode
  control picture (``\\x1b`` -> ``␛``), DEL as ``␡``, a C1 control as the 7-bit sequence
  it stands for (``\\x9b`` -> ``␛[``), a tab as a space. An escape sequence thus shows up
  as text (``␛]0;pwned␇``) instead of acting, and the reader sees that someone tried.
* ``hidden_character`` names the characters a room name must not contain: controls,
  formatting, zero-width and other invisible characters, and bidirectional overrides.

The formatting rules are those of the Modern IRC "formatting" document.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, replace

__all__ = [
    "FORMAT_CODES",
    "Style",
    "hidden_character",
    "spans",
    "strip_formatting",
    "terminal_safe",
    "visible_controls",
]

BOLD, COLOUR, HEX_COLOUR, RESET = "\x02", "\x03", "\x04", "\x0f"
MONOSPACE, REVERSE, ITALIC, STRIKE, UNDERLINE = "\x11", "\x16", "\x1d", "\x1e", "\x1f"
FORMAT_CODES = (
    BOLD + COLOUR + HEX_COLOUR + RESET + MONOSPACE + REVERSE + ITALIC + STRIKE + UNDERLINE
)

# The sixteen colours every IRC client agrees on (00-15); 99 means "the default colour".
_PALETTE = (
    "#ffffff",
    "#000000",
    "#00007f",
    "#009300",
    "#ff0000",
    "#7f0000",
    "#9c009c",
    "#fc7f00",
    "#ffff00",
    "#00fc00",
    "#009393",
    "#00ffff",
    "#0000fc",
    "#ff00ff",
    "#7f7f7f",
    "#d2d2d2",
)

# One formatting code with its arguments. A comma belongs to a colour code only when a
# background colour follows it: "\x0304,hi" is ",hi" in red.
_CODE = re.compile(
    r"\x03(?:(\d{1,2})(?:,(\d{1,2}))?)?"
    r"|\x04(?:([0-9a-fA-F]{6})(?:,([0-9a-fA-F]{6}))?)?"
    r"|[\x02\x0f\x11\x16\x1d\x1e\x1f]"
)
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")

# Letters that draw nothing (Hangul fillers, the blank Braille pattern): as invisible as a
# zero-width space, though Unicode files them as letters or symbols.
_INVISIBLE_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800")
# Default-ignorable marks, drawn as nothing though filed as combining marks (so not caught
# by category): the combining grapheme joiner, the Khmer inherent vowels, the Mongolian
# and the standard variation selectors (an emoji's VS16 too, as its ZWJ is refused), and
# the default-ignorable code points not yet assigned.
_INVISIBLE_MARKS = re.compile(
    "[\u034f\u17b4\u17b5\u180b-\u180f\u2065\ufe00-\ufe0f\ufff0-\ufff8\U000e0000-\U000e0fff]"
)
# Cc controls, Cf format characters (zero-width spaces and joiners, bidi marks, overrides
# and isolates, soft hyphen, BOM...), surrogates, and every kind of space or line break.
_HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zs", "Zl", "Zp"})


@dataclass(frozen=True, slots=True)
class Style:
    """The formatting in force at one point of a line; colours are ``#rrggbb`` or None."""

    bold: bool = False
    italic: bool = False
    underline: bool = False
    strike: bool = False
    reverse: bool = False
    monospace: bool = False
    fg: str | None = None
    bg: str | None = None


PLAIN = Style()


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code == 0x09:
        return " "
    if code < 0x20:
        return chr(0x2400 + code)
    if code == 0x7F:
        return "\u2421"
    if code <= 0x9F:
        return "\u241b" + chr(code - 0x40)
    return "\ufffd"  # a lone surrogate: no terminal can encode it


def visible_controls(text: str) -> str:
    """``text`` with every C0/C1 control and DEL shown as a harmless printable character."""
    return _CONTROL.sub(_visible, text)


def strip_formatting(text: str) -> str:
    """``text`` without IRC formatting codes and their colour arguments."""
    return _CODE.sub("", text)


def terminal_safe(text: str, *, keep_newlines: bool = False) -> str:
    """What a line-oriented terminal (or ``chatroom admin``) may print: formatting removed,
    every other control made visible. ``keep_newlines`` is for a client's own multi-line
    notices (an IRC line can carry no newline, so none of it comes from another user)."""
    if keep_newlines:
        return "\n".join(terminal_safe(part) for part in text.split("\n"))
    return visible_controls(strip_formatting(text))


def _colour(code: str | None) -> str | None:
    number = int(code) if code is not None else 99
    return _PALETTE[number] if number < len(_PALETTE) else None


def _hex_colour(code: str | None) -> str | None:
    return None if code is None else "#" + code.lower()


def _apply(style: Style, match: re.Match[str]) -> Style:
    code = match.group()
    if code == RESET:
        return PLAIN
    if code[0] in (COLOUR, HEX_COLOUR):
        hex_code = code[0] == HEX_COLOUR
        fg, bg = match.group(3, 4) if hex_code else match.group(1, 2)
        if fg is None:
            return replace(style, fg=None, bg=None)
        pick = _hex_colour if hex_code else _colour
        return replace(style, fg=pick(fg), bg=style.bg if bg is None else pick(bg))
    if code == BOLD:
        return replace(style, bold=not style.bold)
    if code == ITALIC:
        return replace(style, italic=not style.italic)
    if code == UNDERLINE:
        return replace(style, underline=not style.underline)
    if code == STRIKE:
        return replace(style, strike=not style.strike)
    if code == REVERSE:
        return replace(style, reverse=not style.reverse)
    return replace(style, monospace=not style.monospace)


def spans(text: str) -> list[tuple[str, Style]]:
    """``text`` cut where its formatting changes: ``(chunk, style)`` pairs, codes removed
    and controls made visible in each chunk; empty chunks are left out."""
    out: list[tuple[str, Style]] = []
    style = PLAIN
    start = 0
    for match in _CODE.finditer(text):
        if match.start() > start:
            out.append((visible_controls(text[start : match.start()]), style))
        style = _apply(style, match)
        start = match.end()
    if start < len(text):
        out.append((visible_controls(text[start:]), style))
    return out


def hidden_character(text: str) -> str | None:
    """The first character of ``text`` that draws nothing or changes how the rest is drawn
    (controls, formatting, zero-width and invisible characters, bidi overrides, spaces),
    or None. Such characters make two different names look the same."""
    for char in text:
        if (
            char in _INVISIBLE_LETTERS
            or unicodedata.category(char) in _HIDDEN_CATEGORIES
            or _INVISIBLE_MARKS.match(char)
        ):
            return char
    return None
