"""What a user missed while it had no connection, for a device that will not ask for it.

A client with draft/chathistory fetches what it missed itself (draft/read-marker tells it
where it stopped). Any other client gets it replayed when it logs in: the private messages
kept for its account while it was offline (offline messages), and for an always-on user
the lines of its rooms and its private messages since its last device left. The lines
come oldest first, at most ``accounts.missed_replay_lines`` of them (the newest), each
marked as a replay: inside a ``chathistory`` batch with its original time for clients that
have batch and server-time, else as a NOTICE from the server that starts with the time it
was said. The NOTICE that
counts them also says how many older ones the bound left out, in which conversations, and
the CHATHISTORY request that reads them (the command works without the capability).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from chatroom.irc.message import format_line
from chatroom.irc.splitting import MAX_LINE, split_text
from chatroom.server.core import replay
from chatroom.server.core.history import (
    HistoryQuery,
    HistoryRecord,
    Ref,
    TargetListing,
    format_time,
)

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
    older: dict[str, int] | None = None,
) -> None:
    """One query per conversation, in turn (each waits for the one before): BETWEEN from
    the end back to the start, so a conversation with more than ``limit`` missed lines
    gives its newest ones, as the overall bound keeps the newest. Such a conversation's
    older lines are counted (``older``), so the replay can say how many it left out."""
    target, rest = targets[0], targets[1:]
    start, end = span
    counts = {} if older is None else older
    query = HistoryQuery("BETWEEN", target, Ref(at=end), Ref(at=start), limit)

    def then() -> None:
        if session.closed:
            return
        if rest:
            _fetch(ctx, session, rest, span, limit, found, counts)
        else:
            _send(ctx, session, found, limit, counts)

    def loaded(rows: Sequence[object] | None) -> None:
        if session.closed:
            return
        got = [row for row in rows or () if type(row) is HistoryRecord]
        found.extend(got)
        if len(got) >= limit:  # maybe more before these: count them
            _count_older(ctx, session, target, got[0].msgid, start, counts, then)
        else:
            then()

    ctx.query_history(query, loaded)


def _count_older(
    ctx: Context,
    session: Session,
    target: str,
    before: str,
    start: int,
    counts: dict[str, int],
    then: Callable[[], None],
) -> None:
    """Count the missed lines of ``target`` older than msgid ``before``, a page at a time
    (only counted: they are not replayed), then call ``then``."""
    page = max(1, ctx.settings.history.chathistory_limit)
    query = HistoryQuery("BETWEEN", target, Ref(msgid=before), Ref(at=start), page)

    def loaded(rows: Sequence[object] | None) -> None:
        if session.closed:
            return
        got = [row for row in rows or () if type(row) is HistoryRecord]
        if got:
            counts[target] = counts.get(target, 0) + len(got)
        if len(got) >= page:
            _count_older(ctx, session, target, got[0].msgid, start, counts, then)
        else:
            then()

    ctx.query_history(query, loaded)


def _send(
    ctx: Context,
    session: Session,
    records: list[HistoryRecord],
    limit: int,
    older: dict[str, int],
) -> None:
    records.sort(key=lambda record: (record.at, record.msgid))
    me = "a:" + ctx.fold(session.account or "")
    names: dict[str, str] = {}
    for record in records:
        names.setdefault(record.target, _name(record, me))
    left_out = dict(older)
    for record in records[:-limit]:
        left_out[record.target] = left_out.get(record.target, 0) + 1
    records = records[-limit:]
    if not records:
        return
    ctx.notice(session, _summary(ctx, records, left_out, names))
    if replay.can_tell_replay(session):
        # One batch per conversation (a chathistory batch names one target), in order.
        groups: dict[str, list[HistoryRecord]] = {}
        for record in records:
            groups.setdefault(record.target, []).append(record)
        for lines in groups.values():
            replay.send_batch(ctx, session, "chathistory", names[lines[0].target], lines)
        return
    # What fits after ":server NOTICE nick :" (the nick may grow to the limit meanwhile,
    # so the longest is assumed); a longer line goes on in more NOTICEs, never cut.
    budget = MAX_LINE - len(f":{ctx.name} NOTICE {'n' * ctx.settings.limits.nick_length} :")
    for record in records:
        text = f"[{_clock(record.at)}] {record.target_name} <{_nick(record.source)}> {record.text}"
        for piece in split_text(text, budget):
            session.send(format_line(ctx.name, "NOTICE", session.nick, piece))


def _summary(
    ctx: Context, records: list[HistoryRecord], left_out: dict[str, int], names: dict[str, str]
) -> str:
    """How many lines follow and, when the bound left older ones out, how many, where, and
    how to read them: every one is older than the first line replayed."""
    text = f"While you were away: {len(records)} message(s)"
    if not left_out:
        return text
    where = ", ".join(f"{names.get(key, key)} {count}" for key, count in sorted(left_out.items()))
    first = records[0]
    return (
        f"{text}; {sum(left_out.values())} older message(s) left out ({where}): read them"
        f" with CHATHISTORY BEFORE <target> timestamp={format_time(first.at)}"
        f" {ctx.settings.history.chathistory_limit} (/quote CHATHISTORY ... in most clients)"
    )


def _name(record: HistoryRecord, me: str) -> str:
    """The conversation's name for its reader: the room, or the other party's nick."""
    if record.target.startswith("dm:") and record.sender != me:
        return _nick(record.source)  # the other party, as in a live message
    return record.target_name


def _nick(source: str) -> str:
    return source.split("!", 1)[0]


def _clock(at_ms: int) -> str:
    """``2026-12-04 21:05 UTC``: enough for a person to place a replayed line."""
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(at_ms / 1000))
