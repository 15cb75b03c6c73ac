"""Renaming a session: shared by NICK, the registered-nick guard and services."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from chatroom.server.core.session import Session
    from chatroom.server.core.world import World


def change_nick(world: World, session: Session, new: str) -> None:
    """Rename a session and tell it and everyone who shares a room with it."""
    old_key = world.fold(session.nick)
    if world.nicks.get(old_key) is session:
        del world.nicks[old_key]
    world.nicks[world.fold(new)] = session
    if session.registered:
        recipients = world.peers(session)
        recipients.add(session)
        world.fanout(recipients, session.prefix, "NICK", new)
        world.remember_whowas(session)
    session.nick = new
