"""The nick registry, and renaming a user: shared by NICK, the registered-nick guard and services.

A nick belongs to a user, never to a device. The registry is the one place that says who
holds a nick; its rule is that every entry's key is the folded ``nick`` of its user, so
only ``claim``, ``release`` and ``rename`` write it, and ``rename`` is the one place a
held nick changes.
"""

from __future__ import annotations

from collections.abc import Callable, ItemsView, Iterator
from typing import TYPE_CHECKING

from chatroom.server.core import events
from chatroom.server.core.monitor import came_online, went_offline
from chatroom.server.core.users import User

if TYPE_CHECKING:
    from chatroom.server.core.context import Context
    from chatroom.server.core.session import Session


class NickRegistry:
    """Folded nick -> the user holding it (registered, or claiming it before registration).

    Lookups are one fold and one dict lookup, as cheap as the dict they replace: PRIVMSG
    to a nick asks ``find`` once per message."""

    __slots__ = ("_fold", "_holders")

    def __init__(self, fold: Callable[[str], str]) -> None:
        self._fold = fold
        self._holders: dict[str, User] = {}

    def find(self, nick: str) -> User | None:
        """The user holding ``nick`` (any case), if any."""
        return self._holders.get(self._fold(nick))

    def get(self, folded: str) -> User | None:
        """Like ``find``, for a nick the caller has folded already."""
        return self._holders.get(folded)

    def claim(self, user: User, nick: str) -> None:
        """``user`` holds ``nick`` (its current nick, or the one it is about to take)."""
        self._holders[self._key(nick)] = user

    def _key(self, nick: str) -> str:
        """The folded nick; the nick itself when folding changes nothing, so a lower-case
        nick is kept once, not twice (a key lives as long as the user holds the nick)."""
        key = self._fold(nick)
        return nick if key == nick else key

    def release(self, user: User) -> None:
        """``user`` no longer holds its nick (if it did: a device that asked for a nick
        held by someone else never held it)."""
        key = self._fold(user.nick)
        if self._holders.get(key) is user:
            del self._holders[key]

    def rename(self, user: User, new: str) -> None:
        """``user`` gives up its nick and takes ``new``."""
        self.release(user)
        self._holders[self._key(new)] = user
        user.nick = new

    def __iter__(self) -> Iterator[User]:
        return iter(self._holders.values())

    def __len__(self) -> int:
        return len(self._holders)

    def items(self) -> ItemsView[str, User]:
        return self._holders.items()


def change_nick(ctx: Context, who: Session | User, new: str) -> None:
    """Rename a user and tell it (every device) and everyone who shares a room with it."""
    user = who if isinstance(who, User) else who.owner
    old = user.nick
    if user.registered:
        recipients = ctx.peers(user)
        recipients.update(user.conns)
        events.nick(ctx, user, recipients, new)
        ctx.remember_whowas(user)
    ctx.nicks.rename(user, new)
    if user.registered and ctx.fold(old) != ctx.fold(new):
        went_offline(ctx, old)  # MONITOR: the old nick is free, the new one is taken
        came_online(ctx, user)
