"""Entering, leaving and running rooms: JOIN, PART, TOPIC, INVITE, KICK.

Rules (modern.ircdocs.horse, with InspIRCd/Ergo where the docs leave a choice):
- a command naming several rooms answers each one separately: one bad name does not stop
  the others;
- everything a room sees (JOIN, PART, TOPIC, KICK) goes to every member, the actor
  included, through ``World.fanout`` so the line is formatted once per byte variant;
- the first joiner of a new room gets +o; permanent rooms never hand out ops and never
  vanish; new rooms start +nt.
"""

from __future__ import annotations

from collections.abc import Collection

from chatroom.irc import numerics as n
from chatroom.irc.message import Message
from chatroom.server.core import chanreg, events, opers, sanctions
from chatroom.server.core.channel import Channel
from chatroom.server.core.dispatch import CommandError, command
from chatroom.server.core.joining import join_channel
from chatroom.server.core.roomviews import send_topic
from chatroom.server.core.session import Session
from chatroom.server.core.world import World


def _member_channel(world: World, session: Session, name: str) -> Channel:
    """The room ``name``, which ``session`` must be in (403, 442 otherwise)."""
    channel = world.rooms.find(name)
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
def join(world: World, session: Session, msg: Message) -> None:
    """JOIN <channel>{,<channel>} [<key>{,<key>}]  |  JOIN 0"""
    if msg.params[0] == "0":
        for channel in list(session.channels.values()):
            _part(world, session, channel, None)
        return
    keys = msg.params[1].split(",") if len(msg.params) > 1 else []
    for i, name in enumerate(_each(msg.params[0])):
        key = keys[i] if i < len(keys) and keys[i] else None
        try:
            join_channel(world, session, name, key)
        except CommandError as err:
            world.reply(session, err.numeric, *err.params)


# ----------------------------------------------------------------------------- PART


def _part(world: World, session: Session, channel: Channel, reason: str | None) -> None:
    params = (reason,) if reason else ()
    events.announce(world, channel, session.prefix, "PART", *params, account=session.account)
    world.leave_channel(session, channel)


@command("PART", min_params=1)
def part(world: World, session: Session, msg: Message) -> None:
    """PART <channel>{,<channel>} [:<reason>]"""
    reason = msg.params[1] if len(msg.params) > 1 else None
    for name in _each(msg.params[0]):
        try:
            channel = _member_channel(world, session, name)
        except CommandError as err:
            world.reply(session, err.numeric, *err.params)
            continue
        _part(world, session, channel, reason)


# ----------------------------------------------------------------------------- TOPIC


@command("TOPIC", min_params=1)
def topic(world: World, session: Session, msg: Message) -> None:
    """TOPIC <channel> [:<topic>]"""
    name = msg.params[0]
    if len(msg.params) == 1:
        channel = world.rooms.find(name)
        if channel is None:
            raise CommandError(n.ERR_NOSUCHCHANNEL, name, "No such channel")
        if channel.secret and session.owner not in channel.members:
            raise CommandError(n.ERR_NOTONCHANNEL, channel.name, "You're not on that channel")
        send_topic(world, session, channel)
        return
    # Operators with the channels capability set the topic of any room, member or not
    # (the permanent #lobby has no founder to do it); each such change is audited.
    override = opers.may(world, session, "channels")
    channel = world.rooms.find(name) if override else _member_channel(world, session, name)
    if channel is None:
        raise CommandError(n.ERR_NOSUCHCHANNEL, name, "No such channel")
    as_op = channel.is_op(session.owner)
    if "t" in channel.flags and not as_op and not override:
        raise CommandError(n.ERR_CHANOPRIVSNEEDED, channel.name, "You're not channel operator")
    channel.topic = msg.params[1][: world.settings.limits.topic_length]
    channel.topic_set_by = session.prefix
    channel.topic_set_at = world.clock()
    text = channel.topic

    def announce() -> None:
        recipients: Collection[Session] = channel.sessions
        if session not in recipients:
            recipients = {**channel.sessions, session: None}  # the operator sees it too
        events.announce(
            world,
            channel,
            session.prefix,
            "TOPIC",
            text,
            account=session.account,
            recipients=recipients,
        )

    chanreg.announce_when_saved(world, session, channel, announce)
    if override and not as_op:
        sanctions.audit(world, sanctions.actor_name(session), "channel.topic", channel.name, text)


# ----------------------------------------------------------------------------- INVITE


@command("INVITE")
def invite(world: World, session: Session, msg: Message) -> None:
    """INVITE <nick> <channel>  |  INVITE (list my pending invitations)"""
    if not msg.params:
        for folded in sorted(session.invited):
            channel = world.rooms.get(folded)
            world.reply(session, n.RPL_INVITELIST, channel.name if channel else folded)
        world.reply(session, n.RPL_ENDOFINVITELIST, "End of /INVITE list")
        return
    if len(msg.params) < 2:
        raise CommandError(n.ERR_NEEDMOREPARAMS, "INVITE", "Not enough parameters")
    nick, name = msg.params[0], msg.params[1]
    target = world.nicks.find(nick)
    if target is None or not target.registered:
        raise CommandError(n.ERR_NOSUCHNICK, nick, "No such nick/channel")
    channel = _member_channel(world, session, name)
    if target in channel.members:
        raise CommandError(n.ERR_USERONCHANNEL, target.nick, channel.name, "is already on channel")
    if "i" in channel.flags and not channel.is_op(session.owner):
        raise CommandError(n.ERR_CHANOPRIVSNEEDED, channel.name, "You're not channel operator")
    target.invite(world.fold(channel.name))
    account = session.account
    world.reply(session, n.RPL_INVITING, target.nick, channel.name)
    if target.away is not None:
        world.reply(session, n.RPL_AWAY, target.nick, target.away)
    # The invitee's copy is a message from the inviter like any other: with its
    # account-tag, server-time and msgid for clients that asked for them.
    world.fanout(target.conns, session.prefix, "INVITE", target.nick, channel.name, account=account)
    # IRCv3 invite-notify: members who could have invited too are told (ops only on +i).
    watchers = [
        conn
        for member, status in channel.members.items()
        if "i" not in channel.flags or "o" in status
        for conn in member.conns
        if "invite-notify" in conn.caps and conn is not session
    ]
    world.fanout(watchers, session.prefix, "INVITE", target.nick, channel.name, account=account)


# ----------------------------------------------------------------------------- KICK


@command("KICK", min_params=2)
def kick(world: World, session: Session, msg: Message) -> None:
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
    reason = reason[: world.settings.limits.kick_length]
    rooms_checked: dict[str, Channel | None] = {}  # one refusal per room, not per nick
    for room, nick in zip(rooms, nicks, strict=True):
        key = world.fold(room)
        if key not in rooms_checked:
            try:
                rooms_checked[key] = _kickable_room(world, session, room)
            except CommandError as err:
                rooms_checked[key] = None
                world.reply(session, err.numeric, *err.params)
        channel = rooms_checked[key]
        if channel is None or world.rooms.get(key) is not channel:
            continue  # refused, or gone (an op kicked themself out of it)
        try:
            _kick_one(world, session, channel, nick, reason)
        except CommandError as err:
            world.reply(session, err.numeric, *err.params)


def _kickable_room(world: World, session: Session, room: str) -> Channel:
    """The room, if ``session`` may kick there (403, 442 or 482 otherwise)."""
    channel = world.rooms.find(room)
    if channel is None or not opers.may(world, session, "kick"):
        channel = _member_channel(world, session, room)
        if not channel.is_op(session.owner):
            raise CommandError(n.ERR_CHANOPRIVSNEEDED, channel.name, "You're not channel operator")
    return channel


def _kick_one(world: World, session: Session, channel: Channel, nick: str, reason: str) -> None:
    target = world.nicks.find(nick)
    if target is None:
        raise CommandError(n.ERR_NOSUCHNICK, nick, "No such nick/channel")
    if target not in channel.members:
        raise CommandError(
            n.ERR_USERNOTINCHANNEL, target.nick, channel.name, "They aren't on that channel"
        )
    events.announce(
        world, channel, session.prefix, "KICK", target.nick, reason, account=session.account
    )
    world.leave_channel(target, channel)
    actor = sanctions.actor_name(session)
    sanctions.audit(world, actor, "channel.kick", f"{channel.name} {target.nick}", reason)
