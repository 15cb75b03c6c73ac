"""The narrow terminal's stand-in for the room list: which other conversations have news.

On a narrow terminal the side panels fold away (app.tcss); without them nobody would
see that someone wrote in another room. This one-line hint names them, with their unread
counts (``!`` for mentions), and the key that shows the room list.
"""

from __future__ import annotations

from collections.abc import Iterable

from rich.text import Text
from textual.widgets import Static

from chatroom.client.state import SERVER_BUFFER, Buffer
from chatroom.irc.formatting import terminal_safe

__all__ = ["ActivityHint", "activity_text"]


def activity_text(buffers: Iterable[tuple[str, Buffer]], active: str) -> Text:
    """``#den 3 bob 1!  F2 rooms``: the other buffers with unread lines, then the key."""
    out = Text()
    for key, buf in buffers:
        if key == active or not buf.unread:
            continue
        name = "server" if key == SERVER_BUFFER else terminal_safe(buf.name)
        style = "bold black on yellow" if buf.mentions else "bold cyan"
        out.append(f"{name} {buf.unread}{'!' if buf.mentions else ''}", style=style)
        out.append(" ")
    out.append("F2 rooms", style="dim")
    return out


class ActivityHint(Static):
    """Shown only while the room list is folded away (see app.tcss)."""

    def show_activity(self, buffers: Iterable[tuple[str, Buffer]], active: str) -> None:
        self.update(activity_text(buffers, active))
