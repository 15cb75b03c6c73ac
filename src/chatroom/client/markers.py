"""Read markers (IRCv3 ``draft/read-marker``): where the user stopped reading each
conversation, the same on every device of the account.

Why: unread counts and the "new messages" line used to be this client's own guess, so a
laptop and a phone disagreed, and what was read on one stayed "new" on the other. With the
capability the server keeps, per account and conversation, the time of the last line read:

* it sends ``MARKREAD <room> timestamp=...|*`` after each JOIN, and again whenever the
  marker moves (read on another device, or our own update confirmed);
* a private conversation's marker is asked for (``MARKREAD <nick>``) when it opens;
* we send ``MARKREAD <target> timestamp=<time of the newest line shown>`` as the user reads:
  when a conversation is shown, and when lines arrive while it is shown. Not per line: the
  markers that moved are sent together by ``send_due``, which the connection calls about
  once a second, so a burst of fifty lines costs one MARKREAD.

The marker itself lives in ``Buffer.read_until`` (this client's own record when the server
has none); unread lines are counted from it (``recount``). Pure like
the session: lines go out through its ``send``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from chatroom.client.state import SERVER_BUFFER, Event, LineKind, ReadMoved
from chatroom.irc.message import Message

if TYPE_CHECKING:
    from chatroom.client.session import ClientSession

__all__ = ["MARKER_CAP", "NEVER_READ", "ReadMarkers", "format_stamp", "parse_stamp"]

MARKER_CAP = "draft/read-marker"
_CHAT_KINDS = (LineKind.MESSAGE, LineKind.ACTION, LineKind.NOTICE)
NEVER_READ = datetime(1970, 1, 1, tzinfo=UTC)
"""The marker of a private conversation the server says was never read (``*``): all of
it is new, such as a message stored for us while we were offline."""


def format_stamp(when: datetime) -> str:
    """``timestamp=2026-01-04T14:33:26.123Z``, the server-time form the spec asks for."""
    return "timestamp=" + when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def parse_stamp(text: str) -> datetime | None:
    """The time in ``timestamp=...`` (None for ``*`` or anything malformed)."""
    if not text.startswith("timestamp="):
        return None
    try:
        when = datetime.fromisoformat(text.removeprefix("timestamp=").replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


class ReadMarkers:
    """The read markers of one session: what the server said, and what is due to send."""

    def __init__(self, session: ClientSession) -> None:
        self.session = session
        self._server: dict[str, datetime] = {}
        """Per folded target, the newest marker the server told us (only ever grows)."""
        self._due: set[str] = set()
        """Targets read further here than the server knows, not sent yet."""
        self._asked: set[str] = set()
        """Private conversations whose marker was asked for on this connection."""

    def enabled(self) -> bool:
        """The server keeps markers for us: the capability, and an account (a guest's
        MARKREAD is refused)."""
        s = self.session
        return MARKER_CAP in s.caps and s.registered and s.account is not None

    # ------------------------------------------------------------------ reading here

    def read(self, key: str, when: datetime) -> None:
        """The user has seen ``key`` up to the line said at ``when``."""
        buf = self.session.buffers.get(key)
        if buf is None or key == SERVER_BUFFER:
            return
        if buf.read_until is None or when > buf.read_until:
            buf.read_until = when
        server = self._server.get(key)
        if buf.read_until > (server or NEVER_READ):
            self._due.add(key)

    def send_due(self) -> None:
        """One MARKREAD per conversation read further since the last call."""
        if not self._due or not self.enabled():
            return
        s = self.session
        for key in sorted(self._due):
            buf = s.buffers.get(key)
            server = self._server.get(key) or NEVER_READ
            if buf is not None and buf.read_until is not None and buf.read_until > server:
                s.send("MARKREAD", buf.name, format_stamp(buf.read_until))
        self._due.clear()

    def opened(self, name: str) -> None:
        """A private conversation opened: ask the server where the user stopped in it
        (rooms need no asking: the server tells us after each JOIN)."""
        key = self.session.key(name)
        if self.enabled() and key not in self._asked:
            self._asked.add(key)
            self.session.send("MARKREAD", name)

    def signed_on(self) -> None:
        """A new connection: ask again for each open private conversation's marker, and
        send the reading done while offline."""
        self._asked.clear()
        s = self.session
        for key, buf in s.buffers.items():
            if key != SERVER_BUFFER and not buf.is_room:
                self.opened(buf.name)
            if buf.read_until is not None and buf.read_until > (
                self._server.get(key) or NEVER_READ
            ):
                self._due.add(key)

    # ------------------------------------------------------------------ counting

    def has_news(self, key: str, since: datetime) -> bool:
        """Whether someone else said something in ``key`` after ``since``."""
        s = self.session
        return any(
            line.kind in _CHAT_KINDS and not line.own and line.time > since
            for line in s.logs.get(key, [])
        )

    def recount(self, key: str) -> None:
        """Count ``key``'s unread lines again from its read marker: the lines by others
        said after it (a mention, or any line of a private chat, is also a mention)."""
        s = self.session
        buf = s.buffers.get(key)
        if buf is None or buf.read_until is None:
            return
        if key == s.active and s.viewing:
            buf.unread = buf.mentions = 0
            return
        since = buf.read_until
        news = [
            line
            for line in s.logs.get(key, [])
            if line.kind in _CHAT_KINDS and not line.own and line.time > since
        ]
        buf.unread = len(news)
        buf.mentions = sum(1 for line in news if line.mention or not buf.is_room)

    # ------------------------------------------------------------------ from the server

    def on_markread(self, msg: Message) -> list[Event]:
        """``MARKREAD <target> <timestamp>|*``: where the account stopped reading ``target``.

        A marker newer than ours means another device read further: counts go down and the
        "new messages" line of a conversation being shown moves to the new place. An older
        or equal one (our own update confirmed, or a stale one) changes nothing.
        """
        if len(msg.params) < 2:
            return []
        s = self.session
        target, value = msg.params[0], msg.params[1]
        key = s.key(target)
        buf = s.buffers.get(key)
        when = parse_stamp(value)
        if when is None:
            if value == "*" and buf is not None and not buf.is_room and buf.read_until is None:
                buf.read_until = NEVER_READ  # nothing in it was ever read: all of it is new
                self.recount(key)
                return [ReadMoved(buf.name)]
            return []
        if when > self._server.get(key, NEVER_READ):
            self._server[key] = when
        if buf is None or (buf.read_until is not None and when <= buf.read_until):
            return []
        first, buf.read_until = buf.read_until is None, when
        self._due.discard(key)
        self.recount(key)
        if key == s.active and buf.new_since is not None:
            buf.new_since = when if self.has_news(key, when) else None
        elif key == s.active and first:
            buf.new_since = when  # just joined, shown: the history to come is new below it
        return [ReadMoved(buf.name)]
