"""Registered rooms and timed list entries: what makes a room outlive its members.

Rules:
- a registered room (``Channel.registration`` set) never vanishes when it empties, like
  a permanent one; its founder and the accounts on its op list get +o when they join
  logged in (and nobody else gets ops just for being first);
- its topic, modes, key, limit and +b/+e/+I/+q lists are saved whole after every change
  (``changed``), so a restart brings the room back as it was;
- a timed entry (TBAN) carries ``expires_at``; the tick removes it when due and announces
  ``MODE -b`` from the server, as InspIRCd's timedbans module does;
- the founder and the registration itself belong to the store once ``chatroom admin``
  may change them: saves after a change (``UpdateChannel``) never touch the founder nor
  re-create a dropped room, and a reload (``restore``) adopts the store's founder and
  drops what the store no longer holds, as it does for accounts and bans.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from chatroom.irc.modes import ModeChange, format_mode_changes
from chatroom.server.core import events
from chatroom.server.core.channel import Channel, ListEntry
from chatroom.server.store.base import (
    ChannelListEntry,
    RegisteredChannel,
    Snapshot,
    UpdateChannel,
)

if TYPE_CHECKING:
    from chatroom.server.core.session import Session
    from chatroom.server.core.world import World


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


def changed(world: World, channel: Channel) -> None:
    """Save a registered room after any change; free for unregistered rooms."""
    registration = channel.registration
    if registration is None:
        return
    record = record_of(channel, registration)
    channel.registration = record
    world.persist([UpdateChannel(record)])


def set_registration(world: World, channel: Channel, record: RegisteredChannel | None) -> None:
    """Register (record) or drop (None) a room; the caller persists and audits."""
    channel.registration = record
    if record is not None:
        channel.permanent = True
        return
    folded = world.fold(channel.name)
    channel.permanent = any(world.fold(n) == folded for n in world.settings.permanent_channels)
    if not channel.members and not channel.permanent:
        world.channels.pop(folded, None)


def restore(world: World, snapshot: Snapshot) -> None:
    """Bring back registered rooms that this process does not hold yet (start-up), and
    follow ``chatroom admin room-drop``/``room-founder`` (a reload while running)."""
    follow_outside_changes(world, snapshot)
    due = world.sanctions.channel_due
    for key, record in snapshot.channels.items():
        channel = world.channels.get(key)
        if channel is not None and channel.registration is not None:
            continue  # the running server's copy of topic, modes and lists is the newer one
        if channel is None:
            channel = Channel(record.name, record.registered_at)
            world.channels[key] = channel
        channel.registration = record
        channel.permanent = True
        channel.topic = record.topic
        channel.topic_set_by = record.topic_set_by
        channel.topic_set_at = record.topic_set_at
        channel.flags = set(record.modes)
        channel.key = record.channel_key
        channel.limit = record.limit
        channel.lists = {"b": [], "e": [], "I": [], "q": []}
        for entry in record.lists:
            channel.lists[entry.letter].append(
                ListEntry(entry.mask, entry.set_by, entry.set_at, entry.expires_at)
            )
            if entry.expires_at is not None and (due is None or entry.expires_at < due):
                due = entry.expires_at
    world.sanctions.channel_due = due
    world.sanctions.recompute()


def follow_outside_changes(world: World, snapshot: Snapshot) -> None:
    """Drop registrations the store no longer has; take the store's founder.

    Only the founder is taken: topic, modes, ops and lists are written behind by this
    process, which therefore holds the newer copy. The writer is flushed before a reload,
    so a room missing from the snapshot was dropped by someone else.
    """
    for key, channel in list(world.channels.items()):
        registration = channel.registration
        if registration is None:
            continue
        stored = snapshot.channels.get(key)
        if stored is None:
            set_registration(world, channel, None)
        elif world.fold(stored.founder) != world.fold(registration.founder):
            channel.registration = replace(registration, founder=stored.founder)


def join_status(world: World, channel: Channel, session: Session) -> str:
    """ "o" for the founder and listed ops of a registered room when logged in, else ""."""
    registration = channel.registration
    if registration is None or session.account is None:
        return ""
    account = world.fold(session.account)
    if account == world.fold(registration.founder):
        return "o"
    return "o" if any(world.fold(name) == account for name in registration.ops) else ""


def is_founder(world: World, channel: Channel, session: Session) -> bool:
    registration = channel.registration
    return (
        registration is not None
        and session.account is not None
        and world.fold(session.account) == world.fold(registration.founder)
    )


def schedule(world: World, expires_at: float) -> None:
    """A timed entry was set: make sure the tick comes back for it."""
    sanctions = world.sanctions
    if sanctions.channel_due is None or expires_at < sanctions.channel_due:
        sanctions.channel_due = expires_at
    sanctions.due(expires_at)


def expire_entries(world: World) -> float | None:
    """Remove due timed entries everywhere, announce them; return the next expiry."""
    now = world.clock()
    upcoming: float | None = None
    for channel in list(world.channels.values()):
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
            events.announce(world, channel, world.name, "MODE", modestring, *args)
            changed(world, channel)
    return upcoming
