"""The client side of one IRC connection, sans-I/O: parsed messages in, events and lines out.

Feed each ``Message`` from the server to ``feed``; it updates rooms, members, topics, our
nick, ISUPPORT and capabilities, and returns what a UI should show. Lines to send collect
in ``take_output``. Nothing here touches a socket or a screen, so every behaviour is tested
by feeding lines, and the terminal app and the line mode share one implementation.

One session object lives across reconnects (``reconnecting``), so buffers, logs and the
rooms to rejoin survive a dropped connection. It also remembers the last line seen in each
conversation: back online, each one asks ``CHATHISTORY AFTER`` that line, page by page
until a short page, and ``CHATHISTORY TARGETS`` names people who wrote meanwhile. History
requests wait in one queue, at most ``HISTORY_AT_ONCE`` unanswered (the server refuses more
than four).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from chatroom.client import handlers
from chatroom.client.login import Login
from chatroom.client.state import (
    SERVER_BUFFER,
    Buffer,
    Closed,
    Event,
    LineKind,
    Registered,
    Show,
    StateChanged,
)
from chatroom.irc import numerics as n
from chatroom.irc.casemap import CaseMapping, casefolder
from chatroom.irc.isupport import parse_token
from chatroom.irc.message import Message, format_line
from chatroom.irc.modes import ChannelModeSpec

__all__ = ["DEFAULT_ROOM", "ClientSession"]

DEFAULT_ROOM = "#lobby"
HISTORY_LINES = 50
HISTORY_AT_ONCE = 2
"""History requests left unanswered at once: the server refuses more than a few, and a
reconnect that rejoins many rooms must still fill each one."""
LOG_LIMIT = 2000
_CHAT_KINDS = (LineKind.MESSAGE, LineKind.ACTION, LineKind.NOTICE)


@dataclass(slots=True)
class _Page:
    """A history batch being received: which conversation, how many lines, the last one."""

    target: str
    lines: int = 0
    last: str = ""


def history_ref(msg: Message) -> str:
    """A CHATHISTORY reference to ``msg``: its msgid, else its server time ("" if neither)."""
    if msg.tags.get("msgid"):
        return f"msgid={msg.tags['msgid']}"
    if msg.tags.get("time"):
        return f"timestamp={msg.tags['time']}"
    return ""


def _stamp(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class ClientSession:
    """State and protocol for one user on one server."""

    def __init__(
        self,
        nick: str,
        password: str | None = None,
        *,
        create_account: bool = False,
        email: str | None = None,
        realname: str = "ChatRoom user",
        autojoin: tuple[str, ...] = (DEFAULT_ROOM,),
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.nick = nick
        self.realname = realname
        self.clock = clock
        self.login = Login(self._send, nick, password, create_account, email)
        self.autojoin = list(autojoin)
        self.registered = False
        self.network = "server"
        self.isupport: dict[str, str | None] = {}
        self.prefix_modes = "ov"
        self.prefix_symbols = "@+"
        self.chantypes = "#&"
        self.mode_spec = ChannelModeSpec()
        self.fold = casefolder(CaseMapping.RFC1459)
        self.buffers: dict[str, Buffer] = {SERVER_BUFFER: Buffer(SERVER_BUFFER, is_room=False)}
        self.logs: dict[str, list[Show]] = {SERVER_BUFFER: []}
        self.active = SERVER_BUFFER
        self.appended: dict[str, int] = {}
        """Lines ever added per buffer: a UI compares it with what it drew, even after
        old lines were trimmed from the log."""
        self.batches: dict[str, str] = {}
        self.quitting = False
        self._out: list[bytes] = []
        self._names_fresh: set[str] = set()
        self._names_asked: set[str] = set()
        self._seen_msgids: dict[str, None] = {}
        self._mention: re.Pattern[str] | None = None
        # History (draft/chathistory): requests wait in a queue so that at most
        # HISTORY_AT_ONCE are unanswered; one per conversation at a time.
        self._history_queue: list[tuple[str, ...]] = []
        self._history_busy = 0
        self._history_pending: dict[str, str] = {}  # folded target -> LATEST/BEFORE/AFTER
        self._pages: dict[str, _Page] = {}  # open history batches by reference
        # Catching up after a reconnect: the newest line seen per conversation (its time
        # and reference), and where each conversation's AFTER paging has got to.
        self._newest: dict[str, tuple[datetime, str]] = {}
        self._catch_up: dict[str, str] = {}
        self._away_since: datetime | None = None
        self._targets_since: datetime | None = None

    # ------------------------------------------------------------------ plumbing

    def _send(self, command: str, *params: str) -> None:
        if command == "QUIT":
            self.quitting = True
        self._out.append(format_line(None, command, *params))

    def send(self, command: str, *params: str) -> None:
        """Queue one outgoing line; commands and the UI use this."""
        self._send(command, *params)

    def take_output(self) -> list[bytes]:
        out, self._out = self._out, []
        return out

    def start(self) -> None:
        """Open the conversation: CAP LS first, so registration waits for CAP END."""
        self._send("CAP", "LS", "302")
        self._send("NICK", self.nick)
        self._send("USER", self.nick.lower()[:10] or "user", "0", "*", self.realname)

    def reconnecting(self) -> None:
        """Prepare for a fresh connection: remember the joined rooms, forget the rest."""
        rooms = [b.name for b in self.buffers.values() if b.is_room and b.joined]
        if rooms:
            self.autojoin = rooms
        for buf in self.buffers.values():
            buf.joined = False
            buf.members.clear()
        # Remember the last line seen in each conversation: after rejoining, only what was
        # said since is asked for (a catch-up cut short by this drop goes on where it was).
        for key, (_, ref) in self._newest.items():
            if key in self.buffers:
                self._catch_up.setdefault(key, ref)
        if self._away_since is None:
            self._away_since = datetime.fromtimestamp(self.clock(), UTC)
        self._history_queue.clear()
        self._history_busy = 0
        self._history_pending.clear()
        self._pages.clear()
        self._targets_since = None
        old = self.login
        self.login = Login(self._send, self.nick, old.password, False, None)
        self.registered = False
        self.quitting = False
        self.batches.clear()
        self._out.clear()

    @property
    def caps(self) -> set[str]:
        return self.login.enabled

    @property
    def account(self) -> str | None:
        return self.login.account

    # ------------------------------------------------------------------ buffers

    def key(self, name: str) -> str:
        return self.fold(name)

    def is_channel(self, name: str) -> bool:
        return bool(name) and name[0] in self.chantypes

    def is_me(self, nick: str | None) -> bool:
        return nick is not None and self.fold(nick) == self.fold(self.nick)

    def buffer(self, name: str, create: bool = True) -> Buffer | None:
        key = self.key(name)
        found = self.buffers.get(key)
        if found is None and create:
            found = self.buffers[key] = Buffer(name, is_room=self.is_channel(name))
            self.logs[key] = []
        return found

    def set_active(self, name: str) -> None:
        """The UI shows ``name`` now: its unread and mention counts are read."""
        buf = self.buffer(name, create=False)
        if buf is not None:
            self.active = self.key(name)
            buf.unread = 0
            buf.mentions = 0

    def close_buffer(self, name: str) -> None:
        key = self.key(name)
        if key != SERVER_BUFFER:
            self.buffers.pop(key, None)
            self.logs.pop(key, None)
            if self.active == key:
                self.active = SERVER_BUFFER

    def is_mention(self, text: str) -> bool:
        if self._mention is None or self._mention.pattern.find(re.escape(self.nick)) < 0:
            pattern = rf"(?<![\w\[\]\\`^{{|}}-]){re.escape(self.nick)}(?![\w\[\]\\`^{{|}}-])"
            self._mention = re.compile(pattern, re.IGNORECASE)
        return bool(self._mention.search(text))

    def show(
        self,
        buffer: str,
        kind: LineKind,
        text: str,
        nick: str = "",
        msg: Message | None = None,
        *,
        mention: bool = False,
    ) -> Show:
        """Make a log line, append it to its buffer, and count it as unread if unseen."""
        buf = self.buffer(buffer) if buffer != SERVER_BUFFER else self.buffers[SERVER_BUFFER]
        assert buf is not None
        key = self.key(buf.name)
        history = msg is not None and self.batches.get(msg.tags.get("batch", "")) == "chathistory"
        line = Show(
            buf.name,
            kind,
            nick,
            text,
            self.message_time(msg),
            mention=mention,
            own=self.is_me(nick),
            history=history,
        )
        if msg is not None and kind in _CHAT_KINDS:
            ref = history_ref(msg)
            newest = self._newest.get(key)
            if ref and (newest is None or line.time >= newest[0]):
                self._newest[key] = (line.time, ref)
        log = self.logs.setdefault(key, [])
        log.append(line)
        self.appended[key] = self.appended.get(key, 0) + 1
        if history:
            log.sort(key=lambda s: s.time)
        if len(log) > LOG_LIMIT:
            del log[: len(log) - LOG_LIMIT]
        counted = kind in _CHAT_KINDS
        # Lines missed while disconnected are news; older scrollback is not.
        news = not history or self._history_pending.get(key) == "AFTER"
        if key != self.active and counted and news and not line.own:
            buf.unread += 1
            buf.mentions += int(mention or not buf.is_room)
        return line

    def info(self, text: str, buffer: str | None = None, kind: LineKind = LineKind.INFO) -> Show:
        """A line from us or the server about the state of things, in the active buffer."""
        target = buffer if buffer is not None else self.buffers[self.active].name
        if target != SERVER_BUFFER and self.buffer(target, create=False) is None:
            target = SERVER_BUFFER
        return self.show(target, kind, text)

    def message_time(self, msg: Message | None) -> datetime:
        """The server-time tag when present (so scrollback shows when it was said)."""
        stamp = msg.tags.get("time") if msg is not None else None
        if stamp:
            try:
                return datetime.fromisoformat(stamp.replace("Z", "+00:00"))
            except ValueError:
                pass
        return datetime.fromtimestamp(self.clock(), UTC)

    def seen_msgid(self, msg: Message) -> bool:
        """True for a message we already showed: history and live lines can overlap."""
        msgid = msg.tags.get("msgid")
        if not msgid:
            return False
        if msgid in self._seen_msgids:
            return True
        self._seen_msgids[msgid] = None
        if len(self._seen_msgids) > 10_000:
            del self._seen_msgids[next(iter(self._seen_msgids))]
        return False

    # ------------------------------------------------------------------ input

    def feed(self, msg: Message) -> list[Event]:
        """Apply one server message; returns the events for the UI, in order."""
        page = self._pages.get(msg.tags.get("batch", ""))
        if page is not None and msg.command in ("PRIVMSG", "NOTICE"):
            # Counted before de-duplication: a page of lines already shown is still a page.
            page.lines += 1
            page.last = history_ref(msg) or page.last
        handler = _HANDLERS.get(msg.command)
        if handler is not None:
            return handler(self, msg)
        if msg.command.isdigit():
            return handlers.numeric(self, msg)
        return []

    def on_welcome(self, msg: Message) -> list[Event]:
        self.registered = True
        if msg.params:
            self.nick = msg.params[0]
        events: list[Event] = [Registered(self.nick, self.network)]
        events.extend(self.login.after_welcome())
        if self.autojoin:
            self._send("JOIN", ",".join(self.autojoin))
        self._catch_up_queries()
        text = msg.params[-1] if msg.params else "Welcome"
        events.append(self.show(SERVER_BUFFER, LineKind.INFO, text, msg=msg))
        return events

    def on_isupport(self, msg: Message) -> list[Event]:
        for token in msg.params[1:-1]:
            name, value = parse_token(token)
            if name.startswith("-"):
                self.isupport.pop(name[1:], None)
                continue
            self.isupport[name] = value
            if name == "PREFIX" and value and value.startswith("(") and ")" in value:
                modes, _, symbols = value[1:].partition(")")
                self.prefix_modes, self.prefix_symbols = modes, symbols
            elif name == "CHANTYPES" and value:
                self.chantypes = value
            elif name == "CASEMAPPING" and value in ("ascii", "rfc1459"):
                self.fold = casefolder(CaseMapping(value))
            elif name == "NETWORK" and value:
                self.network = value
            elif name == "CHANMODES" and value and value.count(",") >= 3:
                a, b, c, d = value.split(",")[:4]
                self.mode_spec = ChannelModeSpec(a, b, c, d, self.prefix_modes)
        self.mode_spec = ChannelModeSpec(
            self.mode_spec.lists,
            self.mode_spec.always_arg,
            self.mode_spec.set_arg,
            self.mode_spec.flags,
            self.prefix_modes,
        )
        return []

    def on_error(self, msg: Message) -> list[Event]:
        """ERROR: the server is closing us. Bans and kills are not retried."""
        text = msg.params[-1] if msg.params else "Connection closed"
        low = text.lower()
        final = any(w in low for w in ("ban", "kill", "k-line", "g-line"))
        events: list[Event] = []
        if not self.registered and self.login.failed is None and final:
            events.extend(self.login.fail("banned", f"You are banned from this server: {text}"))
        kind = LineKind.INFO if self.quitting else LineKind.ERROR
        events.append(self.show(SERVER_BUFFER, kind, text, msg=msg))
        retry = not (final or self.quitting or self.login.failed is not None)
        events.append(Closed(text, retry=retry))
        return events

    def history_supported(self) -> bool:
        return "draft/chathistory" in self.caps or "CHATHISTORY" in self.isupport

    def history_page(self) -> int:
        """Lines per request: ours, or the server's ISUPPORT CHATHISTORY limit when lower."""
        most = self.isupport.get("CHATHISTORY")
        if most and most.isdigit() and int(most) > 0:
            return min(HISTORY_LINES, int(most))
        return HISTORY_LINES

    def request_history(self, room: str, before: datetime | None = None) -> None:
        """Ask for the last lines of ``room`` (or those before ``before``)."""
        if before is None:
            self._ask_history("LATEST", room, "*")
        else:
            self._ask_history("BEFORE", room, f"timestamp={_stamp(before)}")

    def joined_history(self, room: str) -> None:
        """We (re)joined ``room``: catch up from the last line seen, or read its latest lines."""
        ref = self._catch_up.get(self.key(room))
        if ref:
            self._ask_history("AFTER", room, ref)
        else:
            self.request_history(room)

    def _catch_up_queries(self) -> None:
        """Signed on again: private conversations catch up (rooms do on rejoining), and
        CHATHISTORY TARGETS names who else wrote to us while we were away."""
        since, self._away_since = self._away_since, None
        for key, ref in list(self._catch_up.items()):
            buf = self.buffers.get(key)
            if buf is None:
                del self._catch_up[key]
            elif not buf.is_room:
                self._ask_history("AFTER", buf.name, ref)
        if since is not None and self.history_supported() and "batch" in self.caps:
            now = datetime.fromtimestamp(self.clock(), UTC)
            self._history_queue.append(
                ("TARGETS", f"timestamp={_stamp(since)}", f"timestamp={_stamp(now)}")
            )
            self._targets_since = since
            self._pump_history()

    def _ask_history(self, kind: str, target: str, ref: str) -> None:
        """Queue one CHATHISTORY request; one per conversation, a few per connection."""
        if not self.history_supported():
            return
        if "batch" not in self.caps:  # answers cannot be told apart: ask, without a queue
            self._send("CHATHISTORY", kind, target, ref, str(self.history_page()))
            return
        key = self.key(target)
        if key in self._history_pending:
            return
        self._history_pending[key] = kind
        self._history_queue.append((kind, target, ref))
        self._pump_history()

    def _pump_history(self) -> None:
        while self._history_busy < HISTORY_AT_ONCE and self._history_queue:
            self._history_busy += 1
            self._send("CHATHISTORY", *self._history_queue.pop(0), str(self.history_page()))

    def history_batch_started(self, ref: str, kind: str, params: tuple[str, ...]) -> None:
        if kind == "chathistory" and params:
            self._pages[ref] = _Page(params[0])
        elif kind == "draft/chathistory-targets":
            self._pages[ref] = _Page("")

    def history_batch_ended(self, ref: str) -> None:
        """A history answer is complete: the next request may go; a full AFTER page asks
        for the page after it, a short one means this conversation has caught up."""
        page = self._pages.pop(ref, None)
        if page is None:
            return
        self._history_busy = max(0, self._history_busy - 1)
        if not page.target:
            self._targets_since = None
        else:
            key = self.key(page.target)
            kind = self._history_pending.pop(key, None)
            if kind == "AFTER":
                more = page.lines >= self.history_page() and page.last
                if more and page.last != self._catch_up.get(key):
                    self._catch_up[key] = page.last
                    self._ask_history("AFTER", page.target, page.last)
                else:
                    self._catch_up.pop(key, None)
        self._pump_history()

    def history_failed(self, msg: Message) -> None:
        """FAIL CHATHISTORY <code> <subcommand> <target> ...: that request is over."""
        self._history_busy = max(0, self._history_busy - 1)
        if len(msg.params) > 3:
            key = self.key(msg.params[3])
            if self._history_pending.pop(key, None) == "AFTER":
                self._catch_up.pop(key, None)
        self._pump_history()

    def on_targets(self, msg: Message) -> list[Event]:
        """``CHATHISTORY TARGETS <name> <time>``: someone wrote to us while we were away.
        A conversation not open yet is opened with the lines said since we left."""
        since = self._targets_since
        if since is None or len(msg.params) < 2 or msg.params[0] != "TARGETS":
            return []
        name = msg.params[1]
        key = self.key(name)
        if self.is_channel(name) or self.is_me(name) or self.logs.get(key):
            return []  # rooms catch up on rejoining, open conversations on their own
        self.buffer(name)
        self._catch_up[key] = f"timestamp={_stamp(since)}"
        self._ask_history("AFTER", name, self._catch_up[key])
        return [StateChanged(None)]

    def room_changed(self, room: str | None) -> StateChanged:
        return StateChanged(room)


_HANDLERS: dict[str, Callable[[ClientSession, Message], list[Event]]] = {
    "001": ClientSession.on_welcome,
    "005": ClientSession.on_isupport,
    "ERROR": ClientSession.on_error,
    "CAP": lambda s, m: s.login.on_cap(m),
    "AUTHENTICATE": lambda s, m: s.login.on_authenticate(m),
    n.RPL_LOGGEDIN: lambda s, m: s.login.on_logged_in(m),
    n.RPL_SASLSUCCESS: lambda s, m: s.login.on_sasl_result(m),
    n.ERR_SASLFAIL: lambda s, m: s.login.on_sasl_result(m),
    n.ERR_NICKLOCKED: lambda s, m: s.login.on_sasl_result(m),
    "REGISTER": lambda s, m: s.login.on_register(m),
    "CHATHISTORY": ClientSession.on_targets,
    **handlers.HANDLERS,
}
