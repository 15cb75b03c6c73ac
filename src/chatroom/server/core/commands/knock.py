"""KNOCK: ask a closed room's operators for an invite.

Rules (InspIRCd's and ircd-ratbox's KNOCK; numerics 710-714):
- ``KNOCK <#room> [:<text>]`` from someone outside a room they cannot simply join (JOIN's
  own rules, ``access.join_refusal``: invite-only +i, a key +k, full +l, accounts only
  +R without one). An open room answers ``713``; a member gets ``714``; someone the room bans
  gets ``474`` (a ban is the ops' answer already);
- the room's operators (every device) get ``710 <op> <#room> <nick!user@host> :has asked
  for an invite[: <text>]``; the knocker gets ``711``; an operator then uses INVITE; an
  operator whose SILENCE matches the knocker gets nothing (the knock's text is a message
  from the knocker), the knocker still ``711``;
- bounded: one knock per requester (account, else address group, as every per-address
  limit) and room a minute, and one per room every few seconds whoever knocks, ``712``
  otherwise, so knocking cannot flood a room's operators; the record (at most a minute's
  worth, a dozen entries) is pruned on every knock.
"""

from __future__ import annotations

from chatroom.irc import numerics as n
from chatroom.irc.message import Message
from chatroom.server.core import admission
from chatroom.server.core.access import is_banned, join_refusal, silences
from chatroom.server.core.channel import Channel
from chatroom.server.core.context import Context
from chatroom.server.core.dispatch import CommandError, command
from chatroom.server.core.session import Session

PER_REQUESTER = 60.0  # seconds between two knocks of one requester on one room
PER_ROOM = 5.0  # seconds between two knocks on one room, whoever knocks
TEXT_LIMIT = 200  # characters of the knock's text passed on to the operators


@command("KNOCK", min_params=1)
def knock(ctx: Context, session: Session, msg: Message) -> None:
    """KNOCK <#room> [:<text>]

    Ask the operators of an invite-only, keyed, full or accounts-only room to invite you.
    """
    name = msg.params[0]
    channel = ctx.rooms.find(name)
    if channel is None or (channel.secret and session.owner not in channel.members):
        raise CommandError(n.ERR_NOSUCHCHANNEL, name, "No such channel")
    if session.owner in channel.members:
        raise CommandError(n.ERR_KNOCKONCHAN, channel.name, "You are already on that channel")
    if join_refusal(ctx, channel, session, None) is None:  # the same rules as JOIN
        raise CommandError(n.ERR_CHANOPEN, channel.name, "Channel is open, just join it")
    if is_banned(ctx, channel, session):  # whatever else keeps it closed
        raise CommandError(n.ERR_BANNEDFROMCHAN, channel.name, "Cannot knock on channel (+b)")
    _count(ctx, channel, session)
    text = msg.params[1][:TEXT_LIMIT] if len(msg.params) > 1 and msg.params[1] else ""
    asked = "has asked for an invite" + (f": {text}" if text else "")
    for member, status in channel.members.items():
        if "o" in status and not silences(ctx, session, member):
            for conn in member.conns:
                ctx.reply(conn, n.RPL_KNOCK, channel.name, session.prefix, asked)
    ctx.reply(session, n.RPL_KNOCKDLVR, channel.name, "Your KNOCK has been delivered")


def _count(ctx: Context, channel: Channel, session: Session) -> None:
    """Note the knock, or raise 712 if it comes too soon after another."""
    now = ctx.clock()
    knocks = channel.knocks if channel.knocks is not None else {}
    for who in [who for who, at in knocks.items() if now - at >= PER_REQUESTER]:
        del knocks[who]
    if session.account:
        requester = f"a:{ctx.fold(session.account)}"
    else:
        requester = "ip:" + admission.address_group(ctx, session.ip)  # an IPv6 /64 is one
    if requester in knocks:
        raise CommandError(n.ERR_TOOMANYKNOCK, channel.name, "Too many KNOCKs (user)")
    if knocks and now - max(knocks.values()) < PER_ROOM:
        raise CommandError(n.ERR_TOOMANYKNOCK, channel.name, "Too many KNOCKs (channel)")
    knocks[requester] = now
    channel.knocks = knocks
