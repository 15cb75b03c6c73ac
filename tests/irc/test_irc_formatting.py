"""IRC formatting codes and terminal-safe text (``chatroom.irc.formatting``)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chatroom.irc.formatting import (
    Style,
    hidden_character,
    spans,
    strip_formatting,
    terminal_safe,
    visible_controls,
)


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("plain words", "plain words"),
        ("héllo wörld ✓ 日本語", "héllo wörld ✓ 日本語"),
        # OSC 0 (window title) and CSI 2J (clear screen): shown, not obeyed
        ("\x1b]0;pwned\x07", "␛]0;pwned␇"),
        ("\x1b[2J\x1b[H", "␛[2J␛[H"),
        ("\x1b]8;;http://evil/\x1b\\link\x1b]8;;\x1b\\", "␛]8;;http://evil/␛\\link␛]8;;␛\\"),
        # every C0 control, e.g. backspace (overwrites), CR (rewrites the line), BEL, NUL
        ("abc\x08\x08\x08xyz", "abc␈␈␈xyz"),
        ("fake\rline", "fake␍line"),
        ("a\nb", "a␊b"),
        ("\x00\x07", "␀␇"),
        ("a\tb", "a b"),
        ("\x7f", "␡"),
        # C1 controls as the 7-bit sequence they stand for: U+009B is CSI, U+009D is OSC
        ("\x9b2J", "␛[2J"),
        ("\x9d0;pwned\x9c", "␛]0;pwned␛\\"),
        ("\x85", "␛E"),
        ("\ud800", "\ufffd"),
        # IRC formatting is removed with its arguments
        ("\x02bold\x02 \x1ditalic\x1d \x1funder\x1f", "bold italic under"),
        ("\x0304red\x03 \x0304,12red on blue\x03", "red red on blue"),
        ("\x034,hi", ",hi"),
        ("\x03123", "3"),
        ("\x04ff0000hex\x04 \x04FF0000,00FF00both", "hex both"),
        ("\x16rev\x0f \x11mono\x11 \x1estrike\x1e", "rev mono strike"),
        # formatting and escapes together
        ("\x02\x1b[2J\x02", "␛[2J"),
    ],
)
def test_terminal_safe_shows_every_control_and_removes_formatting(text: str, shown: str) -> None:
    assert terminal_safe(text) == shown


def test_terminal_safe_keeps_newlines_of_a_clients_own_notices_only_when_asked() -> None:
    text = "pinned\n  ab cd\x1b[2J"
    assert terminal_safe(text, keep_newlines=True) == "pinned\n  ab cd␛[2J"
    assert terminal_safe(text) == "pinned␊  ab cd␛[2J"


@given(st.text())
def test_nothing_a_terminal_obeys_survives(text: str) -> None:
    """No C0, DEL or C1 control, and no lone surrogate, whatever the input."""
    safe = terminal_safe(text)
    assert not any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in safe)
    safe.encode("utf-8")  # never raises
    for chunk, _ in spans(text):
        assert not any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in chunk)


def test_visible_controls_keeps_formatting_codes_visible_too() -> None:
    """Called alone (without stripping) it hides nothing: a bold code shows as ␂."""
    assert visible_controls("\x02hi") == "␂hi"


@pytest.mark.parametrize(
    ("text", "plain"),
    [
        ("\x02b\x02", "b"),
        ("\x03", ""),
        ("\x0399", ""),
        ("\x0312,05x", "x"),
        ("\x03,05x", ",05x"),  # no foreground: the comma is text
        ("\x04abcdeg", "abcdeg"),  # not six hex digits: a bare reset
        ("\x1b[2J", "\x1b[2J"),  # not formatting: left for visible_controls
    ],
)
def test_strip_formatting(text: str, plain: str) -> None:
    assert strip_formatting(text) == plain


BOLD = Style(bold=True)
RED = Style(fg="#ff0000")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("plain", [("plain", Style())]),
        ("a\x02b\x02c", [("a", Style()), ("b", BOLD), ("c", Style())]),
        ("\x02\x1dbi\x0fn", [("bi", Style(bold=True, italic=True)), ("n", Style())]),
        ("\x0304red\x03n", [("red", RED), ("n", Style())]),
        ("\x0304,12rb", [("rb", Style(fg="#ff0000", bg="#0000fc"))]),
        (
            "\x0304,12a\x0309b",
            [("a", Style(fg="#ff0000", bg="#0000fc")), ("b", Style(fg="#00fc00", bg="#0000fc"))],
        ),
        ("\x0342x", [("x", Style())]),  # beyond the 16 agreed colours: default
        ("\x04FF0000x\x04y", [("x", RED), ("y", Style())]),
        ("\x1funder\x1e\x16", [("under", Style(underline=True))]),
        ("\x02\x1b[2J", [("␛[2J", BOLD)]),
        ("\x02\x02", []),
    ],
)
def test_spans_carry_the_style_and_safe_text(text: str, expected: list[tuple[str, Style]]) -> None:
    assert spans(text) == expected


@pytest.mark.parametrize(
    ("name", "hidden"),
    [
        ("#chat", None),
        ("#héllo-wörld", None),
        ("#日本語", None),
        ("#café☕", None),
        ("#a\x1bb", "\x1b"),
        ("#a\x02b", "\x02"),  # bold
        ("#a\x03b", "\x03"),  # colour
        ("#a\x9bb", "\x9b"),  # C1 CSI
        ("#a\u200bb", "\u200b"),  # zero-width space
        ("#a\u200db", "\u200d"),  # zero-width joiner
        ("#a\u2060b", "\u2060"),  # word joiner
        ("#a\ufeffb", "\ufeff"),  # BOM / zero-width no-break space
        ("#a\u00adb", "\u00ad"),  # soft hyphen
        ("#abc\u202e", "\u202e"),  # right-to-left override
        ("#\u2066x\u2069", "\u2066"),  # isolate
        ("#a\u200fb", "\u200f"),  # right-to-left mark
        ("#a\u00a0b", "\u00a0"),  # no-break space
        ("#a\u3000b", "\u3000"),  # ideographic space
        ("#a\u2028b", "\u2028"),  # line separator
        ("#a\u3164b", "\u3164"),  # Hangul filler: a "letter" that draws nothing
        ("#lob\u034fby", "\u034f"),  # combining grapheme joiner: a "mark" that draws nothing
        ("#lobby\ufe0f", "\ufe0f"),  # variation selector 16
        ("#a\U000e0100b", "\U000e0100"),  # variation selector 17
        ("#a\u17b4b", "\u17b4"),  # Khmer inherent vowel
        ("#a\u180bb", "\u180b"),  # Mongolian free variation selector
        ("#a\U000e0041b", "\U000e0041"),  # tag letter
        ("#caf\u00e9\u0301", None),  # a visible combining accent stays allowed
    ],
)
def test_hidden_character_names_what_would_make_two_names_look_alike(
    name: str, hidden: str | None
) -> None:
    assert hidden_character(name) == hidden
