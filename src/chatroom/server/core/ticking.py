"""The core's clock input: ``World.tick``, which the shell calls about once a second.

Everything that ends because time passed, rather than because a line arrived, is found
here: registration and ping timeouts, keep-alive PINGs, open multiline batches, the
nick-guard grace, timed bans and mutes, and answers the shell never gave. The time is
the world's injected clock, so tests move it (``FakeClock.advance``) instead of sleeping.

``tick`` is a method of ``World`` (world.py binds it), kept apart because it is the one
input that walks every session: its loop reads only what it must, straight from the
session's fields.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from chatroom.irc.message import format_line
from chatroom.server.core import accounts, sanctions, snotices
from chatroom.server.core.connections import close
from chatroom.server.core.multiline import expire as expire_batch

if TYPE_CHECKING:
    from chatroom.server.core.world import World


def tick(world: World) -> None:
    """About once a second: registration and ping timeouts, keep-alive PINGs."""
    now = world.clock()
    t = world.settings.timeouts
    invisible = 0
    for session in list(world.sessions.values()):
        if session.closed:
            continue
        # Read straight from the occasional state (None on nearly every session): the
        # properties would cost a call each, per session, every second.
        state = session.occasional
        if state is not None and state.multiline is not None:
            expire_batch(world, session, now)  # draft/multiline: FAIL BATCH TIMEOUT
        if not session.registered:
            if now - session.connected_at >= t.registration:
                close(world, session, "Registration timed out")
            continue
        ping_sent_at = None if state is None else state.ping_sent_at
        if ping_sent_at is not None:
            if now - ping_sent_at >= t.ping_timeout:
                close(world, session, f"Ping timeout: {int(now - ping_sent_at)} seconds")
        elif now - session.last_active >= t.ping_interval:
            session.ping_sent_at = now
            session.send(format_line(None, "PING", world.name))
        if "i" in session.modes and not session.closed and session is session.owner.conns[0]:
            invisible += 1  # a user once, however many devices it has
    world.census.invisible = invisible
    accounts.expire_nick_grace(world)
    sanctions.expire(world)
    snotices.release_held(world)
    world.answers.expire(now)
