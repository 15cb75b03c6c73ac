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

from chatroom.irc import numerics as n
from chatroom.irc.masks import is_channel_name
from chatroom.irc.message import Message, format_line
from chatroom.server.core import chanreg, metadata, opers, sanctions
from chatroom.server.core.access import join_refusal
from chatroom.server.core.channel import Channel
from chatroom.server.core.commands import rename
from chatroom.server.core.commands.channel_queries import send_names, send_topic
from chatroom.server.core.commands.chathistory import replay_on_join
from chatroom.server.core.dispatch import CommandError, command
from chatroom.server.core.session import Session
from chatroom.server.core.world import World


def _member_channel(world: World, session: Session, name: str) -> Channel:
    """The room ``name``, which ``session`` must be in (403, 442 otherwise)."""
    channel = world.find_channel(name)
    if channel is None:
        raise CommandError(n.ERR_NOSUCHCHANNEL, name, "No such channel")
    if session not in channel.members:
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


def join_channel(world: World, session: Session, name: str, key: str | None = None) -> None:
    """Put ``session`` in room ``name``, creating it, or raise the refusal."""
    limits = world.settings.limits
    if not is_channel_name(name, "#", limits.channel_length):
        if name[:1] != "#":
            raise CommandError(n.ERR_NOSUCHCHANNEL, name, "No such channel")
        raise CommandError(n.ERR_BADCHANNAME, name, "Illegal channel name")
    folded = world.fold(name)
    channel = world.channels.get(folded)
    if channel is not None and session in channel.members:
        return  # already there: nothing to say
    if len(session.channels) >= limits.channels_per_user:
        raise CommandError(n.ERR_TOOMANYCHANNELS, name, "You have joined too many channels")
    status = ""
    if channel is None and (moved := rename.redirected(world, folded)) is not None:
        if not rename.refuse_old_name(world, session, name, moved):
            join_channel(world, session, moved, key)  # 470 sent: follow the room
        return
    if channel is None:
        channel = Channel(name, world.clock())
        world.channels[folded] = channel
        status = "o"
    else:
        refusal = join_refusal(world, channel, session, key)
        if refusal is not None:
            raise CommandError(refusal[0], channel.name, refusal[1])
        status = chanreg.join_status(world, channel, session)  # founder and ops by account
    channel.members[session] = status
    session.channels[folded] = channel
    session.invited.discard(folded)
    announce_join(world, channel, session)
    if session.away is not None:
        # away-notify: members learn the newcomer is away as soon as they see the join.
        watchers = [m for m in channel.members if m is not session and "away-notify" in m.caps]
        world.fanout(watchers, session.prefix, "AWAY", session.away)
    if channel.topic:
        send_topic(world, session, channel)
    send_names(world, session, channel)
    replay_on_join(world, session, channel)
    metadata.joined(world, session, channel)


def announce_join(world: World, channel: Channel, session: Session) -> None:
    """JOIN to every member; extended-join clients also get the account and realname."""
    extended = [m for m in channel.members if "extended-join" in m.caps]
    plain = [m for m in channel.members if "extended-join" not in m.caps]
    world.fanout(plain, session.prefix, "JOIN", channel.name, account=session.account)
    if extended:
        world.fanout(
            extended,
            session.prefix,
            "JOIN",
            channel.name,
            session.account or "*",
            session.realname,
            account=session.account,
        )


# ----------------------------------------------------------------------------- PART


def _part(world: World, session: Session, channel: Channel, reason: str | None) -> None:
    params = (channel.name, reason) if reason else (channel.name,)
    world.fanout(channel.members, session.prefix, "PART", *params)
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
        channel = world.find_channel(name)
        if channel is None:
            raise CommandError(n.ERR_NOSUCHCHANNEL, name, "No such channel")
        if channel.secret and session not in channel.members:
            raise CommandError(n.ERR_NOTONCHANNEL, channel.name, "You're not on that channel")
        send_topic(world, session, channel)
        return
    channel = _member_channel(world, session, name)
    if "t" in channel.flags and not channel.is_op(session):
        raise CommandError(n.ERR_CHANOPRIVSNEEDED, channel.name, "You're not channel operator")
    channel.topic = msg.params[1][: world.settings.limits.topic_length]
    channel.topic_set_by = session.prefix
    channel.topic_set_at = world.clock()
    world.fanout(channel.members, session.prefix, "TOPIC", channel.name, channel.topic)
    chanreg.changed(world, channel)


# ----------------------------------------------------------------------------- INVITE


@command("INVITE")
def invite(world: World, session: Session, msg: Message) -> None:
    """INVITE <nick> <channel>  |  INVITE (list my pending invitations)"""
    if not msg.params:
        for folded in sorted(session.invited):
            channel = world.channels.get(folded)
            world.reply(session, n.RPL_INVITELIST, channel.name if channel else folded)
        world.reply(session, n.RPL_ENDOFINVITELIST, "End of /INVITE list")
        return
    if len(msg.params) < 2:
        raise CommandError(n.ERR_NEEDMOREPARAMS, "INVITE", "Not enough parameters")
    nick, name = msg.params[0], msg.params[1]
    target = world.find_nick(nick)
    if target is None or not target.registered:
        raise CommandError(n.ERR_NOSUCHNICK, nick, "No such nick/channel")
    channel = _member_channel(world, session, name)
    if target in channel.members:
        raise CommandError(n.ERR_USERONCHANNEL, target.nick, channel.name, "is already on channel")
    if "i" in channel.flags and not channel.is_op(session):
        raise CommandError(n.ERR_CHANOPRIVSNEEDED, channel.name, "You're not channel operator")
    target.invited.add(world.fold(channel.name))
    world.reply(session, n.RPL_INVITING, target.nick, channel.name)
    if target.away is not None:
        world.reply(session, n.RPL_AWAY, target.nick, target.away)
    target.send(format_line(session.prefix, "INVITE", target.nick, channel.name))
    # IRCv3 invite-notify: members who could have invited too are told (ops only on +i).
    watchers = [
        member
        for member, status in channel.members.items()
        if "invite-notify" in member.caps
        and member is not session
        and ("i" not in channel.flags or "o" in status)
    ]
    world.fanout(watchers, session.prefix, "INVITE", target.nick, channel.name)


# ----------------------------------------------------------------------------- KICK


@command("KICK", min_params=2)
def kick(world: World, session: Session, msg: Message) -> None:
    """KICK <channel> <nick>{,<nick>} [:<reason>]  (room ops; server operators override)"""
    channel = world.find_channel(msg.params[0])
    if channel is None or not opers.may(world, session, "kick"):
        channel = _member_channel(world, session, msg.params[0])
        if not channel.is_op(session):
            raise CommandError(n.ERR_CHANOPRIVSNEEDED, channel.name, "You're not channel operator")
    reason = msg.params[2] if len(msg.params) > 2 and msg.params[2] else session.nick
    reason = reason[: world.settings.limits.kick_length]
    for nick in _each(msg.params[1]):
        target = world.find_nick(nick)
        if target is None:
            world.reply(session, n.ERR_NOSUCHNICK, nick, "No such nick/channel")
        elif target not in channel.members:
            world.reply(
                session,
                n.ERR_USERNOTINCHANNEL,
                target.nick,
                channel.name,
                "They aren't on that channel",
            )
        else:
            world.fanout(channel.members, session.prefix, "KICK", channel.name, target.nick, reason)
            world.leave_channel(target, channel)
            actor = sanctions.actor_name(session)
            sanctions.audit(world, actor, "channel.kick", f"{channel.name} {target.nick}", reason)
            if not channel.members and not channel.permanent:
                return  # the room is gone (an op kicked themself out of it)
