"""Looking at rooms without changing them: NAMES and LIST, and the replies JOIN reuses.

Visibility rules (modern.ircdocs.horse, as InspIRCd and Ergo apply them): a secret (+s)
room is invisible to non-members, and invisible (+i) users are left out of the NAMES of a
room the asker is not in.
"""

from __future__ import annotations

from chatroom.irc import numerics as n
from chatroom.irc.message import MAX_BODY, Message
from chatroom.irc.packing import pack_words
from chatroom.server.core.channel import Channel
from chatroom.server.core.dispatch import command
from chatroom.server.core.session import Session
from chatroom.server.core.world import World


def send_topic(world: World, session: Session, channel: Channel) -> None:
    """332 + 333 when a topic is set, else 331."""
    if not channel.topic:
        world.reply(session, n.RPL_NOTOPIC, channel.name, "No topic is set")
        return
    world.reply(session, n.RPL_TOPIC, channel.name, channel.topic)
    world.reply(
        session,
        n.RPL_TOPICWHOTIME,
        channel.name,
        channel.topic_set_by,
        str(int(channel.topic_set_at)),
    )


def send_names(world: World, session: Session, channel: Channel) -> None:
    """353 lines (each under 512 bytes) then 366, for a room ``session`` may see."""
    member = session in channel.members
    multi = "multi-prefix" in session.caps
    userhost = "userhost-in-names" in session.caps
    entries: list[str] = []
    for other, _status in channel.members.items():
        if not member and "i" in other.modes:
            continue
        who = other.prefix if userhost else other.nick
        entries.append(channel.prefix_of(other, multi) + who)
    head = f":{world.name} {n.RPL_NAMREPLY} {session.nick} {channel.symbol} {channel.name} :"
    for line in pack_words(entries, MAX_BODY - 2 - len(head.encode())):
        world.reply(session, n.RPL_NAMREPLY, channel.symbol, channel.name, line)
    world.reply(session, n.RPL_ENDOFNAMES, channel.name, "End of /NAMES list")


def visible(channel: Channel, session: Session) -> bool:
    return not channel.secret or session in channel.members


@command("NAMES")
def names(world: World, session: Session, msg: Message) -> None:
    """NAMES [<channel>{,<channel>}]"""
    if not msg.params or not msg.params[0]:
        world.reply(session, n.RPL_ENDOFNAMES, "*", "End of /NAMES list")
        return
    for name in msg.params[0].split(","):
        if not name:
            continue
        channel = world.find_channel(name)
        if channel is None or not visible(channel, session):
            world.reply(session, n.RPL_ENDOFNAMES, name, "End of /NAMES list")
        else:
            send_names(world, session, channel)


def _parse_list_args(text: str) -> tuple[list[str], int | None, int | None]:
    """Channel names and the ELIST U filters: ``>n`` more than n users, ``<n`` fewer."""
    wanted: list[str] = []
    more_than: int | None = None
    fewer_than: int | None = None
    for token in text.split(","):
        if token[:1] in "<>" and token[1:].isdigit():
            if token[0] == ">":
                more_than = int(token[1:])
            else:
                fewer_than = int(token[1:])
        elif token:
            wanted.append(token)
    return wanted, more_than, fewer_than


@command("LIST")
def list_(world: World, session: Session, msg: Message) -> None:
    """LIST [<channel>{,<channel>}|<elistcond>{,<elistcond>}]"""
    wanted, more_than, fewer_than = _parse_list_args(msg.params[0] if msg.params else "")
    if wanted:
        found = (world.find_channel(name) for name in wanted)
        channels = [c for c in found if c is not None]
    else:
        channels = list(world.channels.values())
    world.reply(session, n.RPL_LISTSTART, "Channel", "Users  Name")
    for channel in channels:
        count = len(channel.members)
        if not visible(channel, session):
            continue
        if more_than is not None and count <= more_than:
            continue
        if fewer_than is not None and count >= fewer_than:
            continue
        world.reply(session, n.RPL_LIST, channel.name, str(count), channel.topic)
    world.reply(session, n.RPL_LISTEND, "End of /LIST")
