"""A room: its members with their status, topic, modes and mask lists.

Member status is a string of prefix-mode letters ("o", "v", "ov"), highest first, so
NAMES and WHO can render "@" or "@+" (multi-prefix) without lookups.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from chatroom.server.core.session import Session
from chatroom.server.core.users import User
from chatroom.server.store.base import RegisteredChannel

PREFIX_ORDER = "ov"
PREFIX_SYMBOLS = {"o": "@", "v": "+"}
LIST_MODES = "beIq"


@dataclass(slots=True)
class ListEntry:
    """One +b/+e/+I/+q entry; ``expires_at`` is for timed bans (None: until removed)."""

    mask: str
    set_by: str
    set_at: float
    expires_at: float | None = None


@dataclass(eq=False, slots=True)
class Channel:
    name: str
    created_at: float
    permanent: bool = False
    # Members are users (with their status letters); ``sessions`` holds their attached
    # connections, kept in step by ``add``/``remove``/``attach``/``detach``, so that the
    # fan-out walks one flat collection however many devices a member has. It is for
    # delivery only, so it holds only the connections whose sockets this process has:
    # on a cluster node, another node's connections are members' but not the room's
    # audience here (each node walks its own share of a room, not the whole room).
    members: dict[User, str] = field(default_factory=dict)
    sessions: dict[Session, None] = field(default_factory=dict)
    topic: str = ""
    topic_set_by: str = ""
    topic_set_at: float = 0.0
    flags: set[str] = field(default_factory=lambda: {"n", "t"})
    key: str | None = None
    limit: int | None = None
    lists: dict[str, list[ListEntry]] = field(
        default_factory=lambda: {"b": [], "e": [], "I": [], "q": []}
    )
    # Set while the room is registered (ChanServ): founder and ops by account; the rest
    # of the record is refreshed from this object whenever it is saved (core/chanreg.py).
    registration: RegisteredChannel | None = None
    # IRCv3 draft/metadata-2 keys set on the room by its ops; kept in memory only.
    metadata: dict[str, str] | None = None
    # When the room was last renamed (RENAME), for the cooldown between renames.
    renamed_at: float = 0.0
    # KNOCK: who knocked lately (account or address) and when; None until someone does.
    knocks: dict[str, float] | None = field(default=None, repr=False)
    # ``sessions`` grouped by tag profile (``audience``), made on the first message after
    # a change: the room-message fan-out formats each group's line once and walks the
    # group without looking up a variant per member. None: to be made again.
    by_profile: dict[int, tuple[Session, ...]] | None = field(default=None, repr=False)

    @property
    def secret(self) -> bool:
        return "s" in self.flags

    @property
    def symbol(self) -> str:
        """The RPL_NAMREPLY channel symbol: "@" secret, "=" public."""
        return "@" if "s" in self.flags else "="

    def find_entry(self, letter: str, mask: str, fold: Callable[[str], str]) -> ListEntry | None:
        """The entry of list ``letter`` equal to ``mask`` under ``fold``, if any."""
        folded = fold(mask)
        for entry in self.lists[letter]:
            if fold(entry.mask) == folded:
                return entry
        return None

    def add(self, user: User, status: str) -> None:
        """Make ``user`` a member, with every connection it has."""
        self.members[user] = status
        for conn in user.conns:
            if conn.held_here:
                self.sessions[conn] = None
        self.by_profile = None

    def remove(self, user: User) -> None:
        self.members.pop(user, None)
        for conn in user.conns:
            self.sessions.pop(conn, None)
        self.by_profile = None

    def attach(self, conn: Session) -> None:
        """A connection joined a member user (multiclient, always-on): it hears the room."""
        if conn.held_here:
            self.sessions[conn] = None
            self.by_profile = None

    def detach(self, conn: Session) -> None:
        self.sessions.pop(conn, None)
        self.by_profile = None

    def audience(self) -> dict[int, tuple[Session, ...]]:
        """The connections that hear the room, grouped by tag profile (in join order
        within a group). Kept until the audience or a member's profile changes."""
        groups = self.by_profile
        if groups is None:
            lists: dict[int, list[Session]] = {}
            for conn in self.sessions:
                lists.setdefault(conn.tag_profile, []).append(conn)
            groups = self.by_profile = {profile: tuple(g) for profile, g in lists.items()}
        return groups

    def status(self, user: User) -> str:
        return self.members.get(user, "")

    def is_op(self, user: User) -> bool:
        return "o" in self.members.get(user, "")

    def can_speak_moderated(self, user: User) -> bool:
        return bool(self.members.get(user, ""))

    def set_status(self, user: User, letter: str, on: bool) -> None:
        current = self.members[user]
        letters = set(current)
        if on:
            letters.add(letter)
        else:
            letters.discard(letter)
        self.members[user] = "".join(c for c in PREFIX_ORDER if c in letters)

    def prefix_of(self, user: User, all_prefixes: bool) -> str:
        """ "@" for an op, "@+" with multi-prefix, "" for a plain member."""
        status = self.members.get(user, "")
        if not status:
            return ""
        if all_prefixes:
            return "".join(PREFIX_SYMBOLS[c] for c in status)
        return PREFIX_SYMBOLS[status[0]]

    def mode_string(self, show_key: bool) -> tuple[str, list[str]]:
        """The channel's current modes as for RPL_CHANNELMODEIS."""
        letters = "".join(sorted(self.flags))
        args: list[str] = []
        if self.key is not None:
            letters += "k"
            args.append(self.key if show_key else "*")
        if self.limit is not None:
            letters += "l"
            args.append(str(self.limit))
        return "+" + letters, args
