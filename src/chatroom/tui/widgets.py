"""The chat screen's widgets. Each owns one piece of what is shown; none talks to the network.

Data comes down as method calls from the screen (``show_rooms``, ``show_lines``...);
what the user does goes up as Textual messages.

Text from the network is never given to a widget as a string, which Textual would read as
markup (``[link=...]``, or a ``[/]`` that stops the app): it becomes a Rich ``Text``
through ``irc_text`` (IRC formatting drawn, controls made visible) or ``safe_text``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.message import Message
from textual.widgets import Input, OptionList
from textual.widgets.option_list import Option

from chatroom.client.state import SERVER_BUFFER, Buffer, LineKind, Show, nick_colour
from chatroom.irc.formatting import Style as IrcStyle
from chatroom.irc.formatting import spans, terminal_safe
from chatroom.tui.chatlog import MessageLog

__all__ = [
    "ChatInput",
    "MemberList",
    "MessageLog",
    "RoomList",
    "irc_text",
    "render_line",
    "safe_text",
]

_KIND_STYLE = {
    LineKind.JOIN: ("→", "green"),
    LineKind.PART: ("←", "yellow"),
    LineKind.QUIT: ("←", "yellow"),
    LineKind.KICK: ("✖", "bold red"),
    LineKind.NICK: ("~", "cyan"),
    LineKind.TOPIC: ("≡", "magenta"),
    LineKind.MODE: ("±", "cyan"),
    LineKind.INFO: ("·", "dim"),
    LineKind.ERROR: ("!", "bold red"),
}


_PLAIN = IrcStyle()


def _rich_style(style: IrcStyle) -> Style:
    return Style(
        bold=style.bold or None,
        italic=style.italic or None,
        underline=style.underline or None,
        strike=style.strike or None,
        reverse=style.reverse or None,
        color=style.fg,
        bgcolor=style.bg,
    )


def irc_text(text: str, style: str = "") -> Text:
    """``text`` as it was meant to look: IRC bold, colours... drawn, controls made visible."""
    out = Text(style=style)
    for chunk, irc_style in spans(text):
        out.append(chunk, _rich_style(irc_style) if irc_style != _PLAIN else None)
    return out


# Tab and Shift+Tab in a form, as priority bindings: the app then moves the focus while it
# reads the keys, in order. As ordinary bindings the keys after a Tab that arrive in the
# same read (a fast typist, a password manager typing "name<Tab>password<Enter>") were
# already queued for the field being left, and the password ended up in the nickname.
FORM_FOCUS_KEYS = [
    Binding("tab", "app.focus_next", show=False, priority=True),
    Binding("shift+tab", "app.focus_previous", show=False, priority=True),
]


def safe_text(text: str, style: str = "") -> Text:
    """``text`` with formatting removed and controls made visible: for names and notices."""
    return Text(terminal_safe(text, keep_newlines=True), style=style)


def render_line(line: Show) -> Text:
    """One log line: dim time, coloured nick, text; events are marked and tinted."""
    out = Text()
    out.append(line.time.astimezone().strftime("%H:%M "), style="dim")
    colour = nick_colour(line.nick) if line.nick else "white"
    nick = terminal_safe(line.nick)
    if line.deleted:  # the text is gone: who said something, and who deleted it
        out.append(nick, style=colour)
        out.append(f" ✗ {terminal_safe(line.text)}", style="dim italic")
    elif line.kind in (LineKind.MESSAGE, LineKind.NOTICE):
        open_, close = ("<", ">") if line.kind is LineKind.MESSAGE else ("-", "-")
        out.append(open_, style="dim")
        out.append(nick, style=f"bold {colour}")
        out.append(close + " ", style="dim")
        # A multi-line message (draft/multiline) is one entry; the log puts its later
        # lines under the text, as it does for wrapped ones.
        for i, part in enumerate(line.text.split("\n")):
            if i:
                out.append("\n")
            out.append_text(irc_text(part, "bold" if line.mention else ""))
    elif line.kind is LineKind.ACTION:
        out.append("* ", style=colour)
        out.append(nick, style=f"bold {colour}")
        out.append_text(irc_text(" " + line.text, "italic"))
    else:
        mark, style = _KIND_STYLE.get(line.kind, ("·", "dim"))
        out.append_text(irc_text(f"{mark} {line.text}", style))
    if line.mention:
        out.stylize("on #3a2a00")
    return out


class RoomList(OptionList):
    """Rooms and private chats with unread counts; mentions stand out."""

    def show_rooms(self, buffers: Iterable[tuple[str, Buffer]], active: str) -> None:
        highlighted = None
        self.clear_options()
        for i, (key, buf) in enumerate(buffers):
            label = Text()
            name = "server" if key == SERVER_BUFFER else buf.name
            style = "" if buf.joined or key == SERVER_BUFFER or not buf.is_room else "dim strike"
            label.append(terminal_safe(name), style=style)
            if buf.mentions:
                label.append(f" ({buf.mentions}!)", style="bold black on yellow")
            elif buf.unread:
                label.append(f" ({buf.unread})", style="bold cyan")
            self.add_option(Option(label, id=key))
            if key == active:
                highlighted = i
        if highlighted is not None:
            self.highlighted = highlighted


class MemberList(OptionList):
    """Room members by rank, with their @/+ prefixes; those away dimmed, marked "away"."""

    def show_members(
        self, members: list[tuple[str, str]], is_away: Callable[[str], bool] = lambda _: False
    ) -> None:
        self.clear_options()
        for nick, prefixes in members:
            label = Text(no_wrap=True, overflow="ellipsis")
            label.append(prefixes[:1] or " ", style="bold green" if prefixes else "")
            away = is_away(nick)
            label.append(
                terminal_safe(nick),
                style=f"dim italic {nick_colour(nick)}" if away else nick_colour(nick),
            )
            if away:
                label.append(" away", style="dim")
            self.add_option(Option(label, id=f"m:{nick}"))
        self.border_title = f"{len(members)} here" if members else ""


class ChatInput(Input):
    """Input with history (Up/Down) and Tab completion of nicks and /commands."""

    BINDINGS = [
        Binding("up", "history(-1)", "previous line", show=False),
        Binding("down", "history(1)", "next line", show=False),
    ]

    COMPLETION_KEYS = {"tab": 1, "shift+tab": -1}
    """Tab completes, Shift+Tab goes backwards through the same matches (WeeChat, Irssi)
    instead of moving the focus. Handled with the typed characters (``_on_key``), not as
    bindings: a binding runs once the key has bubbled up to the app, and by then the
    characters typed after it (in the same read from a fast typist or tmux) were already
    in the field, so "/topi<Tab>x" became "/topix" with nothing completed."""

    def __init__(self, candidates: Callable[[], list[str]], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._candidates = candidates
        self.history: list[str] = []
        self._pos = 0
        self._draft = ""
        self._cycle: tuple[int, list[str], int, str, str] | None = None

    async def _on_key(self, event: events.Key) -> None:
        step = self.COMPLETION_KEYS.get(event.key)
        if step is not None:
            event.stop()
            event.prevent_default()  # not Input's handler nor the focus keys
            self.action_complete(step)

    class BlockPasted(Message):
        """A paste of several lines: ``text`` is the whole message it makes with what was
        already typed around the cursor, for the screen to show before it is sent."""

        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    def _on_paste(self, event: events.Paste) -> None:
        """Textual's Input keeps only the first line of a paste and drops the rest unseen.
        One line goes into the field; several go up as ``BlockPasted``, line breaks and
        indentation kept (code, a list), with what was typed around the cursor."""
        event.stop()
        event.prevent_default()  # not Input's own handler too
        text = event.text.replace("\r\n", "\n").replace("\r", "\n")
        if sum(1 for line in text.splitlines() if line.strip()) > 1:
            start, end = sorted(self.selection)
            self.post_message(self.BlockPasted(self.value[:start] + text + self.value[end:]))
        elif text.strip():
            self.replace(text.strip(), *self.selection)

    def remember(self, text: str) -> None:
        """Add a sent line to the history that Up and Down walk through."""
        if not self.history or self.history[-1] != text:
            self.history.append(text)
        self._pos = len(self.history)

    def action_history(self, step: int) -> None:
        """Up and Down walk the lines sent; below the newest is the line that was being
        typed when Up was first pressed, as WeeChat and Irssi keep it."""
        if not self.history:
            return
        if self._pos == len(self.history):
            self._draft = self.value
        self._pos = max(0, min(len(self.history), self._pos + step))
        self.value = self.history[self._pos] if self._pos < len(self.history) else self._draft
        self.cursor_position = len(self.value)

    def action_complete(self, step: int = 1) -> None:
        """Complete the word before the cursor; Tab again (nothing typed) cycles the matches,
        Shift+Tab cycles them backwards (a first Shift+Tab offers the last match).

        A nick completed at the start of the line gets ": " as IRC custom addresses people.
        """
        if self._cycle is not None and self._cycle[3] == self.value:
            start, matches, i, _, tail = self._cycle
            i = (i + step) % len(matches)
        else:
            before = self.value[: self.cursor_position]
            start = before.rfind(" ") + 1
            word = before[start:].lower()
            if not word:
                return
            matches = [c for c in self._candidates() if c.lower().startswith(word)]
            if not matches:
                return
            i = 0 if step > 0 else len(matches) - 1
            tail = self.value[self.cursor_position :]
        choice = matches[i]
        suffix = ": " if start == 0 and not choice.startswith(("/", "#")) else " "
        head = self.value[:start] + choice + suffix
        self.value = head + tail.lstrip(" ")
        self.cursor_position = len(head)
        self._cycle = (start, matches, i, self.value, tail)
