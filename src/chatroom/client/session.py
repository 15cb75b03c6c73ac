"""The client side of one IRC connection, sans-I/O: parsed messages in, events and lines out.

Feed each ``Message`` from the server to ``feed``; it updates rooms, members, topics, our
nick, ISUPPORT and capabilities, and returns what a UI should show. Lines to send collect
in ``take_output``. Nothing here touches a socket or a screen, so every behaviour is tested
by feeding lines, and the terminal app and the line mode share one implementation.

One session object lives across reconnects (``reconnecting``), so buffers, logs and the
rooms to rejoin survive a dropped connection; its history requests (``history.py``) catch
each conversation up after the drop.
"""

from __future__ import annotations

import bisect
import re
import time
from collections.abc import Callable
from datetime import UTC, datetime

from chatroom.client import handlers
from chatroom.client.away import AwayStatus
from chatroom.client.history import HistoryRequests
from chatroom.client.login import Login
from chatroom.client.markers import ReadMarkers
from chatroom.client.modes import ModeReplies
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
LOG_LIMIT = 2000
ROOMS_FENCE = "chatroom-rooms"
RETURNING_SECONDS = 60.0  # after a reconnect, room-mates back this soon get no "joined" line
"""The PING token after the welcome of an account: its PONG comes after every JOIN the
server made for us at login, so by then we know whether it put us in any room."""
_CHAT_KINDS = (LineKind.MESSAGE, LineKind.ACTION, LineKind.NOTICE)


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
        self.marked_away = False
        """The server said this connection is marked away (306), and not back since (305)."""
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
        # draft/multiline batches being received: their opening line and lines so far.
        self.multiline: dict[str, tuple[Message, list[Message]]] = {}
        self.quitting = False
        self._out: list[bytes] = []
        self._names_fresh: set[str] = set()
        self._names_asked: set[str] = set()
        self._seen_msgids: dict[str, None] = {}
        self._newest_stamp: dict[str, datetime] = {}
        """Per buffer, the newest server time seen: a line stamped before it is a replay."""
        self._mention: re.Pattern[str] | None = None
        self.history = HistoryRequests(self)
        self.markers = ReadMarkers(self)
        self.away: AwayStatus = AwayStatus(self)
        self.mode_replies: ModeReplies = ModeReplies(self)
        self.viewing = True
        """The UI is showing the active buffer to the user (False while the terminal
        window is in the background): only then do its lines count as read."""
        self.returning_until = 0.0
        """Until when (``clock``) the room-mates of before a dropped connection count as
        coming back with us: ``RETURNING_SECONDS`` after the new welcome."""

    # ------------------------------------------------------------------ plumbing

    def _send(self, command: str, *params: str) -> None:
        if command == "QUIT":
            self.quitting = True
        self._out.append(format_line(None, command, *params))

    def send(self, command: str, *params: str) -> None:
        """Queue one outgoing line; commands and the UI use this."""
        self._send(command, *params)

    def send_raw(self, line: str) -> None:
        """Queue a line the user typed as IRC (/quote, a command the client does not know);
        a line break or NUL in it would start another command, so it is refused."""
        if any(c in line for c in "\r\n\0") or not line.strip():
            raise ValueError("one line of IRC, without line breaks")
        self._send_line(line.strip().encode() + b"\r\n")

    def _send_line(self, line: bytes) -> None:
        self._out.append(line)

    def send_lines(self, lines: list[bytes]) -> None:
        """Queue lines already formatted: a multi-line message (``client/blocks.py``)."""
        self._out.extend(lines)

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
            if buf.joined:
                buf.returning = frozenset(buf.members)
            buf.joined = False
            buf.members.clear()
        active, log = self.buffers.get(self.active), self.logs.get(self.active)
        if active is not None and active.new_since is None and log:
            active.new_since = log[-1].time  # what is said while we are away is new
        self.history.connection_lost()
        self.away.clear()
        old = self.login
        self.login = Login(self._send, self.nick, old.password, False, None)
        self.registered = False
        self.marked_away = False  # a new connection is not away
        self.quitting = False
        self.batches.clear()
        self.multiline.clear()
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
            if not found.is_room and key != SERVER_BUFFER:
                self.markers.opened(name)
        return found

    def set_active(self, name: str) -> None:
        """The UI shows ``name`` now: it is read up to its newest line.

        Coming to a buffer with unread lines sets where its "new messages" line goes
        (``Buffer.new_since``: the read marker); it stays there while the buffer is shown.
        """
        buf = self.buffer(name, create=False)
        if buf is None:
            return
        key = self.key(name)
        if key != self.active:
            self._leave(self.active)
            buf.new_since = buf.read_until if buf.unread else None
        self.active = key
        self._read_active()

    def set_viewing(self, viewing: bool) -> None:
        """The terminal window lost or got the focus. Lines said meanwhile in the shown
        buffer stay unread, and on return its "new messages" line marks them."""
        self.viewing = viewing
        buf = self.buffers.get(self.active)
        if buf is not None and not viewing and buf.new_since is None:
            buf.new_since = buf.read_until
        if viewing:
            self._read_active()

    def _read_active(self) -> None:
        key = self.active
        buf = self.buffers[key]
        if self.viewing:
            newest = self._newest_chat(key)
            if newest is not None:
                self.markers.read(key, newest)
            buf.unread = buf.mentions = 0

    def _newest_chat(self, key: str) -> datetime | None:
        for line in reversed(self.logs.get(key, [])):
            if line.kind in _CHAT_KINDS:
                return line.time
        return None

    def _leave(self, key: str) -> None:
        buf = self.buffers.get(key)
        if buf is not None:
            buf.new_since = None

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
        greeting: bool = False,
    ) -> Show:
        """Make a log line, append it to its buffer, and count it as unread if unseen."""
        buf = self.buffer(buffer) if buffer != SERVER_BUFFER else self.buffers[SERVER_BUFFER]
        assert buf is not None
        key = self.key(buf.name)
        history = msg is not None and self.batches.get(msg.tags.get("batch", "")) == "chathistory"
        when = self.message_time(msg)
        # A server-stamped line older than one already shown is a replay (a server or
        # bouncer replaying a room on join, outside any chathistory batch): it goes in its
        # place by time, as scrollback, not under the newer lines as if just said.
        stamped = msg is not None and bool(msg.tags.get("time"))
        newest = self._newest_stamp.get(key)
        late = stamped and not history and newest is not None and when < newest
        if stamped and (newest is None or when > newest):
            self._newest_stamp[key] = when
        catching_up = self.history.is_catching_up(key)
        line = Show(
            buf.name,
            kind,
            nick,
            text,
            when,
            mention=mention,
            own=self.is_me(nick),
            history=history or late,
            earlier=(history and not catching_up) or late,
            msgid=msg.tags.get("msgid", "") if msg is not None else "",
            greeting=greeting,
        )
        if msg is not None and kind in _CHAT_KINDS:
            self.history.seen(key, line.time, msg)
        log = self.logs.setdefault(key, [])
        if line.history:
            bisect.insort(log, line, key=lambda s: s.time)
        else:
            log.append(line)
        self.appended[key] = self.appended.get(key, 0) + 1
        if len(log) > LOG_LIMIT:
            del log[: len(log) - LOG_LIMIT]
        if kind not in _CHAT_KINDS:
            return line
        if key == self.active and self.viewing:
            self.markers.read(key, line.time)  # shown as it arrives: read
        elif not line.own:
            if buf.read_until is not None:
                news = line.time > buf.read_until  # newer than the read marker
            else:  # no marker yet: lines missed while disconnected are news, scrollback not
                news = not line.history or catching_up
            if news:
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

    def came_back(self, room: str, nick: str) -> bool:
        """``nick`` was in ``room`` with us when our connection dropped, and this is the
        reconnect's first minute: a server restart brings everyone back, and a line per
        room-mate ("joined", or the "quit" the server kept at its shutdown) is noise, as
        the web client also judges. Our own count too; what others said is never hidden."""
        buf = self.buffers.get(self.key(room))
        if buf is None or not buf.returning or self.clock() > self.returning_until:
            return False
        return self.is_me(nick) or self.key(nick) in buf.returning

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
        self.history.count(msg)
        if msg.command in handlers.ROOM_EVENTS:
            if self.batches.get(msg.tags.get("batch", "")) == "chathistory":
                # draft/event-playback: a JOIN from history is a line of scrollback, never
                # a change to who is in the room now.
                return handlers.history_event(self, msg)
            self.seen_msgid(msg)  # so the same event from history later is not shown twice
        handler = _HANDLERS.get(msg.command)
        if handler is not None:
            return handler(self, msg)
        if msg.command.isdigit():
            return handlers.numeric(self, msg)
        return []

    def on_welcome(self, msg: Message) -> list[Event]:
        self.registered = True
        self.returning_until = self.clock() + RETURNING_SECONDS
        if msg.params:
            self.nick = msg.params[0]
        events: list[Event] = [Registered(self.nick, self.network)]
        events.extend(self.login.after_welcome())
        if self.account:
            # An account's rooms are the server's to say (it rejoins them at login, the
            # same on every device); ours are only the fallback, once its JOINs are in.
            self._send("PING", ROOMS_FENCE)
        elif self.autojoin:
            self._send("JOIN", ",".join(self.autojoin))
        self.history.signed_on()
        self.markers.signed_on()
        text = msg.params[-1] if msg.params else "Welcome"
        events.append(self.show(SERVER_BUFFER, LineKind.INFO, text, msg=msg, greeting=True))
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

    def on_pong(self, msg: Message) -> list[Event]:
        """The PONG of ``ROOMS_FENCE``: the server has joined us to all the rooms it will.
        In none (a new account, or a server that does not rejoin)? Then join ours."""
        in_a_room = any(buf.joined for buf in self.buffers.values() if buf.is_room)
        if msg.params[-1:] == (ROOMS_FENCE,) and self.autojoin and not in_a_room:
            self._send("JOIN", ",".join(self.autojoin))
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

    def room_changed(self, room: str | None) -> StateChanged:
        return StateChanged(room)


_HANDLERS: dict[str, Callable[[ClientSession, Message], list[Event]]] = {
    "001": ClientSession.on_welcome,
    "005": ClientSession.on_isupport,
    "ERROR": ClientSession.on_error,
    "PONG": ClientSession.on_pong,
    "MARKREAD": lambda s, m: s.markers.on_markread(m),
    "CAP": lambda s, m: s.login.on_cap(m),
    "AUTHENTICATE": lambda s, m: s.login.on_authenticate(m),
    n.RPL_LOGGEDIN: lambda s, m: s.login.on_logged_in(m),
    n.RPL_SASLSUCCESS: lambda s, m: s.login.on_sasl_result(m),
    n.ERR_SASLFAIL: lambda s, m: s.login.on_sasl_result(m),
    n.ERR_NICKLOCKED: lambda s, m: s.login.on_sasl_result(m),
    "REGISTER": lambda s, m: s.login.on_register(m),
    "CHATHISTORY": lambda s, m: s.history.on_targets(m),
    **handlers.HANDLERS,
}
