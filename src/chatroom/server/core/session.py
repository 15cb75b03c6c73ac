"""One client connection as the core sees it: identity, capabilities and pending output.

A session never touches a socket. Output is appended to ``out`` as ready-made byte strings;
the first append marks the session ready so the shell can write everything queued for it in
one system call per event-loop pass (write coalescing).
"""

from __future__ import annotations

from collections.abc import Mapping, Set
from dataclasses import dataclass, field
from enum import IntFlag
from typing import TYPE_CHECKING

from chatroom.server.core.occasional import OccasionalSessionFields, SessionState
from chatroom.server.core.users import User

if TYPE_CHECKING:
    from chatroom.server.core.channel import Channel
    from chatroom.server.store.base import AccountMute


class TagProfile(IntFlag):
    """Which message tags a client has asked for; picks the shared byte variant in fan-out."""

    NONE = 0
    SERVER_TIME = 1
    MESSAGE_TAGS = 2
    ACCOUNT = 4


class Elsewhere(list[bytes]):
    """The output queue of a session whose socket another cluster node holds.

    Every node computes every line (server/cluster/replica.py), but only the node with the
    socket writes it; here the lines for everyone else's sockets are dropped as they are
    made. Never empty in the ``if not out`` sense, so such a session is never marked ready
    and the shell's flush never visits it; ``append`` keeps nothing.
    """

    __slots__ = ()

    def __bool__(self) -> bool:
        return True

    def append(self, item: bytes, /) -> None:
        return None


# The one sink all such sessions share.
ELSEWHERE = Elsewhere()


class _NoOutput(list[bytes]):
    """The output queue of a session with nothing queued: one shared empty list, so an
    idle connection holds no list of its own (56 bytes each). The first line queued
    replaces it with a real list (``Session.send``, ``World.fanout``); appending to it
    would be a bug that shares lines between sessions, so it refuses."""

    __slots__ = ()

    def append(self, item: bytes, /) -> None:
        raise TypeError("NO_OUTPUT is shared: queue a line by replacing it with a list")


NO_OUTPUT = _NoOutput()

NO_CAPS: frozenset[str] = frozenset()


@dataclass(eq=False, slots=True)
class Session(OccasionalSessionFields):
    """State of one connection. Identity (``eq=False``) so sessions can key dicts and sets."""

    id: int
    ip: str
    secure: bool
    connected_at: float
    _ready: list[Session] = field(repr=False)

    closed: bool = False
    # What a connection has only now and then (core/occasional.py): its certificate,
    # PASS, SASL, CAP negotiation, AWAY, labels, multiline batch, metadata subscriptions,
    # the keep-alive PING awaiting its PONG, replies in order (``waiting``, ``held``).
    occasional: SessionState | None = None
    cap_version: int = 0
    # Replaced, never changed in place (CAP REQ is rare); a client that asks for none
    # shares one empty frozenset instead of an empty ``set`` (216 bytes) of its own.
    caps: frozenset[str] = NO_CAPS
    tag_profile: int = 0  # TagProfile bits as a plain int: hashed and tested per recipient
    last_active: float = 0.0
    flood_tokens: float = 0.0
    flood_checked_at: float = 0.0
    # A list of its own once a line is queued (``default_factory``: a dataclass refuses a
    # list as a plain default, though this one is never changed).
    out: list[bytes] = field(default_factory=lambda: NO_OUTPUT)
    capture: list[bytes] | None = None
    # The user this connection is attached to: its own from the start, or, once logged in
    # to an account whose user is online (multiclient), that one (core/presence.py).
    owner: User = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.owner = User(self.host, (self,))

    @property
    def host(self) -> str:
        """The connection's host: its address, made safe as an IRC parameter ("::1" would
        read as a trailing one). Computed, not kept: one slot less on every session."""
        ip = self.ip
        return "0" + ip if ip.startswith(":") else ip

    def send(self, data: bytes) -> None:
        """Queue one formatted line; the shell writes the queue out once per loop pass."""
        capture = self.capture
        if capture is not None:
            capture.append(data)
            return
        out = self.out
        if out:
            out.append(data)
        else:
            self._ready.append(self)
            self.out = [data]

    @property
    def held_here(self) -> bool:
        """Whether this process holds the socket: false for a connection that another
        cluster node holds, whose lines this node never writes (``ELSEWHERE``)."""
        return self.out is not ELSEWHERE

    def take_output(self) -> list[bytes]:
        """Hand the queued lines to the shell and start a new queue."""
        out = self.out
        self.out = NO_OUTPUT
        return out

    @property
    def prefix(self) -> str:
        """The ``nick!user@host`` source used on messages this client originates."""
        return self.owner.prefix

    def has(self, cap: str) -> bool:
        return cap in self.caps

    # What the user is, seen through one of its connections: handlers answer "the
    # requester's nick" or "the requester's rooms" without caring which device asked.

    @property
    def nick(self) -> str:
        return self.owner.nick

    @nick.setter
    def nick(self, value: str) -> None:
        self.owner.nick = value

    @property
    def user(self) -> str:
        return self.owner.user

    @user.setter
    def user(self, value: str) -> None:
        self.owner.user = value

    @property
    def realname(self) -> str:
        return self.owner.realname

    @realname.setter
    def realname(self, value: str) -> None:
        self.owner.realname = value

    @property
    def registered(self) -> bool:
        return self.owner.registered

    @registered.setter
    def registered(self, value: bool) -> None:
        self.owner.registered = value

    @property
    def account(self) -> str | None:
        return self.owner.account

    @account.setter
    def account(self, value: str | None) -> None:
        self.owner.account = value

    @property
    def nick_deadline(self) -> float | None:
        return self.owner.nick_deadline

    @nick_deadline.setter
    def nick_deadline(self, value: float | None) -> None:
        self.owner.nick_deadline = value

    @property
    def modes(self) -> Set[str]:
        return self.owner.modes

    @property
    def oper_role(self) -> str | None:
        return self.owner.oper_role

    @oper_role.setter
    def oper_role(self, value: str | None) -> None:
        self.owner.oper_role = value

    @property
    def away(self) -> str | None:
        return self.owner.away

    @property
    def muted(self) -> AccountMute | None:
        return self.owner.muted

    @muted.setter
    def muted(self, value: AccountMute | None) -> None:
        self.owner.muted = value

    @property
    def channels(self) -> Mapping[str, Channel]:
        return self.owner.channels

    @property
    def invited(self) -> Set[str]:
        return self.owner.invited

    @property
    def last_message(self) -> float:
        return self.owner.last_message

    @last_message.setter
    def last_message(self, value: float) -> None:
        self.owner.last_message = value

    @property
    def metadata(self) -> dict[str, str] | None:
        return self.owner.metadata

    @metadata.setter
    def metadata(self, value: dict[str, str] | None) -> None:
        self.owner.metadata = value
