"""Scrollback and catch-up through ``draft/chathistory``, for one client session.

Why a queue: the server answers at most a few history requests per connection at once
(ChatRoom refuses a fifth), and a reconnect that rejoins many rooms must still fill each
one. So requests wait here, at most ``AT_ONCE`` unanswered and one per conversation.

Why catch-up: after a dropped connection, each conversation asks ``CHATHISTORY AFTER``
the last line it had seen, page by page until a short page, and ``CHATHISTORY TARGETS``
names people who wrote meanwhile. Without it a user who lost the connection for a minute
would silently miss what was said.

Pure like the session: it only queues lines through the session's ``send``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from chatroom.client.state import Event, StateChanged
from chatroom.irc.message import Message

if TYPE_CHECKING:
    from chatroom.client.session import ClientSession

__all__ = ["AT_ONCE", "LINES", "HistoryRequests", "history_ref"]

LINES = 50
AT_ONCE = 2
RECENT = timedelta(days=30)
"""At login, the private conversations with a message this recent are opened again."""


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


def _opens_multiline(msg: Message) -> bool:
    """A nested draft/multiline batch counts as the one message it carries."""
    return msg.command == "BATCH" and msg.params[1:2] == ("draft/multiline",)


def _stamp(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class HistoryRequests:
    """The history requests of one session: queued, paged, and resumed after a drop."""

    def __init__(self, session: ClientSession) -> None:
        self.session = session
        self._queue: list[tuple[str, ...]] = []
        self._busy = 0
        self._pending: dict[str, str] = {}  # folded target -> LATEST/BEFORE/AFTER
        self._pages: dict[str, _Page] = {}  # open history batches by reference
        # The newest line seen per conversation (its time and reference), and where each
        # conversation's AFTER paging has got to.
        self._newest: dict[str, tuple[datetime, str]] = {}
        self._catch_up: dict[str, str] = {}
        self._away_since: datetime | None = None
        self._targets_since: datetime | None = None
        self._reopening = False
        """A TARGETS answer is listing the recent private conversations to open at login."""

    # ------------------------------------------------------------------ asking

    def supported(self) -> bool:
        s = self.session
        return "draft/chathistory" in s.caps or "CHATHISTORY" in s.isupport

    def page_size(self) -> int:
        """Lines per request: ours, or the server's ISUPPORT CHATHISTORY limit when lower."""
        most = self.session.isupport.get("CHATHISTORY")
        if most and most.isdigit() and int(most) > 0:
            return min(LINES, int(most))
        return LINES

    def request(self, target: str, before: datetime | None = None) -> None:
        """Ask for the last lines of ``target`` (or those before ``before``)."""
        if before is None:
            self._ask("LATEST", target, "*")
        else:
            self._ask("BEFORE", target, f"timestamp={_stamp(before)}")

    def joined(self, room: str) -> None:
        """We (re)joined ``room``: catch up from the last line seen, or read its latest lines."""
        ref = self._catch_up.get(self.session.key(room))
        if ref:
            self._ask("AFTER", room, ref)
        else:
            self.request(room)

    def is_catching_up(self, key: str) -> bool:
        """Lines now arriving for ``key`` were missed while away (news, not scrollback)."""
        return self._pending.get(key) == "AFTER"

    def _ask(self, kind: str, target: str, ref: str) -> None:
        """Queue one CHATHISTORY request; one per conversation, a few per connection."""
        if not self.supported():
            return
        s = self.session
        if "batch" not in s.caps:  # answers cannot be told apart: ask, without a queue
            s.send("CHATHISTORY", kind, target, ref, str(self.page_size()))
            return
        key = s.key(target)
        if key in self._pending:
            return
        self._pending[key] = kind
        self._queue.append((kind, target, ref))
        self._pump()

    def _pump(self) -> None:
        while self._busy < AT_ONCE and self._queue:
            self._busy += 1
            self.session.send("CHATHISTORY", *self._queue.pop(0), str(self.page_size()))

    # ------------------------------------------------------------------ connection

    def seen(self, key: str, when: datetime, msg: Message) -> None:
        """A chat line was shown in ``key``: the newest one is where a catch-up starts."""
        ref = history_ref(msg)
        newest = self._newest.get(key)
        if ref and (newest is None or when >= newest[0]):
            self._newest[key] = (when, ref)

    def connection_lost(self) -> None:
        """Remember the last line seen in each open conversation; forget what was asked.

        A catch-up cut short by this drop goes on from where it had got to.
        """
        for key, (_, ref) in self._newest.items():
            if key in self.session.buffers:
                self._catch_up.setdefault(key, ref)
        if self._away_since is None:
            # TARGETS starts from the server's time of the newest line seen when there is
            # one: our clock may be off, and one running ahead would miss early writers.
            seen = [when for when, _ in self._newest.values()]
            now = datetime.fromtimestamp(self.session.clock(), UTC)
            self._away_since = max(seen) if seen else now
        self._queue.clear()
        self._busy = 0
        self._pending.clear()
        self._pages.clear()
        self._targets_since = None

    def signed_on(self) -> None:
        """Signed on again: private conversations catch up (rooms do on rejoining), and
        CHATHISTORY TARGETS names who else wrote to us while we were away."""
        s = self.session
        since, self._away_since = self._away_since, None
        for key, ref in list(self._catch_up.items()):
            buf = s.buffers.get(key)
            if buf is None:
                del self._catch_up[key]
            elif not buf.is_room:
                self._ask("AFTER", buf.name, ref)
        if not self.supported() or "batch" not in s.caps:
            return
        now = datetime.fromtimestamp(s.clock(), UTC)
        if since is not None:
            self._queue.append(
                ("TARGETS", f"timestamp={_stamp(since)}", f"timestamp={_stamp(now)}")
            )
            self._targets_since = since
            self._pump()
        elif s.account:
            # Logged in to an account: its recent private conversations open again, from
            # the server's list (the same on every device), newest first.
            start, end = f"timestamp={_stamp(now)}", f"timestamp={_stamp(now - RECENT)}"
            self._queue.append(("TARGETS", start, end))
            self._reopening = True
            self._pump()

    # ------------------------------------------------------------------ answers

    def count(self, msg: Message) -> None:
        """Count a line of an open history batch, before de-duplication: a page of lines
        already shown is still a full page. Events (draft/event-playback) count too, as
        the server counts them against the limit."""
        page = self._pages.get(msg.tags.get("batch", ""))
        # One message or event per line; a multi-line message is one (its opening BATCH).
        if page is not None and (msg.command != "BATCH" or _opens_multiline(msg)):
            page.lines += 1
            page.last = history_ref(msg) or page.last

    def target_of(self, batch: str) -> str | None:
        """The conversation an open history batch is about (None if it is not one)."""
        page = self._pages.get(batch)
        return page.target if page is not None and page.target else None

    def batch_started(self, ref: str, kind: str, params: tuple[str, ...]) -> None:
        if kind == "chathistory" and params:
            self._pages[ref] = _Page(params[0])
        elif kind == "draft/chathistory-targets":
            self._pages[ref] = _Page("")

    def batch_ended(self, ref: str) -> None:
        """A history answer is complete: the next request may go; a full AFTER page asks
        for the page after it, a short one means this conversation has caught up."""
        page = self._pages.pop(ref, None)
        if page is None:
            return
        self._busy = max(0, self._busy - 1)
        if not page.target:
            self._targets_since = None
            self._reopening = False
        else:
            key = self.session.key(page.target)
            kind = self._pending.pop(key, None)
            if kind == "AFTER":
                more = page.lines >= self.page_size() and page.last
                if more and page.last != self._catch_up.get(key):
                    self._catch_up[key] = page.last
                    self._ask("AFTER", page.target, page.last)
                else:
                    self._catch_up.pop(key, None)
        self._pump()

    def failed(self, msg: Message) -> None:
        """FAIL CHATHISTORY <code> <subcommand> <target> ...: that request is over."""
        self._busy = max(0, self._busy - 1)
        if len(msg.params) > 3:
            key = self.session.key(msg.params[3])
            if self._pending.pop(key, None) == "AFTER":
                self._catch_up.pop(key, None)
        self._pump()

    def on_targets(self, msg: Message) -> list[Event]:
        """``CHATHISTORY TARGETS <name> <time>``: someone wrote to us while we were away
        (a conversation not open yet is opened with the lines said since we left), or, at
        login, a recent private conversation (opened with its latest lines)."""
        s = self.session
        since = self._targets_since
        if (since is None and not self._reopening) or msg.params[:1] != ("TARGETS",):
            return []
        if len(msg.params) < 2:
            return []
        name = msg.params[1]
        key = s.key(name)
        if s.is_channel(name) or s.is_me(name) or s.logs.get(key):
            return []  # rooms catch up on rejoining, open conversations on their own
        s.buffer(name)
        if since is None:
            self.request(name)
            return [StateChanged(None)]
        self._catch_up[key] = f"timestamp={_stamp(since)}"
        self._ask("AFTER", name, self._catch_up[key])
        return [StateChanged(None)]
