"""What a client knows about its IRC connection, and the events it reports to a UI.

Plain data, no protocol logic: ``chatroom.client.session`` fills it in, the terminal app
and the line mode only read it. Events are small frozen records so a UI can queue them,
log them, or compare them in tests.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

__all__ = [
    "SERVER_BUFFER",
    "AuthFailed",
    "Buffer",
    "Closed",
    "Deleted",
    "Event",
    "LineKind",
    "LoggedIn",
    "ReadMoved",
    "Registered",
    "Show",
    "StateChanged",
    "TrustNeeded",
    "nick_colour",
]

SERVER_BUFFER = "*"
"""The buffer for server notices and replies that belong to no room; no nick or room is
named ``*``, so it can never clash."""

# Readable on dark and light terminals alike; no pure red (reserved for errors).
_NICK_COLOURS = (
    "#e5a50a",
    "#62a0ea",
    "#57e389",
    "#dc8add",
    "#5bc8af",
    "#f6d32d",
    "#99c1f1",
    "#ffa348",
    "#8ff0a4",
    "#c061cb",
    "#2ec27e",
    "#cdab8f",
)


def nick_colour(nick: str) -> str:
    """A colour for ``nick`` that is the same in every run and every client.

    CRC-32 rather than ``hash()``: Python salts string hashes per process, which would
    recolour everyone at each start.
    """
    return _NICK_COLOURS[zlib.crc32(nick.lower().encode("utf-8")) % len(_NICK_COLOURS)]


class LineKind(StrEnum):
    """How a log line is drawn; the value is also the line mode's tag for it."""

    MESSAGE = "message"
    ACTION = "action"
    NOTICE = "notice"
    JOIN = "join"
    PART = "part"
    QUIT = "quit"
    KICK = "kick"
    NICK = "nick"
    TOPIC = "topic"
    MODE = "mode"
    INFO = "info"
    ERROR = "error"


@dataclass(slots=True)
class Buffer:
    """One conversation: a room, a private query, or the server buffer.

    ``members`` maps the case-folded nick to ``(nick, prefixes)``; prefixes are kept
    highest first (``@+``) because multi-prefix servers send them all.
    """

    name: str
    is_room: bool
    topic: str = ""
    members: dict[str, tuple[str, str]] = field(default_factory=dict)
    joined: bool = False
    unread: int = 0
    mentions: int = 0
    read_until: datetime | None = None
    """The read marker: the time of the newest line the user has read here, on this
    device or (draft/read-marker) on another of the account. None until known."""
    new_since: datetime | None = None
    """Where the "new messages" line goes while it is shown: set when the user comes
    back to a buffer with unread lines, None when there is nothing new."""
    returning: frozenset[str] = frozenset()
    """Folded nicks of those who were here when the connection dropped: after a server
    restart they come back with us, so their rejoin (live or from history) and the QUIT
    the server kept at its shutdown are not news (``ClientSession.came_back``)."""

    def sorted_members(self, prefix_order: str) -> list[tuple[str, str]]:
        """Members by rank (ops, voices, others), then by name, as IRC clients list them."""

        def rank(item: tuple[str, str]) -> tuple[int, str]:
            nick, prefixes = item
            best = min((prefix_order.find(p) for p in prefixes if p in prefix_order), default=99)
            return best, nick.lower()

        return sorted(self.members.values(), key=rank)


@dataclass(frozen=True, slots=True)
class Show:
    """A line for a buffer's log. ``history`` lines come from scrollback and count as read;
    ``earlier`` ones were said before this session saw the room (scrollback, or a replay on
    join) and are drawn apart from live lines.

    ``msgid`` is the server's id of the line (what REDACT names); a ``deleted`` line keeps
    its place and nick, and its text says who deleted it and why, never what it said.

    ``greeting`` marks the server's welcome and message of the day, which every connection
    repeats: the line mode prints them for the first connection only.
    """

    buffer: str
    kind: LineKind
    nick: str
    text: str
    time: datetime
    mention: bool = False
    own: bool = False
    history: bool = False
    deleted: bool = False
    earlier: bool = False
    msgid: str = ""
    greeting: bool = False


@dataclass(frozen=True, slots=True)
class StateChanged:
    """Rooms, members or topics changed; ``buffer`` is None when the room list itself did."""

    buffer: str | None


@dataclass(frozen=True, slots=True)
class Deleted:
    """A line already in ``buffer``'s log was deleted (IRCv3 message redaction): ``line``
    replaced it there, so a UI that drew the log draws it again."""

    buffer: str
    line: Show


@dataclass(frozen=True, slots=True)
class ReadMoved:
    """``buffer``'s read marker moved (read on another device): its unread count changed,
    and so may the place of its "new messages" line."""

    buffer: str


@dataclass(frozen=True, slots=True)
class Registered:
    """The server welcomed us (001): the login screen can make way for the chat."""

    nick: str
    network: str


@dataclass(frozen=True, slots=True)
class LoggedIn:
    """Logged into ``account`` (900), or created it (``created``)."""

    account: str
    created: bool = False


@dataclass(frozen=True, slots=True)
class AuthFailed:
    """Login could not go on. ``reason`` is one of: ``password``, ``throttled``,
    ``nick_taken``, ``account_exists``, ``registration``, ``banned``, ``unsupported``.

    ``text`` is what to tell the user, already made readable.
    """

    reason: str
    text: str


@dataclass(frozen=True, slots=True)
class Closed:
    """The server ended the session (ERROR); ``retry`` is False for bans and kills."""

    text: str
    retry: bool


@dataclass(frozen=True, slots=True)
class TrustNeeded:
    """A connection-level question for the user; produced by the connection, not the
    session, and answered before anything else is sent."""

    host: str
    port: int
    fingerprint: str
    changed_from: str | None = None


Event = Show | Deleted | StateChanged | ReadMoved | Registered | LoggedIn | AuthFailed | Closed
