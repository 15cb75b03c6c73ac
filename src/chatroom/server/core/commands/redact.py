"""REDACT (IRCv3 draft/message-redaction): deleting a message after it was sent.

Rules:
- authors may delete their own messages; a guest only those sent since it connected (a
  nickname alone does not prove it is the same person who used it before). Room operators,
  and server operators with the ``channels`` capability, may delete any message in a room.
  In a private conversation only one's own messages;
- only members of a room (and those operators) may name it; anyone else gets
  ``INVALID_TARGET`` whether or not the msgid exists, so msgids cannot be probed from
  outside a room;
- the store decides, in order after every earlier write (so a line just said can be
  deleted at once): the REDACT goes out only once the message is marked deleted, to the
  members (or the two parties) that negotiated draft/message-redaction, the requester
  included. Clients without it get nothing: the spec allows a fallback NOTICE but a
  notice to a whole room for every deletion is noise. A requester without the cap is
  told by NOTICE that it is done;
- the message is never served again, by CHATHISTORY or by the replay on join; the REDACT
  itself is kept as an event for clients with both draft/event-playback and
  draft/message-redaction. Only PRIVMSG and NOTICE lines are kept, so those are what can
  be deleted (a TAGMSG gets ``UNKNOWN_MSGID``).
"""

from __future__ import annotations

from chatroom.irc.masks import is_valid_nick
from chatroom.irc.message import Message, format_line
from chatroom.server.core import events, opers
from chatroom.server.core.context import Context
from chatroom.server.core.conversations import identity, identity_of
from chatroom.server.core.dispatch import command
from chatroom.server.core.history import dm_key, format_time
from chatroom.server.core.redaction import FORBIDDEN, REDACTED, UNKNOWN, Redaction
from chatroom.server.core.session import Session

CAPABILITY = "draft/message-redaction"


@command("REDACT", min_params=2)
def redact(ctx: Context, session: Session, msg: Message) -> None:
    """REDACT <target> <msgid> [:<reason>]"""
    name, msgid = msg.params[0], msg.params[1]
    reason = msg.params[2][: ctx.settings.limits.kick_length] if len(msg.params) > 2 else ""
    mine = identity(ctx, session)
    own_since = 0 if session.account is not None else int(session.connected_at * 1000)
    if name.startswith("#"):
        channel = ctx.rooms.find(name)
        oper = opers.may(ctx, session, "channels")
        if channel is None or (session.owner not in channel.members and not oper):
            _fail(ctx, session, "INVALID_TARGET", name, f"You cannot delete messages from {name}")
            return
        key, other = ctx.fold(channel.name), ""
        moderator = oper or channel.is_op(session.owner)
        author, since = (None, 0) if moderator else (mine, own_since)
    elif is_valid_nick(name, ctx.settings.limits.nick_length):
        other = identity_of(ctx, name)
        key, author, since = dm_key(mine, other), mine, own_since
    else:
        _fail(ctx, session, "INVALID_TARGET", name, f"You cannot delete messages from {name}")
        return

    def decided(outcome: str | None) -> None:
        if outcome == REDACTED:
            _announce(ctx, session, name, key, other, msgid, reason)
        elif session.closed:
            return
        elif outcome == FORBIDDEN:
            text = "You are not authorised to delete this message"
            _fail(ctx, session, "REDACT_FORBIDDEN", name, msgid, text)
        elif outcome == UNKNOWN:
            text = "This message does not exist or is too old"
            _fail(ctx, session, "UNKNOWN_MSGID", name, msgid, text)
        else:
            text = "The message could not be deleted; try again"
            _fail(ctx, session, "UNKNOWN_ERROR", name, msgid, text)

    ctx.redact_history(Redaction(key, msgid, author, ctx.now_ms(), since), decided)


def _announce(
    ctx: Context, session: Session, name: str, key: str, other: str, msgid: str, reason: str
) -> None:
    """The message is deleted: tell those who can tell, and keep the REDACT as an event."""
    at, event_id = ctx.now_ms(), ctx.new_msgid()
    params = (msgid, reason) if reason else (msgid,)
    if other:  # a private conversation: the other party, if online, and the requester
        peer = ctx.nicks.find(name)
        shown = peer.nick if peer is not None else name
        audience = list(session.owner.conns)
        if peer is not None and peer is not session.owner:
            audience += peer.conns
    else:
        channel = ctx.rooms.get(key)
        shown = channel.name if channel is not None else name
        audience = list(channel.sessions) if channel is not None else []
        if session not in audience:
            audience.append(session)  # an operator deleting from outside the room
        ctx.history.forget(key, msgid)
    recipients = [m for m in audience if CAPABILITY in m.caps and m.registered and not m.closed]
    ctx.fanout(
        recipients,
        session.prefix,
        "REDACT",
        shown,
        *params,
        account=session.account,
        msgid=event_id,
        time_tag=format_time(at),
    )
    if CAPABILITY not in session.caps and not session.closed:
        ctx.notice(session, f"Deleted message {msgid} in {shown}")
    events.keep(
        ctx,
        key,
        shown,
        session.prefix,
        "REDACT",
        params,
        at,
        event_id,
        account=session.account,
        sender=identity(ctx, session),
        recipient=other,
    )


def _fail(ctx: Context, session: Session, code: str, *params: str) -> None:
    session.send(format_line(ctx.name, "FAIL", "REDACT", code, *params))
