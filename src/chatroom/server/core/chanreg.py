"""Registered rooms and timed list entries: what makes a room outlive its members.

Rules:
- a registered room (``Channel.registration`` set) never vanishes when it empties, like
  a permanent one; its founder and the accounts on its op list get +o when they join
  logged in (and nobody else gets ops just for being first);
- its topic, modes, key, limit and +b/+e/+I/+q lists are saved whole after every change
  (``changed``), so a restart brings the room back as it was; a member's MODE or TOPIC
  is announced once it is saved (``announce_when_saved``), so what the room was told
  survives a crash;
- a timed entry (TBAN) carries ``expires_at``; the tick removes it when due and announces
  ``MODE -b`` from the server, as InspIRCd's timedbans module does;
- the founder and the registration itself belong to the store once ``chatroom admin``
  may change them: saves after a change (``UpdateChannel``) never touch the founder nor
  re-create a dropped room, and a reload (``restore``) adopts the store's founder and
  drops what the store no longer holds, as it does for accounts and bans.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING

from chatroom.irc.modes import ModeChange, format_mode_changes
from chatroom.server.core import events
from chatroom.server.core.channel import Channel, ListEntry
from chatroom.server.store.base import (
    Change,
    ChannelListEntry,
    PutChannel,
    RegisteredChannel,
    Snapshot,
    UpdateChannel,
)

if TYPE_CHECKING:
    from chatroom.server.core.context import Context
    from chatroom.server.core.session import Session
    from chatroom.server.core.users import User


# The founder of a room kept because the config lists it in ``server.channels``.
SERVER_FOUNDER = ""


def record_of(channel: Channel, registration: RegisteredChannel) -> RegisteredChannel:
    """The durable record of ``channel`` as it is now."""
    entries = tuple(
        ChannelListEntry(letter, e.mask, e.set_by, e.set_at, e.expires_at)
        for letter, items in channel.lists.items()
        for e in items
    )
    return replace(
        registration,
        name=channel.name,
        topic=channel.topic,
        topic_set_by=channel.topic_set_by,
        topic_set_at=channel.topic_set_at,
        modes="".join(sorted(channel.flags)),
        channel_key=channel.key,
        limit=channel.limit,
        lists=entries,
    )


def changed(ctx: Context, channel: Channel) -> None:
    """Save a registered room after any change; free for unregistered rooms."""
    changes = current_state(channel)
    if changes:
        ctx.persist(changes)


def announce_when_saved(
    ctx: Context, session: Session, channel: Channel, announce: Callable[[], None]
) -> None:
    """A member changed a room (MODE, TOPIC): ``announce`` tells the room, at once for an
    unregistered room, after the commit for a registered one, whose change is durable.

    The change is in force already. Should the store refuse it, the room hears of it all
    the same (it holds until a restart, and the room's next saved change saves it too),
    and the member who made it is told it was not saved.
    """
    changes = current_state(channel)
    if not changes:
        announce()
        return

    def committed(error: str | None) -> None:
        announce()
        if error is not None and not session.closed:
            ctx.notice(
                session,
                f"The change to {channel.name} is in force but could not be saved "
                "(the database refused the write): a restart would undo it.",
            )

    ctx.persist(changes, committed)


def current_state(channel: Channel) -> list[Change]:
    """The change that saves a registered room as it is now (none for another room), for
    a caller that commits it together with its audit entry and answers after the commit."""
    registration = channel.registration
    if registration is None:
        return []
    record = record_of(channel, registration)
    channel.registration = record
    return [UpdateChannel(record)]


def set_registration(ctx: Context, channel: Channel, record: RegisteredChannel | None) -> None:
    """Register (record) or drop (None) a room; the caller persists and audits."""
    channel.registration = record
    if record is not None:
        channel.permanent = True
        return
    folded = ctx.fold(channel.name)
    channel.permanent = any(ctx.fold(n) == folded for n in ctx.settings.permanent_channels)
    ctx.rooms.discard_if_empty(channel)


def restore(ctx: Context, snapshot: Snapshot) -> None:
    """Bring back registered rooms that this process does not hold yet (start-up), and
    follow ``chatroom admin room-drop``/``room-founder`` (a reload while running)."""
    follow_outside_changes(ctx, snapshot)
    for key, record in snapshot.channels.items():
        channel = ctx.rooms.get(key)
        if channel is not None and channel.registration is not None:
            continue  # the running server's copy of topic, modes and lists is the newer one
        _adopt(ctx, key, record)
    ctx.sanctions.recompute()
    _keep_permanent_rooms(ctx)


def load_changes(ctx: Context, rooms: Mapping[str, RegisteredChannel | None]) -> None:
    """Rooms another process changed (PostgreSQL told which), applied by key with the
    rules of ``restore``: a drop is followed, a new founder taken, a room registered
    elsewhere adopted; a room registered here keeps its own newer state."""
    for key, stored in rooms.items():
        channel = ctx.rooms.get(key)
        registration = channel.registration if channel is not None else None
        if stored is None:
            if channel is not None and registration is not None:
                set_registration(ctx, channel, None)
        elif channel is not None and registration is not None:
            if ctx.fold(stored.founder) != ctx.fold(registration.founder):
                channel.registration = replace(registration, founder=stored.founder)
        else:
            _adopt(ctx, key, stored)
    ctx.sanctions.recompute()
    _keep_permanent_rooms(ctx)


def _adopt(ctx: Context, key: str, record: RegisteredChannel) -> None:
    """Make ``record`` the room's state (creating the room), scheduling its timed entries."""
    channel = ctx.rooms.get(key)
    if channel is None:
        channel = ctx.rooms.create(record.name, record.registered_at)
    channel.registration = record
    channel.permanent = True
    channel.topic = record.topic
    channel.topic_set_by = record.topic_set_by
    channel.topic_set_at = record.topic_set_at
    channel.flags = set(record.modes)
    channel.key = record.channel_key
    channel.limit = record.limit
    channel.lists = {"b": [], "e": [], "I": [], "q": []}
    due = ctx.sanctions.channel_due
    for entry in record.lists:
        channel.lists[entry.letter].append(
            ListEntry(entry.mask, entry.set_by, entry.set_at, entry.expires_at)
        )
        if entry.expires_at is not None and (due is None or entry.expires_at < due):
            due = entry.expires_at
    ctx.sanctions.channel_due = due


def _keep_permanent_rooms(ctx: Context) -> None:
    """The rooms of ``server.channels`` are saved like registered ones, held by the server
    (no founder), so a topic or mode an operator set on ``#lobby`` survives a restart."""
    for name in ctx.settings.permanent_channels:
        key = ctx.fold(name)
        channel = ctx.rooms.get(key)
        if channel is None or channel.registration is not None:
            continue
        blank = RegisteredChannel(key, channel.name, SERVER_FOUNDER, ctx.clock())
        channel.registration = record_of(channel, blank)
        ctx.persist([PutChannel(channel.registration)])


def founder_text(founder: str) -> str:
    """Who holds a room, for people: a room of ``server.channels`` has no founder."""
    return founder or "the server (server.channels)"


def follow_outside_changes(ctx: Context, snapshot: Snapshot) -> None:
    """Drop registrations the store no longer has; take the store's founder.

    Only the founder is taken: topic, modes, ops and lists are written behind by this
    process, which therefore holds the newer copy. The writer is flushed before a reload,
    so a room missing from the snapshot was dropped by someone else.
    """
    for key, channel in list(ctx.rooms.items()):
        registration = channel.registration
        if registration is None:
            continue
        stored = snapshot.channels.get(key)
        if stored is None:
            set_registration(ctx, channel, None)
        elif ctx.fold(stored.founder) != ctx.fold(registration.founder):
            channel.registration = replace(registration, founder=stored.founder)


def join_status(ctx: Context, channel: Channel, session: Session | User) -> str:
    """ "o" for the founder and listed ops of a registered room when logged in, else ""."""
    registration = channel.registration
    if registration is None or session.account is None:
        return ""
    account = ctx.fold(session.account)
    if account == ctx.fold(registration.founder):
        return "o"
    return "o" if any(ctx.fold(name) == account for name in registration.ops) else ""


def is_founder(ctx: Context, channel: Channel, session: Session) -> bool:
    registration = channel.registration
    return (
        registration is not None
        and session.account is not None
        and ctx.fold(session.account) == ctx.fold(registration.founder)
    )


def schedule(ctx: Context, expires_at: float) -> None:
    """A timed entry was set: make sure the tick comes back for it."""
    sanctions = ctx.sanctions
    if sanctions.channel_due is None or expires_at < sanctions.channel_due:
        sanctions.channel_due = expires_at
    sanctions.due(expires_at)


def expire_entries(ctx: Context) -> float | None:
    """Remove due timed entries everywhere, announce them; return the next expiry."""
    now = ctx.clock()
    upcoming: float | None = None
    for channel in list(ctx.rooms):
        removed: list[ModeChange] = []
        for letter, entries in channel.lists.items():
            for entry in list(entries):
                if entry.expires_at is None:
                    continue
                if entry.expires_at <= now:
                    entries.remove(entry)
                    removed.append(ModeChange(False, letter, entry.mask))
                elif upcoming is None or entry.expires_at < upcoming:
                    upcoming = entry.expires_at
        if removed:
            modestring, args = format_mode_changes(removed)
            events.announce(ctx, channel, ctx.name, "MODE", modestring, *args)
            changed(ctx, channel)
    return upcoming
