"""A user is what others see; a connection (``Session``) is one socket attached to it.

A guest's user has exactly one connection. A user logged in to an account may have several
(multiclient: a laptop and a phone share one nick and the same rooms), or none at all while
it is always-on (it stays in its rooms, away, and what it misses is replayed or served as
history when a connection attaches again). Rooms, the nick registry, WHOIS and everything
another user can observe deal in users; only the wire deals in connections.

"Deliver to a user" (``User.send``, a fan-out over ``User.conns``) is therefore separate
from "queue bytes on a socket" (``Session.send``): a user whose connections live elsewhere
(another node, later) is just a user whose ``conns`` are not here.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Set
from dataclasses import dataclass
from typing import TYPE_CHECKING, NoReturn

from chatroom.server.core.occasional import OccasionalUserFields, UserState

# Most users never get a user mode: they share this empty set until
# their first one (an empty ``set`` costs 216 bytes on every idle connection).
_NONE: frozenset[str] = frozenset()

if TYPE_CHECKING:
    from chatroom.server.core.channel import Channel
    from chatroom.server.core.session import Session


class NoRooms(Mapping[str, "Channel"]):
    """The rooms of a user in none: one shared, read-only, empty map.

    A user's own ``dict`` is made when it enters its first room and dropped when it
    leaves its last (``User.enter_room``/``leave_room``): an empty dict is 64 bytes on
    every idle connection, and one that held rooms keeps its table after emptying.
    """

    __slots__ = ()

    def __getitem__(self, key: str) -> NoReturn:
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0

    def __hash__(self) -> int:  # hashable, so that it may be a dataclass default
        return id(self)

    def __reduce__(self) -> str:
        return "NO_ROOMS"  # the reader's own shared instance (a cluster snapshot)


NO_ROOMS = NoRooms()


@dataclass(eq=False, slots=True)
class User(OccasionalUserFields):
    """Identity, rooms and presence of one person. Identity (``eq=False``): users key the
    member dicts of rooms and the nick registry."""

    host: str
    # Its connections: a tuple, replaced when a device comes or goes (rare), because a
    # one-item list costs 80 bytes on every connection where a tuple costs 48.
    conns: tuple[Session, ...] = ()
    nick: str = "*"
    user: str = ""
    realname: str = ""
    registered: bool = False
    account: str | None = None
    modes: Set[str] = _NONE  # change with ``set_mode``
    # What others see: set only while every connection is away (or none is left).
    away: str | None = None
    # Folded room name -> room; change with ``enter_room``/``leave_room``.
    channels: Mapping[str, Channel] = NO_ROOMS
    last_message: float = 0.0
    signed_on: float = 0.0  # when the user registered (WHOIS signon time)
    # Always-on: the user stays (away, in its rooms) when its last connection closes.
    always_on: bool = False
    # What only some users have (core/occasional.py): nick_deadline, oper_role, muted,
    # invited, metadata, missing_since.
    occasional: UserState | None = None

    def set_mode(self, letter: str, on: bool) -> None:
        if on:
            self.modes = self.modes | {letter}
        elif letter in self.modes:
            self.modes = (self.modes - {letter}) or _NONE

    def invite(self, room: str) -> None:
        self.invited = self.invited | {room}

    def uninvite(self, room: str) -> None:
        if room in self.invited:
            self.invited = self.invited - {room}

    def enter_room(self, key: str, channel: Channel) -> None:
        rooms = self.channels
        if isinstance(rooms, dict):
            rooms[key] = channel
        else:
            self.channels = {key: channel}

    def leave_room(self, key: str) -> None:
        rooms = self.channels
        if isinstance(rooms, dict):
            rooms.pop(key, None)
            if not rooms:
                self.channels = NO_ROOMS

    def send(self, data: bytes) -> None:
        """Queue one line, the same bytes, on every connection of the user."""
        for conn in self.conns:
            conn.send(data)

    @property
    def prefix(self) -> str:
        """The ``nick!user@host`` source used on messages this user originates."""
        return f"{self.nick}!{self.user}@{self.host}"


@dataclass(frozen=True, slots=True)
class WhowasEntry:
    """The identity a nick had when it quit or was changed (WHOWAS)."""

    nick: str
    user: str
    host: str
    realname: str
    account: str | None
    left_at: float
