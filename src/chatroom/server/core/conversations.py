"""Who a private line belongs to, and how a delivered message is kept in history.

Shared by the commands that deliver (PRIVMSG/NOTICE, multi-line batches, offline
messages), that read (CHATHISTORY) and that delete (REDACT), so none of them imports
another.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from chatroom.server.core.history import HistoryRecord

if TYPE_CHECKING:
    from chatroom.server.core.session import Session
    from chatroom.server.core.users import User
    from chatroom.server.core.world import World


def identity(world: World, session: Session | User) -> str:
    """Who a private line belongs to: the account when logged in, else the nickname."""
    if session.account is not None:
        return "a:" + world.fold(session.account)
    return "n:" + world.fold(session.nick)


def identity_of(world: World, nick: str) -> str:
    """The identity behind ``nick``: online now, or an account of that name, or the nick."""
    other = world.nicks.find(nick)
    if other is not None and other.registered:
        return identity(world, other)
    folded = world.fold(nick)
    return ("a:" if folded in world.accounts else "n:") + folded


# ----------------------------------------------------------------------------- storing


def store_message(
    world: World,
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
    world.record_message(
        HistoryRecord(
            target=target,
            msgid=msgid,
            at=at,
            sender=identity(world, user),
            recipient=recipient,
            source=user.prefix,
            command=verb,
            target_name=target_name,
            text=text,
            account=user.account,
            tags=tuple(tags.items()),
        )
    )
