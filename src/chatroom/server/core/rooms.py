"""The rooms that exist now, by folded name: the one owner of which room is called what.

Rules it keeps: every key is the folded ``name`` of its room (``rename`` is the only place
a room's name changes), and a room with no members disappears unless it is permanent
(``server.channels``, or registered with ChanServ): ``discard_if_empty`` is asked each
time a room may have become empty.
"""

from __future__ import annotations

from collections.abc import Callable, ItemsView, Iterator, ValuesView

from chatroom.server.core.channel import Channel
from chatroom.server.core.users import User


class Rooms:
    """Folded room name -> ``Channel``. ``find`` is one fold and one dict lookup (PRIVMSG
    asks it once per message), ``get`` just the lookup, for a name already folded."""

    __slots__ = ("_fold", "_rooms", "invitees", "redirects", "reserved")

    def __init__(self, fold: Callable[[str], str]) -> None:
        self._fold = fold
        self._rooms: dict[str, Channel] = {}
        # The old names of renamed rooms: old folded name -> (new name, until when a JOIN
        # of the old name leads there). Kept by core/redirects.py.
        self.redirects: dict[str, tuple[str, float]] = {}
        # Who holds an invitation (INVITE) to which room, by folded name: an invitation
        # ends with its room, so that a room of the same name made later by someone else
        # (with its own +i, +k, +l and bans) does not let the invitee in, and one client
        # cycling through room names cannot pile invitations up on another.
        self.invitees: dict[str, set[User]] = {}
        # Names a registered room is being renamed to, while the rename is saved: folded
        # new name -> the room. Nobody may make or rename another room to them meanwhile.
        self.reserved: dict[str, Channel] = {}

    def find(self, name: str) -> Channel | None:
        return self._rooms.get(self._fold(name))

    def get(self, folded: str) -> Channel | None:
        return self._rooms.get(folded)

    def create(self, name: str, now: float, *, permanent: bool = False) -> Channel:
        """A new room called ``name`` (the caller has checked that none has the name)."""
        channel = self._rooms[self._fold(name)] = Channel(name, now, permanent=permanent)
        return channel

    def discard_if_empty(self, channel: Channel) -> None:
        """Forget ``channel`` if nobody is in it and it is not permanent."""
        if not channel.members and not channel.permanent:
            key = self._fold(channel.name)
            if self._rooms.get(key) is channel:
                del self._rooms[key]
                for user in self.invitees.pop(key, ()):
                    user.uninvite(key)

    def invite(self, user: User, key: str) -> None:
        """``user`` may join room ``key`` (folded) past its modes and bans, once."""
        user.invite(key)
        self.invitees.setdefault(key, set()).add(user)

    def uninvite(self, user: User, key: str) -> None:
        """``user``'s invitation to room ``key`` is used, moved or gone with the user."""
        user.uninvite(key)
        invitees = self.invitees.get(key)
        if invitees is not None:
            invitees.discard(user)
            if not invitees:
                del self.invitees[key]

    def rename(self, channel: Channel, new: str) -> None:
        """The room is now called ``new`` (the caller has checked the name is free)."""
        old_key, new_key = self._fold(channel.name), self._fold(new)
        channel.name = new
        if new_key != old_key:
            self._rooms[new_key] = self._rooms.pop(old_key)

    def __iter__(self) -> Iterator[Channel]:
        return iter(self._rooms.values())

    def __len__(self) -> int:
        return len(self._rooms)

    def values(self) -> ValuesView[Channel]:
        return self._rooms.values()

    def items(self) -> ItemsView[str, Channel]:
        return self._rooms.items()
