"""MARKREAD (IRCv3 ``draft/read-marker``): get or move an account's read marker.

``MARKREAD <target>`` answers ``MARKREAD <target> timestamp=...`` (``*``: none yet).
``MARKREAD <target> timestamp=YYYY-MM-DDThh:mm:ss.sssZ`` moves it forward (a time after
now counts as now) and, once the store has it, answers the stored marker and tells the
account's other connections with the capability; a time not after the stored marker
changes nothing and is answered with the stored one. Refusals (standard replies):
``NEED_MORE_PARAMS``; ``INVALID_PARAMS`` for a target that is neither a room name nor a
nick, or a timestamp not in the server-time form (``*`` included); ``INTERNAL_ERROR`` with
the target and a reason word for a guest (``ACCOUNT_REQUIRED``: markers belong to
accounts), an account at ``readmarkers.MAX_TARGETS`` (``TOO_MANY_TARGETS``) and a commit
the store refused. The state and its rules are in core/readmarkers.py.
"""

from __future__ import annotations

from chatroom.irc.masks import is_channel_name, is_valid_nick
from chatroom.irc.message import Message, format_line
from chatroom.server.core import readmarkers
from chatroom.server.core.context import Context
from chatroom.server.core.dispatch import command
from chatroom.server.core.history import parse_time
from chatroom.server.core.session import Session
from chatroom.server.store.base import PutReadMarker


def _fail(ctx: Context, session: Session, code: str, *params: str) -> None:
    session.send(format_line(ctx.name, "FAIL", "MARKREAD", code, *params))


def _valid_target(ctx: Context, target: str) -> bool:
    limits = ctx.settings.limits
    if target.startswith("#"):
        return is_channel_name(target, "#", limits.channel_length)
    return is_valid_nick(target, limits.nick_length)


def _parse(text: str) -> int | None:
    """Milliseconds from ``timestamp=<server-time>``; None for anything else."""
    kind, sep, value = text.partition("=")
    if not sep or kind.lower() != "timestamp":
        return None
    return parse_time(value)


@command("MARKREAD")
def markread(ctx: Context, session: Session, msg: Message) -> None:
    """MARKREAD <target> [timestamp=YYYY-MM-DDThh:mm:ss.sssZ]"""
    if not msg.params or not msg.params[0]:
        _fail(ctx, session, "NEED_MORE_PARAMS", "Missing parameters")
        return
    target = msg.params[0]
    if not _valid_target(ctx, target):
        _fail(ctx, session, "INVALID_PARAMS", target, "Invalid target")
        return
    if session.account is None:
        _fail(
            ctx,
            session,
            "INTERNAL_ERROR",
            target,
            "ACCOUNT_REQUIRED",
            "Read markers are kept for accounts: log in first",
        )
        return
    account_key = ctx.fold(session.account)
    folded = ctx.fold(target)
    markers = ctx.read_markers
    stored = markers.get(account_key, folded)
    if len(msg.params) == 1:
        readmarkers.send(ctx, session, target, stored)
        return
    at = _parse(msg.params[1])
    if at is None:
        _fail(ctx, session, "INVALID_PARAMS", msg.params[1], "Invalid timestamp")
        return
    at = min(at, ctx.now_ms())  # never past now
    if stored is not None and at <= stored:
        readmarkers.send(ctx, session, target, stored)  # only ever forward
        return
    if markers.full(account_key, folded):
        why = f"At most {readmarkers.MAX_TARGETS} targets have a read marker"
        _fail(ctx, session, "INTERNAL_ERROR", target, "TOO_MANY_TARGETS", why)
        return
    # In memory at once, so a move from another connection before the commit compares
    # with this one and every write the ordered writer makes is later than the last.
    markers.put(account_key, folded, at)

    def committed(error: str | None) -> None:
        if error is None:
            readmarkers.announce(ctx, account_key, target, session)
            return
        if markers.get(account_key, folded) == at:
            markers.put(account_key, folded, stored)  # take back what the store lacks
        if not session.closed:
            why = "The read timestamp could not be saved"
            _fail(ctx, session, "INTERNAL_ERROR", target, why)

    ctx.persist([PutReadMarker(account_key, folded, at / 1000)], committed)
