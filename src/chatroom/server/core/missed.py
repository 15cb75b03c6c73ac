"""What a user missed while it had no connection, for a device that will not ask for it.

A client with draft/chathistory fetches what it missed itself (draft/read-marker tells it
where it stopped). Any other client gets it replayed when it logs in: the private messages
sent to its account since it was last seen (offline messages), and for an always-on user
also the lines of its rooms. The lines come oldest first, at most
``accounts.missed_replay_lines`` of them (the newest), each marked as a replay: inside a
``chathistory`` batch with its original time for clients that have batch and server-time,
else as a NOTICE from the server that starts with the time it was said.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from chatroom.irc.message import format_line
from chatroom.irc.splitting import MAX_LINE, split_text
from chatroom.server.core import replay
from chatroom.server.core.history import HistoryQuery, HistoryRecord, Ref, TargetListing

if TYPE_CHECKING:
    from chatroom.server.core.context import Context
    from chatroom.server.core.session import Session


def replay_missed(ctx: Context, session: Session, since: float, rooms: bool) -> None:
    """Replay to ``session`` what its account received after ``since`` (unix seconds):
    private messages, and the user's rooms' lines too when ``rooms``."""
    limit = ctx.settings.accounts.missed_replay_lines
    if limit <= 0 or session.account is None or "draft/chathistory" in session.caps:
        return
    key = ctx.fold(session.account)
    # Lines strictly after the millisecond it left: one said in that same millisecond
    # may have reached it live, and a line is better missed there than shown twice.
    start = round(since * 1000)
    channels = tuple(session.channels) if rooms else ()
    end = ctx.now_ms() + 1
    listing = HistoryQuery(
        kind="TARGETS",
        target="",
        first=Ref(at=start),
        second=Ref(at=end),
        limit=ctx.settings.history.chathistory_limit,
        channels=channels,
        identity="a:" + key,
    )

    def listed(rows: Sequence[object] | None) -> None:
        targets = [row.target for row in rows or () if isinstance(row, TargetListing)]
        if targets and not session.closed:
            _fetch(ctx, session, targets, (start, end), limit, [])

    ctx.query_history(listing, listed)


def _fetch(
    ctx: Context,
    session: Session,
    targets: list[str],
    span: tuple[int, int],
    limit: int,
    found: list[HistoryRecord],
) -> None:
    """One query per conversation, in turn (each waits for the one before): BETWEEN from
    the end back to the start, so a conversation with more than ``limit`` missed lines
    gives its newest ones, as the overall bound keeps the newest."""
    target, rest = targets[0], targets[1:]
    start, end = span
    query = HistoryQuery("BETWEEN", target, Ref(at=end), Ref(at=start), limit)

    def loaded(rows: Sequence[object] | None) -> None:
        if session.closed:
            return
        found.extend(row for row in rows or () if type(row) is HistoryRecord)
        if rest:
            _fetch(ctx, session, rest, span, limit, found)
        else:
            _send(ctx, session, found, limit)

    ctx.query_history(query, loaded)


def _send(ctx: Context, session: Session, records: list[HistoryRecord], limit: int) -> None:
    records.sort(key=lambda record: (record.at, record.msgid))
    records = records[-limit:]
    if not records:
        return
    ctx.notice(session, f"While you were away: {len(records)} message(s)")
    me = "a:" + ctx.fold(session.account or "")
    if replay.can_tell_replay(session):
        # One batch per conversation (a chathistory batch names one target), in order.
        groups: dict[str, list[HistoryRecord]] = {}
        for record in records:
            groups.setdefault(record.target, []).append(record)
        for key, lines in groups.items():
            name = lines[0].target_name
            if key.startswith("dm:") and lines[0].sender != me:
                name = _nick(lines[0].source)  # the other party, as in a live message
            replay.send_batch(ctx, session, "chathistory", name, lines)
        return
    # What fits after ":server NOTICE nick :" (the nick may grow to the limit meanwhile,
    # so the longest is assumed); a longer line goes on in more NOTICEs, never cut.
    budget = MAX_LINE - len(f":{ctx.name} NOTICE {'n' * ctx.settings.limits.nick_length} :")
    for record in records:
        text = f"[{_clock(record.at)}] {record.target_name} <{_nick(record.source)}> {record.text}"
        for piece in split_text(text, budget):
            session.send(format_line(ctx.name, "NOTICE", session.nick, piece))


def _nick(source: str) -> str:
    return source.split("!", 1)[0]


def _clock(at_ms: int) -> str:
    """``2026-12-04 21:05 UTC``: enough for a person to place a replayed line."""
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(at_ms / 1000))
