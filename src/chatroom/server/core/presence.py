"""One person, many devices: attaching connections to users, always-on, rejoining rooms.

Rules (docs/architecture.md, "Users and connections"):
- a connection that finishes registration logged in to an account whose user is online,
  asking for that user's nick, attaches to that user (multiclient, unless the server or
  the account turned it off): it gets the JOIN/topic/NAMES burst of every room the user
  is in, and nobody else sees anything;
- a connection that closes while its user has others just detaches; the user quits only
  with its last connection, unless it is always-on: then it stays in its rooms, away, with
  its nick, and its presence is saved so that it survives a restart;
- whenever an account's last connection leaves, what it was in (``Presence``) is kept:
  its next first connection rejoins those rooms and gets what it missed (private
  messages, and the rooms' lines for an always-on user) replayed if it cannot ask for
  history itself;
- AWAY is per connection; others see the user away only when every connection is (or
  none is left).
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from chatroom.server.core import chanreg, opers, readmarkers
from chatroom.server.core.bans import Who
from chatroom.server.core.hostnames import change_host
from chatroom.server.core.monitor import interested
from chatroom.server.core.roomviews import NO_IMPLICIT_NAMES, send_names, send_topic
from chatroom.server.core.users import User
from chatroom.server.store.base import (
    Change,
    DeletePresence,
    Presence,
    PutAccountOption,
    PutPresence,
)

if TYPE_CHECKING:
    from chatroom.server.core.context import Context
    from chatroom.server.core.session import Session
    from chatroom.server.core.world import World

MULTICLIENT = "multiclient"
ALWAYS_ON = "always-on"
OPTIONS = (MULTICLIENT, ALWAYS_ON)
# What others see of an always-on user whose last connection left without an AWAY.
DISCONNECTED_AWAY = "Not connected"
# An account flag saved with the presence of a user that had a device then: if the server
# dies before its last device leaves, the user saw every line until then, and what it
# missed starts when the server starts again, not when its presence was last saved.
CONNECTED = "connected"
# The host of an always-on user brought back by a restart, until its first device attaches.
RESTORED_HOST = "always-on.invalid"
# An account option saved with the presence: the host an operator gave the user
# (CHGHOST), which a restart brings back instead of ``RESTORED_HOST``.
VHOST = "vhost"


# ----------------------------------------------------------------------------- options


def option(ctx: Context, account_key: str, name: str) -> bool:
    """The account's choice for ``name`` ("multiclient", "always-on"), or the server's."""
    chosen = ctx.accounts.option(account_key, name)
    accounts = ctx.settings.accounts
    if name == MULTICLIENT:
        if not accounts.multiclient:
            return False
        return chosen != "off"
    if accounts.always_on == "disabled":
        return False
    if accounts.always_on == "opt-out":
        return chosen != "off"
    return chosen == "on"


def set_option(ctx: Context, account_key: str, name: str, on: bool) -> PutAccountOption:
    """Record the account's choice in memory; the caller persists the returned change."""
    value = "on" if on else "off"
    ctx.accounts.choose(account_key, name, value)
    user = ctx.accounts.online(account_key)
    if name == ALWAYS_ON and user is not None:
        user.always_on = option(ctx, account_key, ALWAYS_ON)
        if not user.always_on and not user.conns:
            # Turned off from another user of the account (its own user has no device):
            # nothing keeps it any more, so it leaves now, as its last device would have.
            ctx.close_user(user, "Always-on turned off", for_good=False)
        else:
            note_change(ctx, user)  # its rooms, for after a crash
    return PutAccountOption(account_key, name, value)


# ----------------------------------------------------------------------------- attaching


def attachable(ctx: Context, session: Session) -> User | None:
    """At registration: the online user of the session's account to attach to, if any.

    As in Ergo, the device must ask for the user's nick (clients connect with the nick
    they always use): one that asks for another nick is a separate user of the account,
    e.g. a bot or a second identity that logged in to it."""
    if session.account is None:
        return None
    key = ctx.fold(session.account)
    # The user holding the nick, if it is logged in to the same account: not only the
    # account's first user (``accounts.online``), which may have left or be renamed
    # while another user of the account (that bot, that second identity) holds it.
    user = ctx.nicks.find(session.nick)
    if user is None or user is session.owner or not user.registered or user.account is None:
        return None
    if ctx.fold(user.account) != key:
        return None
    # Multiclient off means one device at a time: an always-on user with none takes one.
    return user if option(ctx, key, MULTICLIENT) or not user.conns else None


def attach(ctx: Context, session: Session, user: User) -> float | None:
    """Make ``session`` a device of ``user``; returns since when the user had been missing
    lines (it had no connection), else None. The caller sends the welcome and ``burst``."""
    ctx.nicks.release(session.owner)  # a nick the device claimed on the way is not kept
    if user.host == RESTORED_HOST and not user.conns:
        # Back from a restart: it takes its first device's host, as if that device had
        # logged in, and keeps it (the user's host stays stable while devices come and
        # go). Others with chghost hear of it; the device, not attached yet, learns it
        # from its welcome.
        change_host(ctx, user, session.host)
    session.owner = user
    user.conns = (*user.conns, session)
    for channel in user.channels.values():
        channel.attach(session)
    missed = user.missing_since
    user.missing_since = None
    refresh_away(ctx, user, arriving=session)
    return missed


def burst(ctx: Context, session: Session) -> None:
    """What a newly attached device must learn: operator status and every room it is in."""
    user = session.owner
    if "o" in user.modes:
        opers.tell(ctx, session)
    names = not session.caps.intersection(NO_IMPLICIT_NAMES)
    for channel in user.channels.values():
        if "extended-join" in session.caps:
            params: tuple[str, ...] = (channel.name, user.account or "*", user.realname)
        else:
            params = (channel.name,)
        # Tagged as any JOIN is (server-time: the time the device attached; account-tag)
        ctx.fanout([session], user.prefix, "JOIN", *params, account=user.account)
        if channel.topic:
            send_topic(ctx, session, channel)
        readmarkers.joined(ctx, session, channel)  # draft/read-marker: before NAMES ends
        if names:
            send_names(ctx, session, channel)


# ----------------------------------------------------------------------------- leaving


def stays(ctx: Context, session: Session) -> bool:
    """Whether the user outlives this connection closing (another device, always-on)."""
    user = session.owner
    if not user.registered or session not in user.conns:
        return False
    return len(user.conns) > 1 or user.always_on


def detach(world: World, session: Session) -> None:
    """The connection closed but its user stays: drop it from the user and its rooms.

    This and ``keep`` take the ``World``, not a ``Context``: only the world's own inputs
    (a connection closing, a user quitting, shutdown) call them, and they read its
    shutdown flag and move its millisecond floor."""
    user = session.owner
    user.conns = tuple(conn for conn in user.conns if conn is not session)
    for channel in user.channels.values():
        channel.detach(session)
    if not user.conns:
        user.missing_since = seen_until(world)
        keep(world, user)
    refresh_away(world, user)


def keep(world: World, user: User) -> None:
    """Save what the user is in, for its next login (and a restart, if always-on)."""
    if user.account is None or world.closing:
        return
    key = world.fold(user.account)
    if key not in world.accounts or world.accounts.online(key) is not user:
        # Another user of the account (another nick: a bot, a second identity, or one
        # left online after the account's user quit): what it is in is its own, not the
        # account's, and must not replace what the account's user saved.
        return
    # A user with no device has been missing lines since its last one left.
    last_seen = seen_until(world) if user.missing_since is None else user.missing_since
    _save(world, key, user, last_seen)


def note_change(ctx: Context, user: User) -> None:
    """An always-on user joined, left or was kicked from a room, or changed its nick:
    save that now. ``keep`` runs when its last device leaves and at an orderly shutdown;
    after a crash the user must come back as it was, not as it was when it last left.
    Saved while it has a device, it is flagged ``CONNECTED``: after a crash, what it
    missed starts at the new start (it saw the lines said before live)."""
    changes = changes_to_note(ctx, user)
    if changes:
        ctx.persist(changes)


def changes_to_note(ctx: Context, user: User) -> list[Change]:
    """What ``note_change`` saves (nothing unless always-on), for a caller that saves it
    in a transaction of its own (CHGHOST, with its audit entry)."""
    if not user.always_on or not user.registered or user.account is None:
        return []
    key = ctx.fold(user.account)
    if key not in ctx.accounts:
        return []
    missing = user.missing_since
    return _changes(ctx, key, user, ctx.now_ms() / 1000 if missing is None else missing)


def note_connected(ctx: Context, user: User) -> None:
    """An always-on user got its first device (a login, or one attaching after a restart):
    flag it as connected now, so that a crash does not replay what it sees from now on."""
    account = user.account
    if (
        user.always_on
        and account is not None
        and not ctx.accounts.option(ctx.fold(account), CONNECTED)
    ):
        note_change(ctx, user)


def _save(ctx: Context, key: str, user: User, last_seen: float) -> None:
    ctx.persist(_changes(ctx, key, user, last_seen))


def _changes(ctx: Context, key: str, user: User, last_seen: float) -> list[Change]:
    """The presence and the account flags that go with it, applied in memory now."""
    kept = Presence(
        account_key=key,
        nick=user.nick,
        channels=tuple(channel.name for channel in user.channels.values()),
        away=_own_away(user),
        last_seen=last_seen,
        modes="".join(sorted(set(user.modes) - {"o"})),
    )
    ctx.accounts.keep(kept)
    changes: list[Change] = [PutPresence(kept)]
    connected = "yes" if user.conns else None
    vhost = user.host if user.vhost else None
    for name, value in ((CONNECTED, connected), (VHOST, vhost)):
        if value == ctx.accounts.option(key, name):
            continue
        if value is None:
            ctx.accounts.unchoose(key, name)
        else:
            ctx.accounts.choose(key, name, value)
        changes.append(PutAccountOption(key, name, value))
    return changes


def seen_until(world: World) -> float:
    """Now, as the last moment a user saw live: every line from here on is stamped in a
    later millisecond (``World.ms_floor``), so a replay from here repeats nothing."""
    now = world.now_ms()
    world.ms_floor = now + 1
    return now / 1000


def renamed_room(ctx: Context, old_key: str, new_name: str) -> list[Presence]:
    """The kept presences that name the room ``old_key`` (folded), naming ``new_name``
    instead: after a RENAME an account must come back (next login, restart, crash) to
    the room, not to a new empty one under the old name. Applied in memory by ``keep_all``
    once the new name is taken; a rename is rare, so walking every presence is fine."""
    moved = []
    for kept in ctx.accounts.all_kept():
        if any(ctx.fold(name) == old_key for name in kept.channels):
            rooms = tuple(new_name if ctx.fold(name) == old_key else name for name in kept.channels)
            moved.append(replace(kept, channels=rooms))
    return moved


def keep_all(ctx: Context, presences: list[Presence]) -> None:
    for kept in presences:
        ctx.accounts.keep(kept)


def forget(ctx: Context, account_key: str) -> None:
    if ctx.accounts.forget_kept(account_key):
        ctx.persist([DeletePresence(account_key)])


# ----------------------------------------------------------------------------- away


def set_away(ctx: Context, session: Session, text: str | None) -> None:
    """One device's AWAY; what others see follows ``refresh_away``."""
    session.away_message = text
    refresh_away(ctx, session.owner)


def refresh_away(ctx: Context, user: User, arriving: Session | None = None) -> None:
    """Away when every connection is away (the latest message), or when none is left; tell
    away-notify watchers when that changed. A device ``arriving`` (not welcomed yet) is not
    told: nothing but CAP and SASL may reach a client before its ``001``."""
    if user.conns:
        messages = [conn.away_message for conn in user.conns]
        # draft/pre-away: "*" (a device that connected by itself, say) says nothing of its
        # own, so it never hides a message a person wrote on another device.
        stated = [message for message in messages if message != "*"]
        away = None if None in messages else (stated or messages)[-1]
    else:
        away = user.away or DISCONNECTED_AWAY
    if away == user.away:
        return
    user.away = away
    if not user.registered:
        return
    watchers = interested(ctx, user, "away-notify")
    if arriving is not None:
        watchers.discard(arriving)
    if away is None:
        ctx.fanout(watchers, user.prefix, "AWAY", account=user.account)
    else:
        ctx.fanout(watchers, user.prefix, "AWAY", away, account=user.account)


def _own_away(user: User) -> str | None:
    return None if user.away == DISCONNECTED_AWAY else user.away


# ----------------------------------------------------------------------------- restart


def restore(ctx: Context) -> None:
    """At start: always-on users come back, connection-less, in their rooms."""
    for kept in ctx.accounts.all_kept():
        key = kept.account_key
        account = ctx.accounts.get(key)
        if account is None or ctx.accounts.online(key) is not None:
            continue
        if not option(ctx, key, ALWAYS_ON):
            continue
        nick = kept.nick
        if ctx.fold(nick) != key and ctx.fold(nick) in ctx.accounts:
            # Another account's nick, saved while it had a grace period to give it back
            # (a crash cut it short): it comes back under its own account's name.
            nick = account.name
        if ctx.nicks.find(nick) is not None:
            continue
        vhost = ctx.accounts.option(key, VHOST)
        host = vhost or RESTORED_HOST
        who = Who("", host, nick, "~" + key, account.name)
        if ctx.sanctions.bans.find(who, ctx.fold, ctx.clock()) is not None:
            continue  # banned since it was kept
        user = User(host=host, nick=nick, registered=True)
        user.vhost = vhost is not None
        user.user = "~" + account.key[: ctx.settings.limits.user_length - 1]
        user.realname = account.name
        user.account = account.name
        user.always_on = True
        user.missing_since = kept.last_seen
        crashed = ctx.accounts.option(key, CONNECTED) is not None
        if crashed:  # it had a device when the server died: it saw everything said before
            user.missing_since = max(kept.last_seen, ctx.started_at)
        user.signed_on = ctx.clock()  # WHOIS: on this server since the start
        user.last_message = kept.last_seen  # idle at least since its last device left
        user.away = kept.away or DISCONNECTED_AWAY
        for letter in kept.modes:
            user.set_mode(letter, True)
        if account.oper_role is not None:
            opers.grant_quietly(ctx, user, account)
        ctx.nicks.claim(user, nick)
        ctx.accounts.set_online(key, user)
        ctx.census.registered += 1
        for name in kept.channels[: ctx.settings.limits.channels_per_user]:
            _enter(ctx, user, name)
        if crashed or nick != kept.nick:
            _save(ctx, key, user, user.missing_since)  # with no device now: the flag goes


def _enter(ctx: Context, user: User, name: str) -> None:
    """Put a restored user back in a room, silently: nobody is connected yet to see it."""
    folded = ctx.fold(name)
    channel = ctx.rooms.get(folded)
    if channel is None:
        if not name.startswith("#"):
            return
        channel = ctx.rooms.create(name, ctx.clock())
        status = "o"
    else:
        status = chanreg.join_status(ctx, channel, user)
    channel.add(user, status)
    user.enter_room(folded, channel)
