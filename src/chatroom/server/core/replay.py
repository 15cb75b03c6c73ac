"""Replay on join: the last lines of a room for a client that will not ask with CHATHISTORY.

Rules (issue 12: replayed history must never look live):
- only a client that can tell a replay from live traffic gets one: it has ``batch`` and
  ``server-time``, so the lines come inside a ``chathistory`` batch, each with its original
  time. Anyone else gets nothing: a bot without batch support would answer an old
  ``!ping`` again, and a client without server-time would show old lines as new;
- a client with ``draft/chathistory`` gets nothing either: it asks for what it wants;
- a reader never gets a line it already received. A reader is an account (all its
  connections together: what one device got, the account has seen) or, for a guest, the
  one connection. ``HistoryState.seen`` holds, per reader and room, the last line the
  reader got there; it is set when the reader leaves the room (it received everything
  live until then) and after each replay. Only newer lines are replayed; while another
  connection of the account is in the room, nothing is. An account's record covers
  the ``history.SEEN_ROOMS`` rooms it left last; elsewhere it counts as after a restart
  (below);
- the record is in memory only. After a restart an account counts as having seen every
  line said before the server started (it may well have: it was connected until the
  shutdown), so a restart never replays old lines a second time; what an account really
  missed before the restart it can still read with CHATHISTORY. A guest's record ends
  with its connection.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from chatroom.irc.message import format_line
from chatroom.server.core import events, multiline
from chatroom.server.core.history import EventRecord, HistoryRecord, format_time
from chatroom.server.core.session import TagProfile

if TYPE_CHECKING:
    from chatroom.server.core.channel import Channel
    from chatroom.server.core.context import Context
    from chatroom.server.core.session import Session


def reader(ctx: Context, session: Session) -> str:
    """Whose record of seen lines a session reads and writes."""
    if session.account is not None:
        return "a:" + ctx.fold(session.account)
    return f"s:{session.id}"


def can_tell_replay(session: Session) -> bool:
    """A client that sees a replay inside a chathistory batch, with the original times."""
    caps = session.caps
    return "batch" in caps and "server-time" in caps and "draft/chathistory" not in caps


def left_room(ctx: Context, session: Session, room: str) -> None:
    """``session`` leaves room ``room`` (folded): it got every line said there so far.

    Kept for every account (another of its connections may get a replay later), and for
    a guest connection only if it could ever get one.
    """
    if session.account is not None or can_tell_replay(session):
        ctx.history.saw_all(reader(ctx, session), room)


def connection_closed(ctx: Context, session: Session) -> None:
    """A guest connection is gone, and its record with it (an account's stays)."""
    ctx.history.forget_reader(f"s:{session.id}")


def unseen_lines(ctx: Context, session: Session, channel: Channel) -> list[HistoryRecord]:
    """The lines of ``channel`` to replay to ``session`` now, oldest first (maybe none).

    Marks them seen: the caller sends them.
    """
    room = ctx.fold(channel.name)
    ring = ctx.history.recent.get(room)
    if not ring or not can_tell_replay(session):
        return []
    me = reader(ctx, session)
    lines: Sequence[HistoryRecord] = ring
    if session.account is not None and any(
        member.account == session.account and member is not session.owner
        for member in channel.members
    ):
        lines = []  # another connection of the account is here: it has seen everything
    else:
        seen = ctx.history.seen.get(me, {}).get(room)
        if seen is not None:
            lines = _after(ring, seen)
        elif session.account is not None:
            started = int(ctx.started_at * 1000)
            lines = [record for record in ring if record.at >= started]
    ctx.history.saw_all(me, room)
    days = ctx.settings.history.retention_days
    oldest = ctx.now_ms() - days * 86_400_000 if days > 0 else 0
    return [record for record in lines if record.at >= oldest]


def replay_on_join(ctx: Context, session: Session, channel: Channel) -> None:
    """The room's lines this client has not received yet, if it can tell them from live
    ones (the rules above), with the room's events for event-playback clients."""
    lines = unseen_lines(ctx, session, channel)
    if lines:
        ring = ctx.history.events.get(ctx.fold(channel.name))
        lines = events.with_events(session, ring, lines)
        send_batch(ctx, session, "chathistory", channel.name, lines)


def _after(ring: Sequence[HistoryRecord], seen: tuple[int, str]) -> list[HistoryRecord]:
    """The records after the seen one; if it has left the ring, those later than it."""
    at, msgid = seen
    records = list(ring)
    for index in range(len(records) - 1, -1, -1):
        if records[index].msgid == msgid:
            return records[index + 1 :]
    return [record for record in records if record.at > at]


def record_line(session: Session, record: HistoryRecord, batch: str | None) -> bytes:
    """A stored line as ``session`` would have seen it live, plus its batch tag."""
    tags: dict[str, str] = {}
    if batch is not None:
        tags["batch"] = batch
    profile = session.tag_profile
    if profile & TagProfile.MESSAGE_TAGS:
        tags.update(record.tags)
        tags["msgid"] = record.msgid
    if profile & TagProfile.SERVER_TIME:
        tags["time"] = format_time(record.at)
    if profile & TagProfile.ACCOUNT and record.account is not None:
        tags["account"] = record.account
    if isinstance(record, EventRecord):
        return events.event_line(session, record, tags)
    return format_line(record.source, record.command, record.target_name, record.text, tags=tags)


def send_batch(
    ctx: Context, session: Session, kind: str, name: str, lines: Sequence[HistoryRecord]
) -> None:
    """Stored lines in one ``kind`` batch (when the client has batch), as first sent."""
    batch = ctx.new_msgid() if "batch" in session.caps else None
    if batch is not None:
        session.send(format_line(ctx.name, "BATCH", "+" + batch, kind, name))
    for record in lines:
        composed = multiline.history_lines_of(record)
        if composed is None:
            session.send(record_line(session, record, batch))
        else:  # a draft/multiline message: a nested batch, or its lines one by one
            ref = "M" + ctx.new_msgid()
            for line in multiline.history_form(session, record, composed, batch, ref):
                session.send(line)
    if batch is not None:
        session.send(format_line(ctx.name, "BATCH", "-" + batch))
