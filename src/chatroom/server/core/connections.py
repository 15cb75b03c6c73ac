"""A connection's life in the core: accepted, closed, hung up, and the user behind it
leaving the network.

These are ``World``'s methods (world.py binds them: ``World.connect``, ``World.close``,
...), kept here because they are the core's cold path, once per connection and not per
line, and because their order is the hard part: who is told (the room-mates' QUIT, the
operators' notice, MONITOR), what is kept (an account's rooms, an always-on user), what
is freed (the nick, the rooms, the address's count) and, last, the ``Close`` effect for
the shell. A function here takes the world as its first argument, as a method takes
``self``, and may read its private fields as its methods do.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from chatroom.irc.message import format_line
from chatroom.server.core import (
    accounts,
    admission,
    events,
    presence,
    replay,
    sanctions,
    snotices,
)
from chatroom.server.core.effects import Close
from chatroom.server.core.monitor import went_offline
from chatroom.server.core.session import Session
from chatroom.server.core.users import User, WhowasEntry

if TYPE_CHECKING:
    from chatroom.server.core.channel import Channel
    from chatroom.server.core.world import World


def connect(
    world: World,
    ip: str,
    secure: bool = False,
    certfp: str | None = None,
    occupancy: admission.Occupancy | None = None,
) -> Session:
    """A connection was accepted; the returned session is the shell's handle for it.

    ``occupancy``: the sockets held besides sessions, if not this process's own (a
    cluster node applying another node's connect passes ``admission.NOBODY_HELD``)."""
    now = world.clock()
    session = Session(
        id=next(world._ids),
        # One string per address, not per connection: the connections that share an
        # address (a NAT, a web gateway, a bouncer) share it for as long as one stays.
        ip=sys.intern(ip),
        secure=secure,
        connected_at=now,
        _ready=world.ready,
        last_active=now,
        flood_tokens=_full_bucket(world),
        flood_checked_at=now,
    )
    session.certfp = certfp
    world.sessions[session.id] = session
    world.stats.connections_opened += 1
    refusal = admission.connection_opened(world, ip, now, occupancy)
    if refusal is not None:
        world.stats.connections_refused += 1
        close(world, session, refusal)
    elif not sanctions.check_session(world, session):
        world.stats.connections_refused += 1  # a server ban on the address or network
    return session


def _full_bucket(world: World) -> float:
    """``flood_burst`` as a float, one object for every new session (24 bytes each
    otherwise, kept until the session's first flood check, or for good with flood
    control off)."""
    burst = world.settings.limits.flood_burst
    full = world._full_bucket_value
    if full != burst:
        full = world._full_bucket_value = float(burst)
    return full


def disconnect(world: World, session: Session, reason: str = "Connection closed") -> None:
    """The connection is gone (reset, EOF, write error); free its nickname and rooms.

    If it hung up while one of its commands waits, the lines it sent before that still
    run (a bot that logs in, speaks and closes at once): ``Answers`` finishes the
    disconnect once they have.
    """
    if session.waiting and not session.closed:
        if session.hangup is None:  # the first reason is the one that happened
            session.hangup = reason
        return
    if not session.closed:
        _remove(world, session, reason)
    if world.sessions.pop(session.id, None) is not None:
        admission.connection_closed(world, session.ip)


def close(world: World, session: Session, reason: str) -> None:
    """Disconnect ``session``: tell it why, tell its rooms, then ask the shell to close."""
    if session.closed:
        return
    session.send(closing_link(session.host, reason))
    _remove(world, session, reason)


def close_all(world: World, reason: str) -> None:
    """Shutdown: tell every connection why and close it, but nobody that the others quit.

    They all go at once, so a QUIT per room-mate would only fill every room with
    "left (Server shutting down)" lines above the one line that matters (a client shows
    a "reconnecting" banner for it). Leaving the rooms first leaves no one to tell. The
    rooms' history still gets each user's QUIT (but an always-on user's, who is back in
    its rooms after the restart), so a reader of it never sees a user join twice.
    """
    sessions = [session for session in world.sessions.values() if not session.closed]
    users = {session.owner for session in sessions}
    users.update(world.accounts.online_users())  # always-on users with no connection
    for user in users:
        if user.registered and user.account is not None:
            presence.keep(world, user)  # rooms to rejoin (always-on: to be in) after
    world.closing = True  # what was just kept stays kept while everyone leaves
    for user in users:
        if user.registered and not user.always_on:  # always-on users are back after it
            events.quit_unannounced(world, user, reason)
    for session in sessions:
        for channel in list(session.channels.values()):
            leave_channel(world, session, channel)
    for session in sessions:
        close(world, session, reason)


def close_user(world: World, user: User, reason: str, *, for_good: bool = True) -> None:
    """End a user with every connection it has (KILL, a ban): always-on or not, and
    for good: it is not brought back after a restart nor rejoined to its rooms. Not
    ``for_good`` (always-on turned off with no device), it leaves as its last device
    would have: its rooms are kept for the account's next login."""
    user.always_on = False
    if not user.conns:
        if user.registered:
            _quit_user(world, user, reason)
    else:
        for conn in list(user.conns):
            close(world, conn, reason)
    if for_good and user.account is not None:
        presence.forget(world, world.fold(user.account))


def _remove(world: World, session: Session, reason: str) -> None:
    session.closed = True
    if session.registered:
        world.census.devices -= 1
        snotices.exited(world, session, reason)
    world.monitor.clear(session)
    replay.connection_closed(world, session)
    if presence.stays(world, session):
        presence.detach(world, session)  # another device, or always-on: no QUIT
        if not session.owner.conns and session.owner.nick_deadline is not None:
            accounts.take_back_nick(world, session.owner)  # nobody left to identify
    elif session.registered:
        _quit_user(world, session.owner, reason)
    else:
        _release_nick(world, session.owner)
    world.effects.append(Close(session.id, reason))


def _quit_user(world: World, user: User, reason: str) -> None:
    """The user leaves the network: QUIT to its rooms, its nick and rooms freed."""
    went_offline(world, user.nick)
    world.census.registered -= 1
    if "o" in user.modes:
        world.census.opers -= 1
    events.quit(world, user, reason)
    world.snotices.forget(user)
    remember_whowas(world, user)
    presence.keep(world, user)  # an account's rooms, rejoined at its next login
    for channel in list(user.channels.values()):
        leave_channel(world, user, channel)
    for key in list(user.invited):
        world.rooms.uninvite(user, key)
    _release_nick(world, user)
    user.registered = False


def _release_nick(world: World, user: User) -> None:
    world.nicks.release(user)
    if user.account is not None:
        world.accounts.set_offline(world.fold(user.account), user)


def remember_whowas(world: World, session: Session | User) -> None:
    """Record the identity a nick had, for WHOWAS, when it quits or is changed."""
    world.whowas.appendleft(
        WhowasEntry(
            session.nick,
            session.user,
            session.host,
            session.realname,
            session.account,
            world.clock(),
        )
    )


def leave_channel(world: World, who: Session | User, channel: Channel) -> None:
    """Drop membership both ways; an empty non-permanent room disappears."""
    user = who.owner if isinstance(who, Session) else who
    key = world.fold(channel.name)
    channel.remove(user)
    user.leave_room(key)
    for conn in user.conns:
        replay.left_room(world, conn, key)  # a later replay starts after what it got
    world.rooms.discard_if_empty(channel)


def closing_link(host: str, reason: str) -> bytes:
    """The ERROR line a connection gets before the server closes it."""
    return format_line(None, "ERROR", f"Closing Link: {host} ({reason})")
