"""Who a private line belongs to, and how a delivered message is kept in history.

Shared by the commands that deliver (PRIVMSG/NOTICE, multi-line batches, offline
messages), that read (CHATHISTORY) and that delete (REDACT), so none of them imports
another.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from chatroom.server.core.history import new_record

if TYPE_CHECKING:
    from chatroom.server.core.context import Context
    from chatroom.server.core.session import Session
    from chatroom.server.core.users import User


def identity(ctx: Context, session: Session | User) -> str:
    """Who a private line belongs to: the account when logged in, else the nickname."""
    if session.account is not None:
        return "a:" + ctx.fold(session.account)
    return "n:" + ctx.fold(session.nick)


def identity_of(ctx: Context, nick: str) -> str:
    """The identity behind ``nick``: online now, or an account of that name, or the nick."""
    other = ctx.nicks.find(nick)
    if other is not None and other.registered:
        return identity(ctx, other)
    folded = ctx.fold(nick)
    return ("a:" if folded in ctx.accounts else "n:") + folded


# ----------------------------------------------------------------------------- storing


def store_message(
    ctx: Context,
    session: Session,
    verb: str,
    target: str,
    recipient: str,
    target_name: str,
    text: str,
    tags: dict[str, str],
    msgid: str,
    at: int,
) -> None:
    """Record one delivered PRIVMSG/NOTICE (CTCP requests and replies, except ACTION, are
    machine traffic and are not kept)."""
    if text[:1] == "\x01" and not text.startswith("\x01ACTION"):
        return
    user = session.owner
    ctx.record_message(
        new_record(
            target,
            msgid,
            at,
            identity(ctx, user),
            recipient,
            user.prefix,
            verb,
            target_name,
            text,
            user.account,
            tuple(tags.items()) if tags else (),
        )
    )
