"""``chatroom admin rooms|room-drop|room-founder``: registered rooms (ChanServ) from the shell.

The operator's way out when a founder is gone or a room must be taken back, whether or
not the server runs. As in ``admin.py``, each change commits with its audit entry. A
running server reloads within seconds (``chanreg.restore``): a dropped room loses its
registration there too, and founder rights move at once. Both changes are written so the
server's own saves cannot undo them (``UpdateChannel`` keeps the stored founder and never
re-creates a room).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable

from chatroom.admin import commit_with_audit
from chatroom.irc.masks import is_channel_name
from chatroom.server.store.base import (
    DeleteChannel,
    RegisteredChannel,
    SetChannelFounder,
    Store,
)

__all__ = ["drop_room", "list_rooms", "set_room_founder"]

Fold = Callable[[str], str]


def list_rooms(store: Store) -> list[RegisteredChannel]:
    """Every registered room, ordered by its folded name."""
    channels = store.load().channels
    return [channels[key] for key in sorted(channels)]


def drop_room(
    store: Store, name: str, fold: Fold, *, clock: Callable[[], float] = time.time
) -> RegisteredChannel:
    """Unregister a room (as ChanServ DROP); returns the registration that was dropped."""
    room = _registered(store, name, fold)
    commit_with_audit(
        store, DeleteChannel(room.key), clock(), "channel.drop", room.name, room.founder
    )
    return room


def set_room_founder(
    store: Store,
    name: str,
    account_name: str,
    fold: Fold,
    *,
    clock: Callable[[], float] = time.time,
) -> tuple[RegisteredChannel, str | None]:
    """Make ``account_name`` (an existing account) the founder of a registered room.

    Returns the room with its new founder and the founder it had, or None for that when
    the account already founds the room (then nothing is written, not even to the log).
    """
    room = _registered(store, name, fold)
    account = store.load().accounts.get(fold(account_name))
    if account is None:
        raise ValueError(f"no account named {account_name!r}; see 'chatroom admin list'")
    if fold(room.founder) == account.key:
        return room, None
    change = SetChannelFounder(room.key, account.name)
    target = f"{room.name} {account.name}"
    commit_with_audit(store, change, clock(), "channel.founder", target, f"was {room.founder}")
    return dataclasses.replace(room, founder=account.name), room.founder


def _registered(store: Store, name: str, fold: Fold) -> RegisteredChannel:
    if not is_channel_name(name):
        raise ValueError(f"{name!r} is not a room name (rooms start with '#')")
    room = store.load().channels.get(fold(name))
    if room is None:
        raise ValueError(f"{name} is not a registered room; see 'chatroom admin rooms'")
    return room
