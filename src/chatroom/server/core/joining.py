"""Putting a connection's user in a room: the one way in, whoever asks.

JOIN asks, and so does registration (an account's first device rejoins the rooms it was
in last time), so this lives outside both command modules. Rules (modern.ircdocs.horse):
- the first joiner of a new room gets +o; otherwise the room's keys, bans, limits and
  invitations decide (``access.join_refusal``) and ChanServ may give a status by account;
- a recently renamed name leads to the room's new name (core/redirects.py);
- every member sees the JOIN (extended-join with account and realname); the user's own
  devices get the topic, the read marker and NAMES (unless no-implicit-names), then any
  lines they missed (core/replay.py).
"""

from __future__ import annotations

from chatroom.irc import numerics as n
from chatroom.irc.formatting import hidden_character
from chatroom.irc.masks import is_channel_name
from chatroom.server.core import chanreg, events, metadata, readmarkers, redirects, replay
from chatroom.server.core.access import join_refusal
from chatroom.server.core.channel import Channel
from chatroom.server.core.context import Context
from chatroom.server.core.dispatch import CommandError
from chatroom.server.core.roomviews import NO_IMPLICIT_NAMES, send_names, send_topic
from chatroom.server.core.session import Session


def join_channel(ctx: Context, session: Session, name: str, key: str | None = None) -> None:
    """Put ``session`` in room ``name``, creating it, or raise the refusal."""
    limits = ctx.settings.limits
    if not is_channel_name(name, "#", limits.channel_length):
        if name[:1] != "#" or len(name) > limits.channel_length:  # as modern docs and irctest
            raise CommandError(n.ERR_NOSUCHCHANNEL, name, "No such channel")
        hidden = hidden_character(name)
        if hidden is not None:
            why = f"U+{ord(hidden):04X} is a control, formatting or invisible character"
            raise CommandError(n.ERR_BADCHANNAME, name, f"Illegal channel name: {why}")
        raise CommandError(n.ERR_BADCHANNAME, name, "Illegal channel name")
    folded = ctx.fold(name)
    channel = ctx.rooms.get(folded)
    if channel is not None and session.owner in channel.members:
        return  # already there: nothing to say
    if len(session.channels) >= limits.channels_per_user:
        raise CommandError(n.ERR_TOOMANYCHANNELS, name, "You have joined too many channels")
    status = ""
    if channel is None and (moved := redirects.redirected(ctx, folded)) is not None:
        if not redirects.refuse_old_name(ctx, session, name, moved):
            join_channel(ctx, session, moved, key)  # 470 sent: follow the room
        return
    if channel is None:
        if folded in ctx.rooms.reserved:  # a registered room takes the name once saved
            raise CommandError(n.ERR_UNAVAILRESOURCE, name, "Room name is being taken; try again")
        channel = ctx.rooms.create(name, ctx.clock())
        status = "o"
    else:
        refusal = join_refusal(ctx, channel, session, key)
        if refusal is not None:
            raise CommandError(refusal[0], channel.name, refusal[1])
        status = chanreg.join_status(ctx, channel, session)  # founder and ops by account
    channel.add(session.owner, status)
    session.owner.enter_room(folded, channel)
    ctx.rooms.uninvite(session.owner, folded)
    announce_join(ctx, channel, session)
    if session.away is not None:
        # away-notify: members learn the newcomer is away as soon as they see the join.
        watchers = [
            m for m in channel.sessions if m.owner is not session.owner and "away-notify" in m.caps
        ]
        ctx.fanout(watchers, session.prefix, "AWAY", session.away, account=session.account)
    for device in session.owner.conns:  # the user's other devices saw the JOIN too
        if channel.topic:
            send_topic(ctx, device, channel)
        readmarkers.joined(ctx, device, channel)  # draft/read-marker: before NAMES ends
        if not device.caps.intersection(NO_IMPLICIT_NAMES):
            send_names(ctx, device, channel)
    replay.replay_on_join(ctx, session, channel)
    metadata.joined(ctx, session, channel)


def announce_join(ctx: Context, channel: Channel, session: Session) -> None:
    """JOIN to every member; extended-join clients also get the account and realname."""
    events.join(ctx, channel, session)
