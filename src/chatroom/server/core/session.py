"""One client connection as the core sees it: identity, capabilities and pending output.

A session never touches a socket. Output is appended to ``out`` as ready-made byte strings;
the first append marks the session ready so the shell can write everything queued for it in
one system call per event-loop pass (write coalescing).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from enum import IntFlag
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from chatroom.server.core.channel import Channel
    from chatroom.server.core.multiline import OpenBatch
    from chatroom.server.store.base import AccountMute


class TagProfile(IntFlag):
    """Which message tags a client has asked for; picks the shared byte variant in fan-out."""

    NONE = 0
    SERVER_TIME = 1
    MESSAGE_TAGS = 2
    ACCOUNT = 4


@dataclass(eq=False, slots=True)
class Session:
    """State of one connection. Identity (``eq=False``) so sessions can key dicts and sets."""

    id: int
    ip: str
    host: str
    secure: bool
    connected_at: float
    _ready: list[Session] = field(repr=False)

    nick: str = "*"
    user: str = ""
    realname: str = ""
    registered: bool = False
    closed: bool = False
    account: str | None = None
    certfp: str | None = None
    auth_pending: int = 0
    sasl: object | None = None  # the SASL exchange in progress (commands/sasl.py owns it)
    nick_deadline: float | None = None
    password: str | None = None
    cap_negotiating: bool = False
    cap_version: int = 0
    caps: set[str] = field(default_factory=set)
    tag_profile: int = 0  # TagProfile bits as a plain int: hashed and tested per recipient
    modes: set[str] = field(default_factory=set)
    # The operator role behind +o (core/opers.py sets both); None for everyone else.
    oper_role: str | None = None
    away: str | None = None
    # The account's server-wide mute, if any: one field so PRIVMSG checks it in O(1).
    muted: AccountMute | None = None
    channels: dict[str, Channel] = field(default_factory=dict)
    invited: set[str] = field(default_factory=set)
    last_active: float = 0.0
    last_message: float = 0.0
    ping_sent_at: float | None = None
    flood_tokens: float = 0.0
    flood_checked_at: float = 0.0
    out: list[bytes] = field(default_factory=list)
    capture: list[bytes] | None = None
    # The label of the labeled command running now; a command whose answer comes with a
    # later line (a draft/multiline batch answers at its closing BATCH) takes it.
    label: str | None = None
    # Replies in order: while one of this connection's commands waits (password check,
    # commit, history query), its later lines are held here and run once the answer came.
    waiting: int = 0  # continuations outstanding for this connection's commands
    # Made on first need (an empty deque costs ~600 bytes on every idle connection);
    # None in it stands for a line that was too long.
    held: deque[bytes | None] | None = None
    # The label of a waiting labeled command and what it has replied so far.
    held_label: tuple[str, list[bytes]] | None = None
    # IRCv3 draft/multiline: the batch this client has open (core/multiline.py owns it).
    multiline: OpenBatch | None = None
    # IRCv3 draft/metadata-2 (core/metadata.py): the keys this client subscribed to, and
    # a guest's own metadata (a logged-in user's belongs to the account, in the world).
    metadata_subs: set[str] | None = None
    metadata: dict[str, str] | None = None

    def send(self, data: bytes) -> None:
        """Queue one formatted line; the shell writes the queue out once per loop pass."""
        capture = self.capture
        if capture is not None:
            capture.append(data)
            return
        out = self.out
        if not out:
            self._ready.append(self)
        out.append(data)

    def take_output(self) -> list[bytes]:
        """Hand the queued lines to the shell and start a new queue."""
        out = self.out
        self.out = []
        return out

    @property
    def prefix(self) -> str:
        """The ``nick!user@host`` source used on messages this client originates."""
        return f"{self.nick}!{self.user}@{self.host}"

    def has(self, cap: str) -> bool:
        return cap in self.caps
