"""What a connection is shown of a room: its topic and its NAMES (JOIN, NAMES, RENAME and a
device attaching to a user that is already in the room all send the same replies)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chatroom.irc import numerics as n
from chatroom.irc.message import MAX_BODY
from chatroom.irc.packing import pack_words

# IRCv3 no-implicit-names (and its draft name): no NAMES burst after a JOIN.
NO_IMPLICIT_NAMES = frozenset({"no-implicit-names", "draft/no-implicit-names"})

if TYPE_CHECKING:
    from chatroom.server.core.channel import Channel
    from chatroom.server.core.context import Context
    from chatroom.server.core.session import Session


def send_topic(ctx: Context, session: Session, channel: Channel) -> None:
    """332 + 333 when a topic is set, else 331."""
    if not channel.topic:
        ctx.reply(session, n.RPL_NOTOPIC, channel.name, "No topic is set")
        return
    ctx.reply(session, n.RPL_TOPIC, channel.name, channel.topic)
    ctx.reply(
        session,
        n.RPL_TOPICWHOTIME,
        channel.name,
        channel.topic_set_by,
        str(int(channel.topic_set_at)),
    )


def send_names(ctx: Context, session: Session, channel: Channel) -> None:
    """353 lines (each under 512 bytes) then 366, for a room ``session`` may see."""
    member = session.owner in channel.members
    multi = "multi-prefix" in session.caps
    userhost = "userhost-in-names" in session.caps
    entries: list[str] = []
    for other, _status in channel.members.items():
        if not member and "i" in other.modes:
            continue
        who = other.prefix if userhost else other.nick
        entries.append(channel.prefix_of(other, multi) + who)
    head = f":{ctx.name} {n.RPL_NAMREPLY} {session.nick} {channel.symbol} {channel.name} :"
    for line in pack_words(entries, MAX_BODY - 2 - len(head.encode())):
        ctx.reply(session, n.RPL_NAMREPLY, channel.symbol, channel.name, line)
    ctx.reply(session, n.RPL_ENDOFNAMES, channel.name, "End of /NAMES list")


def visible(channel: Channel, session: Session) -> bool:
    return not channel.secret or session.owner in channel.members
