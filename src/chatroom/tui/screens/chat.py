"""The chat: rooms on the left, the conversation in the middle, members on the right.

The screen reads the session's state and redraws the parts an event touched; it never
changes that state itself except through ``set_active``. What the user asks of the network
goes up to the app as messages (``Submit``, ``OlderWanted``); the app hands events and the
status line down by calling ``handle`` and ``set_status``. The screen never imports the app.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import OptionList, Static

from chatroom.client.completion import completions
from chatroom.client.connection import ConnectionStatus
from chatroom.client.state import (
    SERVER_BUFFER,
    Deleted,
    Event,
    LineKind,
    ReadMoved,
    Show,
    StateChanged,
)
from chatroom.tui.activity import ActivityHint
from chatroom.tui.chatlog import MessageLog
from chatroom.tui.screens.block import BlockEditor
from chatroom.tui.widgets import ChatInput, MemberList, RoomList, irc_text, safe_text

if TYPE_CHECKING:
    from chatroom.client.session import ClientSession

__all__ = ["ChatScreen"]


class ChatScreen(Screen[None]):
    BINDINGS = [
        Binding("ctrl+n", "next_room(1)", "Next room"),
        Binding("ctrl+p", "next_room(-1)", "Prev room"),
        Binding("pageup", "older", "Older messages", show=False),
        Binding("pagedown", "newer", "Newer messages", show=False),
        Binding("f2", "toggle_panels", "Rooms"),
        Binding("ctrl+q", "quit", "Quit"),
        # Alt+1..9: the n-th entry of the room list, the server window being 1 (WeeChat's
        # and Irssi's window numbers). Priority: the message field would type the digit.
        *(
            Binding(f"alt+{n}", f"nth_room({n})", f"Window {n}", show=False, priority=True)
            for n in range(1, 10)
        ),
    ]
    # The side panels fold away on narrow terminals, so the conversation keeps most of
    # the width (app.tcss); F2 brings them back (or hides them on a wide one).
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (70, "-medium"), (100, "-wide")]

    class Submit(Message):
        """The user typed ``text`` (a message or a /command) in ``buffer``."""

        def __init__(self, buffer: str, text: str) -> None:
            super().__init__()
            self.buffer, self.text = buffer, text

    class OlderWanted(Message):
        """The user scrolled past the top of ``room``: ask for the lines before ``before``."""

        def __init__(self, room: str, before: datetime) -> None:
            super().__init__()
            self.room, self.before = room, before

    def __init__(self, session: ClientSession, status: str = "") -> None:
        super().__init__()
        self.session = session
        self._join_requested = False
        self._ready = False
        self._drawn = 0
        self._status = (status, True)
        self._window_viewing = True
        self._log_at_end = True

    def compose(self) -> ComposeResult:
        with Horizontal(id="main"):
            yield RoomList(id="rooms")
            with Vertical(id="centre"):
                with Horizontal(id="heading"):
                    yield Static("", id="topic")
                    yield ActivityHint(id="activity")
                yield MessageLog(id="log")
                yield ChatInput(self._completions, id="input", placeholder="Type a message…")
            yield MemberList(id="members")
        yield Static("", id="status")

    def on_mount(self) -> None:
        self.query_one("#rooms", RoomList).border_title = self.session.network
        first_room = next((b.name for b in self.session.buffers.values() if b.is_room), None)
        self.switch_to(first_room or SERVER_BUFFER)
        self.query_one("#input", ChatInput).focus()
        self._ready = True
        self.set_status(*self._status)

    # ------------------------------------------------------------------ drawing

    @property
    def active_name(self) -> str:
        return self.session.buffers[self.session.active].name

    def switch_to(self, name: str) -> None:
        self.session.set_active(name)
        key = self.session.active
        buf = self.session.buffers[key]
        log = self.query_one("#log", MessageLog)
        log.show_lines(self.session.logs.get(key, []), buf.new_since, to_end=True)
        self._drawn = self.session.appended.get(key, 0)
        self.refresh_rooms()
        self.refresh_room_details()

    def refresh_rooms(self) -> None:
        rooms = self.query_one("#rooms", RoomList)
        rooms.border_title = self.session.network
        rooms.show_rooms(self.session.buffers.items(), self.session.active)
        self.query_one("#activity", ActivityHint).show_activity(
            self.session.buffers.items(), self.session.active
        )

    def refresh_room_details(self) -> None:
        buf = self.session.buffers[self.session.active]
        topic = Text()
        if self.session.active == SERVER_BUFFER:
            topic.append_text(safe_text(self.session.network, "bold"))
            topic.append_text(safe_text(f" · you are {self.session.nick}", "dim"))
        else:
            topic.append_text(safe_text(buf.name, "bold"))
            if buf.topic:
                topic.append_text(irc_text(f" — {buf.topic}"))
            elif buf.is_room and buf.joined:
                topic.append(" — no topic", style="dim")
            if buf.is_room and not buf.joined:
                topic.append(f"  (not joined: /join {buf.name})", style="bold red")
        self.query_one("#topic", Static).update(topic)
        members = buf.sorted_members(self.session.prefix_symbols) if buf.is_room else []
        self.query_one("#members", MemberList).show_members(members, self.session.away.is_away)

    def set_viewing(self, viewing: bool) -> None:
        """The terminal window lost or got the focus (the app tells us): lines said while
        it was in the background stay unread, under a "new messages" line."""
        self._window_viewing = viewing
        self._update_viewing()

    @on(MessageLog.AtEnd)
    def _log_moved(self, event: MessageLog.AtEnd) -> None:
        """Scrolled back, the user reads old lines, not what arrives: as in the background."""
        self._log_at_end = event.at_end
        self._update_viewing()

    def _update_viewing(self) -> None:
        viewing = self._window_viewing and self._log_at_end
        if viewing == self.session.viewing:
            return
        self.session.set_viewing(viewing)
        if self._ready:
            self.refresh_rooms()
            self._catch_up(redraw=False)

    def set_status(self, text: str, connected: bool) -> None:
        """The app's word on the connection, for the bottom line (kept until mounted)."""
        self._status = (text, connected)
        if not self._ready:
            return
        status = self.query_one("#status", Static)
        status.update(safe_text(text))
        status.set_class(not connected, "offline")

    def handle(self, event: Event | ConnectionStatus) -> None:
        """Redraw what ``event`` changed; lines for other buffers only bump the room list."""
        if not self._ready:
            return  # on_mount draws everything from the session's state
        if isinstance(event, Show):
            if event.kind is LineKind.JOIN and event.own and self._follow_join():
                self.switch_to(event.buffer)
                return
            if self.session.key(event.buffer) == self.session.active:
                self._catch_up(redraw=event.history or event.earlier)
            else:
                self.refresh_rooms()
        elif isinstance(event, ReadMoved):
            # Read on another device: counts change, and the "new messages" line moves.
            self.refresh_rooms()
            if self.session.key(event.buffer) == self.session.active:
                self._catch_up(redraw=False)
        elif isinstance(event, Deleted):
            if self.session.key(event.buffer) == self.session.active:
                self._catch_up(redraw=True)  # a line already drawn changed
        elif isinstance(event, StateChanged):
            if event.buffer is None:
                self.refresh_rooms()
            if event.buffer is None or self.session.key(event.buffer) == self.session.active:
                self.refresh_room_details()

    def _catch_up(self, redraw: bool) -> None:
        """Draw the active buffer's lines not drawn yet (history lines are inserted in
        time order, so they redraw the whole log)."""
        key = self.session.active
        lines = self.session.logs.get(key, [])
        total = self.session.appended.get(key, 0)
        log = self.query_one("#log", MessageLog)
        new = total - self._drawn
        new_since = self.session.buffers[key].new_since
        if redraw or new > len(lines) or new_since != log.new_since:
            log.show_lines(lines, new_since)
        elif new > 0:
            log.add_lines(lines[-new:])
        self._drawn = total

    def _follow_join(self) -> bool:
        """Show a room we just joined if we asked for it or were only in the server window;
        rejoins after a reconnect must not pull the user away from where they are."""
        wanted = self._join_requested or self.session.active == SERVER_BUFFER
        self._join_requested = False
        return wanted

    # ------------------------------------------------------------------ input

    def _completions(self) -> list[str]:
        return completions(self.session, self.session.buffers[self.session.active].name)

    @on(ChatInput.Submitted, "#input")
    def send(self, event: ChatInput.Submitted) -> None:
        text = event.value
        event.input.value = ""
        if not text.strip():
            return
        self.query_one("#input", ChatInput).remember(text)
        self._join_requested = text.lower().startswith(("/join ", "/j "))
        self.post_message(self.Submit(self.active_name, text))

    @on(ChatInput.BlockPasted)
    def paste_block(self, event: ChatInput.BlockPasted) -> None:
        """Several lines pasted: shown in the editor, sent only when the user says so."""
        target = self.active_name

        def sent(text: str | None) -> None:
            if text is not None and text.strip():
                self.query_one("#input", ChatInput).value = ""
                self.post_message(self.Submit(target, text))

        self.app.push_screen(BlockEditor(event.text, target), sent)

    @on(OptionList.OptionSelected, "#rooms")
    def pick_room(self, event: OptionList.OptionSelected) -> None:
        if event.option.id is not None and event.option.id in self.session.buffers:
            self.switch_to(self.session.buffers[event.option.id].name)
            self.remove_class("panels-toggled")
            self.query_one("#input", ChatInput).focus()

    def action_next_room(self, step: int) -> None:
        keys = list(self.session.buffers)
        i = keys.index(self.session.active) if self.session.active in keys else 0
        self.switch_to(self.session.buffers[keys[(i + step) % len(keys)]].name)

    def action_nth_room(self, n: int) -> None:
        """Go to the ``n``-th conversation of the room list (1 is the server window);
        nothing when there are fewer."""
        keys = list(self.session.buffers)
        if 1 <= n <= len(keys):
            self.switch_to(self.session.buffers[keys[n - 1]].name)

    def action_toggle_panels(self) -> None:
        self.toggle_class("panels-toggled")

    def action_older(self) -> None:
        """Page Up at the top of the log asks the server for older lines (CHATHISTORY)."""
        log = self.query_one("#log", MessageLog)
        lines = self.session.logs.get(self.session.active, [])
        # Rooms and private chats alike (CHATHISTORY BEFORE #room / nick); not the server tab.
        if log.scroll_y <= 0 and lines and self.session.active != SERVER_BUFFER:
            self.post_message(self.OlderWanted(self.active_name, lines[0].time))
        log.scroll_page_up()

    def action_newer(self) -> None:
        """Page Down: back towards the newest line (there, the log follows new lines)."""
        self.query_one("#log", MessageLog).scroll_page_down()

    def action_quit(self) -> None:
        self.post_message(self.Submit(self.active_name, "/quit"))
