"""RENAME (IRCv3 ``draft/channel-rename``): a room changes its name and keeps everything else.

Rules (ircv3.net "Channel Renaming"):
- ``RENAME <#old> <#new> [:<reason>]`` by the room's ops, or operators with the
  ``channels`` capability; members, modes, topic, lists, metadata, the registration
  (ChanServ, in the store) and the history all follow the new name;
- members with the capability see ``RENAME <#old> <#new> :<reason>``; the others see
  themselves PART the old name and JOIN the new one, with the topic and NAMES as after
  any join, except when only the case of the name changed;
- refused: a name in use (``FAIL RENAME CHANNEL_NAME_IN_USE``), an invalid name, a room
  from the server's configuration, or a second rename within ``COOLDOWN`` seconds (not
  for operators) (``FAIL RENAME CANNOT_RENAME``);
- for an hour a JOIN of the old name is redirected to the new one (core/redirects.py).
"""

from __future__ import annotations

from dataclasses import replace

from chatroom.irc import numerics as n
from chatroom.irc.masks import is_channel_name
from chatroom.irc.message import Message, format_line
from chatroom.server.core import opers, presence, readmarkers, redirects, sanctions
from chatroom.server.core.channel import Channel
from chatroom.server.core.context import Context
from chatroom.server.core.dispatch import CommandError, command
from chatroom.server.core.redirects import CAP
from chatroom.server.core.roomviews import NO_IMPLICIT_NAMES, send_names, send_topic
from chatroom.server.core.session import Session
from chatroom.server.store.base import (
    Change,
    DeleteReadMarkers,
    PutPresence,
    PutReadMarker,
    RenameChannel,
)

COOLDOWN = 60.0


class _Refused(Exception):  # noqa: N818 (a refusal, carried to one FAIL reply)
    def __init__(self, code: str, text: str) -> None:
        super().__init__(code)
        self.code = code
        self.text = text


@command("RENAME", min_params=2)
def rename(ctx: Context, session: Session, msg: Message) -> None:
    """RENAME <#old> <#new> [:<reason>]"""
    old, new = msg.params[0], msg.params[1]
    reason = msg.params[2] if len(msg.params) > 2 else ""
    channel = ctx.rooms.find(old)
    if channel is None:
        raise CommandError(n.ERR_NOSUCHCHANNEL, old, "No such channel")
    override = opers.may(ctx, session, "channels")
    if not override:
        if session.owner not in channel.members:
            raise CommandError(n.ERR_NOTONCHANNEL, channel.name, "You're not on that channel")
        if not channel.is_op(session.owner):
            raise CommandError(n.ERR_CHANOPRIVSNEEDED, channel.name, "You're not channel operator")
    try:
        _check(ctx, channel, new, override)
    except _Refused as refused:
        session.send(format_line(ctx.name, "FAIL", "RENAME", refused.code, old, new, refused.text))
        return
    reason = reason[: ctx.settings.limits.kick_length]
    rename_channel(ctx, session, channel, new, reason)


def _check(ctx: Context, channel: Channel, new: str, override: bool) -> None:
    limits = ctx.settings.limits
    if not is_channel_name(new, "#", limits.channel_length):
        raise _Refused("CANNOT_RENAME", "That is not a valid room name")
    folded = ctx.fold(new)
    taken = ctx.rooms.get(folded) is not None or folded in ctx.rooms.reserved
    if folded != ctx.fold(channel.name) and taken:
        raise _Refused("CHANNEL_NAME_IN_USE", "The channel name is already taken")
    if channel in ctx.rooms.reserved.values():
        raise _Refused("CANNOT_RENAME", "This channel is being renamed")
    if new == channel.name:
        raise _Refused("CANNOT_RENAME", "That is already the room's name")
    configured = {ctx.fold(name) for name in ctx.settings.permanent_channels}
    if ctx.fold(channel.name) in configured:
        raise _Refused("CANNOT_RENAME", "Rooms from the server's configuration keep their name")
    if not override and ctx.clock() - channel.renamed_at < COOLDOWN:
        raise _Refused("CANNOT_RENAME", "This channel has been renamed recently")


def rename_channel(ctx: Context, session: Session, channel: Channel, new: str, reason: str) -> None:
    """Move the room to its new name everywhere the old one was a key, then announce it.

    A registered room's new name is durable: it is saved first and only then taken, in
    memory and on the wire, so a `kill -9` right after the RENAME line cannot bring the old
    name back, and what members say meanwhile still goes to the old name, before the
    RENAME line (the new name is reserved until then)."""
    old, old_key, new_key = channel.name, ctx.fold(channel.name), ctx.fold(new)
    actor = sanctions.actor_name(session)
    case_only = new_key == old_key
    moved = presence.renamed_room(ctx, old_key, new)
    kept = [PutPresence(each) for each in moved]
    if channel.registration is None:
        changes = [*_marker_changes(ctx, old_key, new_key), *kept]
        presence.keep_all(ctx, moved)
        _take_new_name(ctx, channel, new)
        sanctions.audit(ctx, actor, "channel.rename", f"{old} {new}", reason, changes)
        _announce(ctx, session, channel, old, reason, case_only)
        return
    changes = [*_marker_changes(ctx, old_key, new_key), *kept, RenameChannel(old_key, new_key, new)]
    ctx.rooms.reserved[new_key] = channel
    channel.renamed_at = ctx.clock()  # the cooldown starts with the request

    def committed(error: str | None) -> None:
        ctx.rooms.reserved.pop(new_key, None)
        if error is not None:
            if not session.closed:
                ctx.notice(
                    session,
                    f"{old} was not renamed: the database refused the write; try again later.",
                )
            return
        if ctx.rooms.get(old_key) is not channel:
            return  # the room went meanwhile (dropped and emptied): nothing left to rename
        presence.keep_all(ctx, moved)
        _take_new_name(ctx, channel, new)
        _announce(ctx, session, channel, old, reason, case_only)

    sanctions.audit(ctx, actor, "channel.rename", f"{old} {new}", reason, changes, committed)


def _marker_changes(ctx: Context, old_key: str, new_key: str) -> list[Change]:
    """What the store must do for the read markers on the room (draft/read-marker)."""
    if new_key == old_key:
        return []
    changes: list[Change] = []
    for account_key, markers in ctx.read_markers.accounts.items():
        at = markers.get(old_key)
        if at is not None:
            changes.append(
                PutReadMarker(account_key, new_key, max(at, markers.get(new_key, at)) / 1000)
            )
    if changes:
        changes.append(DeleteReadMarkers(old_key))
    return changes


def _take_new_name(ctx: Context, channel: Channel, new: str) -> None:
    """The room is called ``new`` from now on: its members, invitations, history and
    read markers follow, and a JOIN of the old name leads to it for a while."""
    old_key, new_key = ctx.fold(channel.name), ctx.fold(new)
    ctx.rooms.rename(channel, new)
    channel.renamed_at = ctx.clock()
    if new_key != old_key:
        for member in channel.members:
            member.leave_room(old_key)
            member.enter_room(new_key, channel)
        for other in list(ctx.rooms.invitees.get(old_key, ())):
            ctx.rooms.uninvite(other, old_key)
            ctx.rooms.invite(other, new_key)
        redirects.remember(ctx, old_key, new)
        ctx.read_markers.rename_target(old_key, new_key)
    ctx.history.rename_room(old_key, new_key, new)
    ctx.rename_history(old_key, new_key, new)
    if channel.registration is not None:
        channel.registration = replace(channel.registration, key=new_key, name=new)


def _announce(
    ctx: Context, session: Session, channel: Channel, old: str, reason: str, case_only: bool
) -> None:
    aware = [m for m in channel.sessions if CAP in m.caps]
    if session.owner not in channel.members:  # an operator from outside hears of it too
        if CAP in session.caps:
            aware.append(session)
        else:
            ctx.notice(session, f"{old} is now called {channel.name}")
    ctx.fanout(aware, session.prefix, "RENAME", old, channel.name, reason, account=session.account)
    if case_only:
        return  # the fallback is not used when only the case changed
    for member in list(channel.sessions):
        if CAP in member.caps:
            continue
        part = (old, reason) if reason else (old,)
        ctx.fanout([member], member.prefix, "PART", *part, account=member.account)
        joined: tuple[str, ...]
        if "extended-join" in member.caps:
            joined = (channel.name, member.account or "*", member.realname)
        else:
            joined = (channel.name,)
        ctx.fanout([member], member.prefix, "JOIN", *joined, account=member.account)
        if channel.topic:
            send_topic(ctx, member, channel)
        readmarkers.joined(ctx, member, channel)
        if not member.caps.intersection(NO_IMPLICIT_NAMES):
            send_names(ctx, member, channel)
