"""Alt+digit as Alt+digit: the window keys WeeChat and Irssi users press (Alt+1..9).

Most terminals (xterm, GNOME, tmux, the Linux console, macOS with "Option as Meta") send
Alt+2 as ESC then ``2``. Textual reads that pair as the character macOS's Option+2 types
(``™``, for WezTerm on macOS), so Alt+1..9 reached the message field as ``¡™£¢∞§¶•ª``
and never the bindings. Taking those pairs out of Textual's table lets its parser report
them as it reports every other ESC-prefixed key: ``alt+2``. A character typed directly
(macOS without Option as Meta sends ``™`` itself) is not affected.
"""

from __future__ import annotations

from typing import cast

from textual import _ansi_sequences

__all__ = ["read_meta_digits_as_alt"]


def read_meta_digits_as_alt() -> None:
    """Make ESC + digit arrive as ``alt+<digit>`` in every Textual app of this process."""
    table = cast(dict[str, object], _ansi_sequences.ANSI_SEQUENCES_KEYS)
    for digit in "0123456789":
        table.pop(f"\x1b{digit}", None)
