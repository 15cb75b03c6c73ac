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

from collections.abc import Set
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

# Most users never get a user mode or an invitation: they share this empty set until
# their first one (an empty ``set`` costs 216 bytes on every idle connection).
_NONE: frozenset[str] = frozenset()

if TYPE_CHECKING:
    from chatroom.server.core.channel import Channel
    from chatroom.server.core.session import Session
    from chatroom.server.store.base import AccountMute


@dataclass(eq=False, slots=True)
class User:
    """Identity, rooms and presence of one person. Identity (``eq=False``): users key the
    member dicts of rooms and the nick registry."""

    host: str
    conns: list[Session] = field(default_factory=list)
    nick: str = "*"
    user: str = ""
    realname: str = ""
    registered: bool = False
    account: str | None = None
    # When a registered nick is taken back unless its owner identifies (core/accounts.py).
    nick_deadline: float | None = None
    modes: Set[str] = _NONE  # change with ``set_mode``
    # The operator role behind +o (core/opers.py sets both); None for everyone else.
    oper_role: str | None = None
    # What others see: set only while every connection is away (or none is left).
    away: str | None = None
    # The account's server-wide mute, if any: one field so PRIVMSG checks it in O(1).
    muted: AccountMute | None = None
    channels: dict[str, Channel] = field(default_factory=dict)
    invited: Set[str] = _NONE  # folded room names; change with ``invite``/``uninvite``
    last_message: float = 0.0
    signed_on: float = 0.0  # when the user registered (WHOIS signon time)
    # A guest's own IRCv3 metadata (a logged-in user's belongs to the account).
    metadata: dict[str, str] | None = None
    # Always-on: the user stays (away, in its rooms) when its last connection closes.
    always_on: bool = False
    # Since when the user has had no connection (what it missed starts there); None
    # while it has one.
    missing_since: float | None = None

    def set_mode(self, letter: str, on: bool) -> None:
        if on:
            self.modes = self.modes | {letter}
        elif letter in self.modes:
            self.modes = (self.modes - {letter}) or _NONE

    def invite(self, room: str) -> None:
        self.invited = self.invited | {room}

    def uninvite(self, room: str) -> None:
        if room in self.invited:
            self.invited = (self.invited - {room}) or _NONE

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
