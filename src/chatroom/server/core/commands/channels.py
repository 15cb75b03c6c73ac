"""Entering, leaving and running rooms: JOIN, PART, TOPIC, INVITE, KICK.

Rules (modern.ircdocs.horse, with InspIRCd/Ergo where the docs leave a choice):
- a command naming several rooms answers each one separately: one bad name does not stop
  the others;
- everything a room sees (JOIN, PART, TOPIC, KICK) goes to every member, the actor
  included, through ``Context.fanout`` so the line is formatted once per byte variant;
- the first joiner of a new room gets +o; permanent rooms never hand out ops and never
  vanish; new rooms start +nt.
"""

from __future__ import annotations

from collections.abc import Collection

from chatroom.irc import numerics as n
from chatroom.irc.message import Message
from chatroom.server.core import access, chanreg, events, opers, presence, sanctions
from chatroom.server.core.channel import Channel
from chatroom.server.core.context import Context
from chatroom.server.core.dispatch import CommandError, command
from chatroom.server.core.joining import join_channel
from chatroom.server.core.roomviews import send_topic
from chatroom.server.core.session import Session


def _member_channel(ctx: Context, session: Session, name: str) -> Channel:
    """The room ``name``, which ``session`` must be in (403, 442 otherwise)."""
    channel = ctx.rooms.find(name)
    if channel is None:
        raise CommandError(n.ERR_NOSUCHCHANNEL, name, "No such channel")
    if session.owner not in channel.members:
        raise CommandError(n.ERR_NOTONCHANNEL, channel.name, "You're not on that channel")
    return channel


def _each(names: str) -> list[str]:
    """Split a comma list, dropping empty items."""
    return [name for name in names.split(",") if name]


# ----------------------------------------------------------------------------- JOIN


@command("JOIN", min_params=1)
def join(ctx: Context, session: Session, msg: Message) -> None:
    """JOIN <channel>{,<channel>} [<key>{,<key>}]  |  JOIN 0"""
    if msg.params[0] == "0":
        for channel in list(session.channels.values()):
            _part(ctx, session, channel, None)
        presence.note_change(ctx, session.owner)
        return
    keys = msg.params[1].split(",") if len(msg.params) > 1 else []
    for i, name in enumerate(_each(msg.params[0])):
        key = keys[i] if i < len(keys) and keys[i] else None
        try:
            join_channel(ctx, session, name, key)
        except CommandError as err:
            ctx.reply(session, err.numeric, *err.params)
    presence.note_change(ctx, session.owner)


# ----------------------------------------------------------------------------- PART


def _part(ctx: Context, session: Session, channel: Channel, reason: str | None) -> None:
    params = (reason,) if reason else ()
    events.announce(
        ctx,
        channel,
        session.prefix,
        "PART",
        *params,
        account=session.account,
        client_tags=events.bot_tag(session),
    )
    ctx.leave_channel(session, channel)


@command("PART", min_params=1)
def part(ctx: Context, session: Session, msg: Message) -> None:
    """PART <channel>{,<channel>} [:<reason>]"""
    reason = msg.params[1] if len(msg.params) > 1 else None
    for name in _each(msg.params[0]):
        try:
            channel = _member_channel(ctx, session, name)
        except CommandError as err:
            ctx.reply(session, err.numeric, *err.params)
            continue
        _part(ctx, session, channel, reason)
    presence.note_change(ctx, session.owner)


# ----------------------------------------------------------------------------- TOPIC


@command("TOPIC", min_params=1)
def topic(ctx: Context, session: Session, msg: Message) -> None:
    """TOPIC <channel> [:<topic>]"""
    name = msg.params[0]
    if len(msg.params) == 1:
        channel = ctx.rooms.find(name)
        if channel is None:
            raise CommandError(n.ERR_NOSUCHCHANNEL, name, "No such channel")
        if channel.secret and session.owner not in channel.members:
            raise CommandError(n.ERR_NOTONCHANNEL, channel.name, "You're not on that channel")
        send_topic(ctx, session, channel)
        return
    # Operators with the channels capability set the topic of any room, member or not
    # (the permanent #lobby has no founder to do it); each such change is audited.
    override = opers.may(ctx, session, "channels")
    channel = ctx.rooms.find(name) if override else _member_channel(ctx, session, name)
    if channel is None:
        raise CommandError(n.ERR_NOSUCHCHANNEL, name, "No such channel")
    as_op = channel.is_op(session.owner)
    if "t" in channel.flags and not as_op and not override:
        raise CommandError(n.ERR_CHANOPRIVSNEEDED, channel.name, "You're not channel operator")
    channel.topic = msg.params[1][: ctx.settings.limits.topic_length]
    channel.topic_set_by = session.prefix
    channel.topic_set_at = ctx.clock()
    text = channel.topic

    def announce() -> None:
        recipients: Collection[Session] = channel.sessions
        if session not in recipients:
            recipients = {**channel.sessions, session: None}  # the operator sees it too
        events.announce(
            ctx,
            channel,
            session.prefix,
            "TOPIC",
            text,
            account=session.account,
            recipients=recipients,
        )

    chanreg.announce_when_saved(ctx, session, channel, announce)
    if override and not as_op:
        sanctions.audit(ctx, sanctions.actor_name(session), "channel.topic", channel.name, text)


# ----------------------------------------------------------------------------- INVITE


@command("INVITE")
def invite(ctx: Context, session: Session, msg: Message) -> None:
    """INVITE <nick> <channel>  |  INVITE (list my pending invitations)"""
    if not msg.params:
        for folded in sorted(session.invited):
            channel = ctx.rooms.get(folded)
            ctx.reply(session, n.RPL_INVITELIST, channel.name if channel else folded)
        ctx.reply(session, n.RPL_ENDOFINVITELIST, "End of /INVITE list")
        return
    if len(msg.params) < 2:
        raise CommandError(n.ERR_NEEDMOREPARAMS, "INVITE", "Not enough parameters")
    nick, name = msg.params[0], msg.params[1]
    target = ctx.nicks.find(nick)
    if target is None or not target.registered:
        raise CommandError(n.ERR_NOSUCHNICK, nick, "No such nick/channel")
    channel = _member_channel(ctx, session, name)
    if target in channel.members:
        raise CommandError(n.ERR_USERONCHANNEL, target.nick, channel.name, "is already on channel")
    if "i" in channel.flags and not channel.is_op(session.owner):
        raise CommandError(n.ERR_CHANOPRIVSNEEDED, channel.name, "You're not channel operator")
    if access.refuses_guests(session, target):
        raise CommandError(n.ERR_NEEDREGGEDNICK, target.nick, access.GUESTS_REFUSED)
    if access.silences(ctx, session, target):
        ctx.reply(session, n.RPL_INVITING, target.nick, channel.name)  # as if delivered
        if target.away is not None:
            ctx.reply(session, n.RPL_AWAY, target.nick, target.away)
        return
    ctx.rooms.invite(target, ctx.fold(channel.name))
    account = session.account
    ctx.reply(session, n.RPL_INVITING, target.nick, channel.name)
    if target.away is not None:
        ctx.reply(session, n.RPL_AWAY, target.nick, target.away)
    # The invitee's copy is a message from the inviter like any other: with its
    # account-tag, server-time and msgid for clients that asked for them.
    ctx.fanout(target.conns, session.prefix, "INVITE", target.nick, channel.name, account=account)
    # IRCv3 invite-notify: members who could have invited too are told (ops only on +i).
    watchers = [
        conn
        for member, status in channel.members.items()
        if "i" not in channel.flags or "o" in status
        for conn in member.conns
        if "invite-notify" in conn.caps and conn is not session
    ]
    ctx.fanout(watchers, session.prefix, "INVITE", target.nick, channel.name, account=account)


# ----------------------------------------------------------------------------- KICK


@command("KICK", min_params=2)
def kick(ctx: Context, session: Session, msg: Message) -> None:
    """KICK <channel>{,<channel>} <nick>{,<nick>} [:<reason>]

    One room and several nicks kicks each from that room; as many rooms as nicks kicks
    them in pairs (RFC 2812 3.2.8): KICK #a,#b bob,carol kicks bob from #a and carol
    from #b. Room ops; server operators with 'kick' anywhere.
    """
    rooms, nicks = _each(msg.params[0]), _each(msg.params[1])
    if len(rooms) == 1:
        rooms = rooms * len(nicks)
    elif len(nicks) == 1:
        nicks = nicks * len(rooms)
    if not rooms or len(rooms) != len(nicks):
        raise CommandError(n.ERR_NEEDMOREPARAMS, "KICK", "Give one room, or one room per nick")
    reason = msg.params[2] if len(msg.params) > 2 and msg.params[2] else session.nick
    reason = reason[: ctx.settings.limits.kick_length]
    rooms_checked: dict[str, Channel | None] = {}  # one refusal per room, not per nick
    for room, nick in zip(rooms, nicks, strict=True):
        key = ctx.fold(room)
        if key not in rooms_checked:
            try:
                rooms_checked[key] = _kickable_room(ctx, session, room)
            except CommandError as err:
                rooms_checked[key] = None
                ctx.reply(session, err.numeric, *err.params)
        channel = rooms_checked[key]
        if channel is None or ctx.rooms.get(key) is not channel:
            continue  # refused, or gone (an op kicked themself out of it)
        try:
            _kick_one(ctx, session, channel, nick, reason)
        except CommandError as err:
            ctx.reply(session, err.numeric, *err.params)


def _kickable_room(ctx: Context, session: Session, room: str) -> Channel:
    """The room, if ``session`` may kick there (403, 442 or 482 otherwise)."""
    channel = ctx.rooms.find(room)
    if channel is None or not opers.may(ctx, session, "kick"):
        channel = _member_channel(ctx, session, room)
        if not channel.is_op(session.owner):
            raise CommandError(n.ERR_CHANOPRIVSNEEDED, channel.name, "You're not channel operator")
    return channel


def _kick_one(ctx: Context, session: Session, channel: Channel, nick: str, reason: str) -> None:
    target = ctx.nicks.find(nick)
    if target is None:
        raise CommandError(n.ERR_NOSUCHNICK, nick, "No such nick/channel")
    if target not in channel.members:
        raise CommandError(
            n.ERR_USERNOTINCHANNEL, target.nick, channel.name, "They aren't on that channel"
        )
    events.announce(
        ctx, channel, session.prefix, "KICK", target.nick, reason, account=session.account
    )
    ctx.leave_channel(target, channel)
    presence.note_change(ctx, target)
    actor = sanctions.actor_name(session)
    sanctions.audit(ctx, actor, "channel.kick", f"{channel.name} {target.nick}", reason)
