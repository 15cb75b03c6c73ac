"""CHATHISTORY (IRCv3 draft/chathistory): reading what was said.

Rules:
- only rooms the requester is in, and its own private conversations, can be read; anything
  else is ``FAIL CHATHISTORY INVALID_TARGET``, whether or not it exists, so a request never
  reveals a room's existence;
- a guest (no account) reads private lines only from its own connection onward: a nickname
  alone does not prove it is the same person who used it yesterday;
- the answer is one ``chathistory`` batch (empty when nothing matched) with each line's
  original msgid and time; the request is answered after the store has written every line
  queued before it, so what was just said is always found;
- the request's label (labeled-response) is taken and put on the answer when it arrives;
- clients without draft/chathistory get the room's lines they have not received yet
  replayed when they join instead (``replay.replay_on_join``, called by JOIN).
"""

from __future__ import annotations

from collections.abc import Sequence

from chatroom.irc.masks import is_valid_nick
from chatroom.irc.message import Message, format_line
from chatroom.server.core import events, replay
from chatroom.server.core.context import Context
from chatroom.server.core.conversations import identity, identity_of
from chatroom.server.core.dispatch import command
from chatroom.server.core.history import (
    SUBCOMMANDS,
    HistoryQuery,
    HistoryRecord,
    Ref,
    TargetListing,
    dm_key,
    format_time,
    parse_ref,
)
from chatroom.server.core.session import Session


class _Refused(Exception):  # noqa: N818 (a refusal, carried to one reply)
    def __init__(self, code: str, *params: str) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


# ----------------------------------------------------------------------------- CHATHISTORY


@command("CHATHISTORY")
def chathistory(ctx: Context, session: Session, msg: Message) -> None:
    """CHATHISTORY <LATEST|BEFORE|AFTER|AROUND> <target> <ref|*> <limit>
    | CHATHISTORY BETWEEN <target> <ref> <ref> <limit>
    | CHATHISTORY TARGETS <timestamp> <timestamp> <limit>"""
    sub = msg.params[0].upper() if msg.params else ""
    try:
        query, name = _parse(ctx, session, sub, msg.params[1:])
    except _Refused as fail:
        session.send(format_line(ctx.name, "FAIL", "CHATHISTORY", fail.code, *fail.params))
        return

    def loaded(rows: Sequence[object] | None) -> None:
        # The connection's later lines wait for this answer (replies in order), so at most
        # one query per connection is in flight, and a label stays with its answer.
        if not session.closed:
            _answer(ctx, session, query, name, rows)

    ctx.query_history(query, loaded)


def _answer(
    ctx: Context,
    session: Session,
    query: HistoryQuery,
    name: str,
    rows: Sequence[object] | None,
) -> None:
    if rows is None:
        session.send(
            format_line(
                ctx.name,
                "FAIL",
                "CHATHISTORY",
                "MESSAGE_ERROR",
                query.kind,
                name,
                "Messages could not be retrieved",
            )
        )
        return
    if query.kind != "TARGETS":
        records = [row for row in rows if isinstance(row, HistoryRecord)]
        replay.send_batch(ctx, session, "chathistory", name, records)
        return
    batch = ctx.new_msgid() if "batch" in session.caps else None
    tags = {"batch": batch} if batch is not None else None
    if batch is not None:
        session.send(format_line(ctx.name, "BATCH", "+" + batch, "draft/chathistory-targets"))
    for row in rows:
        if isinstance(row, TargetListing):
            shown = row.name
            channel = session.channels.get(row.target)
            if channel is not None:
                shown = channel.name
            session.send(
                format_line(
                    ctx.name, "CHATHISTORY", "TARGETS", shown, format_time(row.at), tags=tags
                )
            )
    if batch is not None:
        session.send(format_line(ctx.name, "BATCH", "-" + batch))


def _parse(
    ctx: Context, session: Session, sub: str, params: Sequence[str]
) -> tuple[HistoryQuery, str]:
    """Check a request and resolve its target; raises ``_Refused`` with the reply code."""
    if not sub:  # a FAIL too, not 461: the spec's answer to missing parameters
        raise _Refused("NEED_MORE_PARAMS", "*", "Not enough parameters")
    if sub not in SUBCOMMANDS:
        raise _Refused("UNKNOWN_COMMAND", sub, "Unknown CHATHISTORY subcommand")
    needed = 4 if sub == "BETWEEN" else 3
    if len(params) < needed:
        raise _Refused("NEED_MORE_PARAMS", sub, "Not enough parameters")
    limit = _limit(ctx, sub, params[needed - 1])
    if sub == "TARGETS":
        first, second = parse_ref(params[0]), parse_ref(params[1])
        if first is None or second is None or first.at is None or second.at is None:
            raise _Refused("INVALID_PARAMS", sub, "TARGETS takes two timestamp= references")
        me = identity(ctx, session)
        query = HistoryQuery(
            kind=sub,
            target="",
            first=first,
            second=second,
            limit=limit,
            since=_private_since(session),
            channels=tuple(session.channels),
            identity=me,
        )
        return query, "*"
    name = params[0]
    key, since = _target_key(ctx, session, sub, name)
    first = _ref(sub, params[1], allow_star=sub == "LATEST")
    second = _ref(sub, params[2], allow_star=False) if sub == "BETWEEN" else None
    query = HistoryQuery(sub, key, first, second, limit, since=since, events=events.wanted(session))
    return query, name


def _limit(ctx: Context, sub: str, text: str) -> int:
    """The requested count, capped at the advertised CHATHISTORY limit (0 asks for it)."""
    if not (text.isascii() and text.isdigit()):
        raise _Refused("INVALID_PARAMS", sub, text, "The limit must be a whole number")
    most = ctx.settings.history.chathistory_limit
    limit = int(text)
    return most if limit == 0 or limit > most else limit


def _ref(sub: str, text: str, *, allow_star: bool) -> Ref | None:
    if allow_star and text == "*":
        return None
    ref = parse_ref(text)
    if ref is None:
        raise _Refused("INVALID_PARAMS", sub, text, "Use msgid=<id> or timestamp=<time>")
    return ref


def _private_since(session: Session) -> int:
    """Guests see private lines from their own connection onward; accounts see them all."""
    return 0 if session.account is not None else int(session.connected_at * 1000)


def _target_key(ctx: Context, session: Session, sub: str, name: str) -> tuple[str, int]:
    """The conversation key of a room the requester is in, or of a private conversation."""
    refused = _Refused("INVALID_TARGET", sub, name, "Messages could not be retrieved")
    if name.startswith("#"):
        channel = ctx.rooms.find(name)
        if channel is None or session.owner not in channel.members:
            raise refused
        return ctx.fold(channel.name), 0
    if not is_valid_nick(name, ctx.settings.limits.nick_length):
        raise refused
    key = dm_key(identity(ctx, session), identity_of(ctx, name))
    return key, _private_since(session)
