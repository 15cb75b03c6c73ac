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
from chatroom.irc.formatting import hidden_character
from chatroom.irc.masks import is_channel_name
from chatroom.irc.message import Message
from chatroom.server.core import chanreg, events, metadata, opers, readmarkers, sanctions
from chatroom.server.core.access import join_refusal
from chatroom.server.core.channel import Channel
from chatroom.server.core.commands import rename
from chatroom.server.core.commands.channel_queries import send_names, send_topic
from chatroom.server.core.commands.chathistory import replay_on_join
from chatroom.server.core.dispatch import CommandError, command
from chatroom.server.core.session import Session
from chatroom.server.core.world import World

# IRCv3 no-implicit-names (and its draft name): no NAMES burst after a JOIN.
NO_IMPLICIT_NAMES = frozenset({"no-implicit-names", "draft/no-implicit-names"})


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
        hidden = hidden_character(name)
        if hidden is not None:
            why = f"U+{ord(hidden):04X} is a control, formatting or invisible character"
            raise CommandError(n.ERR_BADCHANNAME, name, f"Illegal channel name: {why}")
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
        world.fanout(watchers, session.prefix, "AWAY", session.away, account=session.account)
    if channel.topic:
        send_topic(world, session, channel)
    readmarkers.joined(world, session, channel)  # draft/read-marker: before NAMES ends
    if not session.caps.intersection(NO_IMPLICIT_NAMES):
        send_names(world, session, channel)
    replay_on_join(world, session, channel)
    metadata.joined(world, session, channel)


def announce_join(world: World, channel: Channel, session: Session) -> None:
    """JOIN to every member; extended-join clients also get the account and realname."""
    events.join(world, channel, session)


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
        channel = world.find_channel(name)
        if channel is None:
            raise CommandError(n.ERR_NOSUCHCHANNEL, name, "No such channel")
        if channel.secret and session not in channel.members:
            raise CommandError(n.ERR_NOTONCHANNEL, channel.name, "You're not on that channel")
        send_topic(world, session, channel)
        return
    # Operators with the channels capability set the topic of any room, member or not
    # (the permanent #lobby has no founder to do it); each such change is audited.
    override = opers.may(world, session, "channels")
    channel = world.find_channel(name) if override else _member_channel(world, session, name)
    if channel is None:
        raise CommandError(n.ERR_NOSUCHCHANNEL, name, "No such channel")
    as_op = channel.is_op(session)
    if "t" in channel.flags and not as_op and not override:
        raise CommandError(n.ERR_CHANOPRIVSNEEDED, channel.name, "You're not channel operator")
    channel.topic = msg.params[1][: world.settings.limits.topic_length]
    channel.topic_set_by = session.prefix
    channel.topic_set_at = world.clock()
    text = channel.topic

    def announce() -> None:
        recipients = channel.members
        if session not in recipients:
            recipients = {**recipients, session: ""}  # the operator sees its change too
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
    account = session.account
    world.reply(session, n.RPL_INVITING, target.nick, channel.name)
    if target.away is not None:
        world.reply(session, n.RPL_AWAY, target.nick, target.away)
    # The invitee's copy is a message from the inviter like any other: with its
    # account-tag, server-time and msgid for clients that asked for them.
    world.fanout([target], session.prefix, "INVITE", target.nick, channel.name, account=account)
    # IRCv3 invite-notify: members who could have invited too are told (ops only on +i).
    watchers = [
        member
        for member, status in channel.members.items()
        if "invite-notify" in member.caps
        and member is not session
        and ("i" not in channel.flags or "o" in status)
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
        if channel is None or world.channels.get(key) is not channel:
            continue  # refused, or gone (an op kicked themself out of it)
        try:
            _kick_one(world, session, channel, nick, reason)
        except CommandError as err:
            world.reply(session, err.numeric, *err.params)


def _kickable_room(world: World, session: Session, room: str) -> Channel:
    """The room, if ``session`` may kick there (403, 442 or 482 otherwise)."""
    channel = world.find_channel(room)
    if channel is None or not opers.may(world, session, "kick"):
        channel = _member_channel(world, session, room)
        if not channel.is_op(session):
            raise CommandError(n.ERR_CHANOPRIVSNEEDED, channel.name, "You're not channel operator")
    return channel


def _kick_one(world: World, session: Session, channel: Channel, nick: str, reason: str) -> None:
    target = world.find_nick(nick)
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
