"""Renaming a session: shared by NICK, the registered-nick guard and services."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chatroom.server.core import events
from chatroom.server.core.monitor import came_online, went_offline
from chatroom.server.core.users import User

if TYPE_CHECKING:
    from chatroom.server.core.session import Session
    from chatroom.server.core.world import World


def change_nick(world: World, who: Session | User, new: str) -> None:
    """Rename a user and tell it (every device) and everyone who shares a room with it."""
    session = who if isinstance(who, User) else who.owner
    old_key = world.fold(session.nick)
    if world.nicks.get(old_key) is session:
        del world.nicks[old_key]
    world.nicks[world.fold(new)] = session
    old = session.nick
    if session.registered:
        recipients = world.peers(session)
        recipients.update(session.conns)
        events.nick(world, session, recipients, new)
        world.remember_whowas(session)
    session.nick = new
    if session.registered and world.fold(old) != world.fold(new):
        went_offline(world, old)  # MONITOR: the old nick is free, the new one is taken
        came_online(world, session)
