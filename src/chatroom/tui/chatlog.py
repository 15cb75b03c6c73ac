"""The conversation log: lines that re-wrap to the terminal's width, with a hanging indent.

Why not Textual's ``RichLog``: it renders each line once, at the width of the moment, so
a terminal that shrinks cuts every line and one that grows keeps them narrow. This log
keeps what it was given and renders it again whenever its width changes.

Each chat line wraps under its text, not under the time: continuation lines start below
the first word of the message, so a long message stays one readable block::

    12:04 <alice> a long message that goes on
                  and on, indented under the text

Between the lines it draws what ``chatroom.client.timeline`` says: day separators, the
"new messages" line, and a heading over lines said before we were there (drawn dim).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, RenderableType, RenderResult
from rich.rule import Rule
from rich.segment import Segment
from rich.text import Text
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from chatroom.client.state import LineKind, Show
from chatroom.client.timeline import DayBreak, EarlierLines, Entry, NewMessages, Timeline
from chatroom.irc.formatting import terminal_safe

__all__ = ["HangingLine", "MessageLog", "text_column"]

TIME_WIDTH = len("12:34 ")
MIN_TEXT_WIDTH = 20
"""Narrower than this, continuation lines give up the full indent to keep their text."""


def text_column(line: Show) -> int:
    """Where the text of ``line`` starts (after time and nick), as ``render_line`` lays it
    out: continuation lines are indented to it."""
    nick = len(terminal_safe(line.nick))
    if line.kind in (LineKind.MESSAGE, LineKind.NOTICE):
        return TIME_WIDTH + nick + len("<> ")
    if line.kind is LineKind.ACTION:
        return TIME_WIDTH + len("* ") + nick + len(" ")
    return TIME_WIDTH + len("→ ")


class HangingLine:
    """A Rich renderable: ``text`` word-wrapped to the width it is given, every line after
    the first indented by ``indent`` characters."""

    def __init__(self, text: Text, indent: int) -> None:
        self.text = text
        self.indent = indent

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width = max(1, options.max_width)
        indent = min(self.indent, len(self.text.plain))
        if width - indent < MIN_TEXT_WIDTH:
            indent = min(indent, TIME_WIDTH) if width - TIME_WIDTH >= MIN_TEXT_WIDTH else 0
        head, body = self.text.divide([indent]) if indent else (Text(), self.text.copy())
        pad = cell_len(head.plain)
        rows = body.wrap(console, max(1, width - pad), overflow="fold")
        indent_segment = Segment(" " * pad)
        for i, row in enumerate(rows):
            if i == 0:
                yield from head.render(console)
            elif pad:
                yield indent_segment
            yield from row.render(console)
            yield Segment.line()


def _rule(title: str, style: str) -> Rule:
    return Rule(Text(f" {title} ", style=style), style=style, characters="─")


class MessageLog(ScrollView, can_focus=False):
    """The current buffer's log. ``show_lines`` replaces it (switching buffer, history
    inserted); ``add_lines`` appends live lines. It follows the newest line unless the
    user has scrolled up."""

    DEFAULT_CSS = """
    MessageLog {
        scrollbar-gutter: stable;
        overflow-x: hidden;
    }
    """

    class AtEnd(Message):
        """The log came to its newest line (``at_end``), or left it: only there is the
        user reading what arrives (the read marker and unread counts follow)."""

        def __init__(self, at_end: bool) -> None:
            super().__init__()
            self.at_end = at_end

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._said_at_end = True
        self._entries: list[Entry] = []
        self._strips: list[Strip] = []
        self._width = 0
        self._height = 0
        self._timeline = Timeline(None, datetime.now().astimezone().date())

    @property
    def new_since(self) -> datetime | None:
        """Where the "new messages" line of what is drawn goes (see ``show_lines``)."""
        return self._timeline.new_since

    @property
    def lines(self) -> list[Strip]:
        """Every screen line of the log at the current width (tests read them)."""
        return self._strips

    # ------------------------------------------------------------------ content

    def show_lines(
        self, lines: Iterable[Show], new_since: datetime | None = None, *, to_end: bool = False
    ) -> None:
        """Draw ``lines`` from scratch; ``new_since`` places the "new messages" line.

        The view stays where the user had scrolled (older lines fetched with Page Up
        appear at the top) unless it was at the newest line, or ``to_end`` asks for it
        (another conversation is shown).
        """
        follow = to_end or self._at_end()
        self._timeline = Timeline(new_since, datetime.now().astimezone().date())
        self._entries = []
        self._strips = []
        self._append((entry for line in lines for entry in self._timeline.feed(line)), follow)

    def add_lines(self, lines: Sequence[Show]) -> None:
        """Append lines said after those already drawn."""
        entries = (entry for line in lines for entry in self._timeline.feed(line))
        self._append(entries, self._at_end())

    def _append(self, entries: Iterable[Entry], follow: bool) -> None:
        added = list(entries)
        self._entries.extend(added)
        if self._width:
            self._strips.extend(self._strips_of(added))
        self._resized(follow)

    # ------------------------------------------------------------------ drawing

    def _strips_of(self, entries: Iterable[Entry]) -> list[Strip]:
        # A fresh renderable each time: Rich may shorten a Text it draws in place, and a
        # title cut at one width must not stay cut at the next. The options are made
        # once: each ``console.options`` asks the terminal for its size.
        console, width = self.app.console, self._width
        options = console.options.update(width=width, highlight=False)
        strips: list[Strip] = []
        for entry in entries:
            segments = console.render(_renderable(entry), options)
            rows = Segment.split_and_crop_lines(segments, width, include_new_lines=False)
            strips.extend(Strip(row, width) for row in rows)
        return strips

    def _at_end(self) -> bool:
        return self.scroll_y >= self.max_scroll_y

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        at_end = self._at_end()
        if at_end != self._said_at_end:
            self._said_at_end = at_end
            self.post_message(self.AtEnd(at_end))

    def _resized(self, follow: bool) -> None:
        self.virtual_size = Size(self._width, len(self._strips))
        if follow:
            self.scroll_end(animate=False, immediate=False, x_axis=False)
        self.refresh()

    def on_resize(self) -> None:
        """Wrap everything again at the new width: nothing is cut, nothing stays narrow.

        A log that showed its newest line still does after any change of size, the
        height's too (a shorter terminal, the status line taking two rows again): the
        scroll position alone would keep the top row, and the newest lines would drop out
        of view and stop being followed."""
        region = self.scrollable_content_region
        if region.width <= 0:
            return
        was_at_end = not self._width or self.scroll_y >= len(self._strips) - self._height
        self._height = region.height
        if region.width == self._width:
            if was_at_end:
                self._resized(True)
            return
        self._width = region.width
        self._strips = self._strips_of(self._entries)
        self._resized(was_at_end)

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.scrollable_content_region.width
        index = scroll_y + y
        if index >= len(self._strips):
            return Strip.blank(width, self.rich_style)
        strip = self._strips[index].crop_extend(scroll_x, scroll_x + width, self.rich_style)
        return strip.apply_style(self.rich_style)


def _renderable(entry: Entry) -> RenderableType:
    if isinstance(entry, DayBreak):
        return _rule(entry.label, "bold cyan")
    if isinstance(entry, NewMessages):
        return _rule(entry.label, "bold red")
    if isinstance(entry, EarlierLines):
        return _rule(entry.label, "dim")
    from chatroom.tui.widgets import render_line

    text = render_line(entry)
    if entry.earlier:
        text.stylize("dim")
    return HangingLine(text, text_column(entry))
