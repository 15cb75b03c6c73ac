"""Message history in the core: the records, the queries, and the last lines of each room.

Rules of this module (pure: no I/O, no clock; callers pass times in):
- one record per message, never per recipient, made where the message is fanned out;
- times are integer milliseconds since the epoch, the precision of a server-time tag, so a
  timestamp a client copies from a tag selects exactly the message it came from;
- a conversation has one key: the folded room name, or ``dm:`` and the two parties'
  identities (account when logged in, else nickname) sorted, so both sides find it;
- ``select`` is the reference meaning of every CHATHISTORY subcommand; the in-memory store
  runs it directly and the SQLite store translates it to SQL, and one contract test suite
  holds both to it;
- the core keeps the last ``replay_lines`` lines of each room in memory (``recent``) so a
  join replays them at once, in order with live traffic, without waiting for the disk;
- it also keeps, per reader (account, or one guest connection) and room, the last line
  that reader got there (``seen``), so a replay never repeats one (see ``core/replay.py``).
- room events (JOIN, PART, QUIT, KICK, MODE, TOPIC, NICK, REDACT) are ``EventRecord``s in
  the same conversations, kept apart in the rings (``events``) so a burst of joins never
  pushes messages out of the replay; a query returns them only when it names them
  (``HistoryQuery.events``, for draft/event-playback clients);
- a deleted (redacted) message keeps its place, so a msgid reference to it still works,
  but it is never returned again.
"""

from __future__ import annotations

import calendar
import time
from collections import deque
from collections.abc import Callable, Container, Iterable, Sequence
from dataclasses import dataclass, field, replace

__all__ = [
    "EVENT_COMMANDS",
    "MESSAGE_COMMANDS",
    "EventRecord",
    "HistoryQuery",
    "HistoryRecord",
    "HistoryState",
    "Ref",
    "TargetListing",
    "dm_key",
    "format_time",
    "new_record",
    "number_record",
    "parse_ref",
    "parse_time",
    "select",
    "select_targets",
]

SUBCOMMANDS = ("LATEST", "BEFORE", "AFTER", "AROUND", "BETWEEN", "TARGETS")
MESSAGE_COMMANDS = frozenset({"PRIVMSG", "NOTICE"})
# What draft/event-playback clients get besides messages (REDACT: with message-redaction).
EVENT_COMMANDS = ("JOIN", "PART", "QUIT", "KICK", "MODE", "TOPIC", "NICK")


@dataclass(frozen=True, slots=True)
class HistoryRecord:
    """One stored PRIVMSG or NOTICE, exactly as it was first delivered."""

    target: str  # conversation key: folded room name, or dm_key(...)
    msgid: str
    at: int  # milliseconds since the epoch (the server-time it was sent with)
    sender: str  # identity of the sender (see ``identity`` in commands/chathistory.py)
    recipient: str  # identity of the recipient of a private message; "" for a room
    source: str  # nick!user@host as the recipients saw it
    command: str  # PRIVMSG or NOTICE
    target_name: str  # the room name or recipient nick, as delivered
    text: str
    account: str | None = None
    tags: tuple[tuple[str, str], ...] = ()  # client-only tags (+typing, ...) and "bot"
    # Its place in the network's order, set on cluster nodes
    # (shell_requests._batch_record), where several nodes write: stored as the row id,
    # so "id order" is the log's order there too. 0: the database numbers rows as they
    # come (one server writes them in order).
    order: int = 0


# Building a frozen dataclass through __init__ costs an object.__setattr__ per field
# (about 1.6 µs for a record, one per message). ``new_record`` writes the slots directly
# through their descriptors instead (0.65 µs); the result is an ordinary HistoryRecord.
_new_object = object.__new__
_record_slots = HistoryRecord.__dict__
_set_target = _record_slots["target"].__set__
_set_msgid = _record_slots["msgid"].__set__
_set_at = _record_slots["at"].__set__
_set_sender = _record_slots["sender"].__set__
_set_recipient = _record_slots["recipient"].__set__
_set_source = _record_slots["source"].__set__
_set_command = _record_slots["command"].__set__
_set_target_name = _record_slots["target_name"].__set__
_set_text = _record_slots["text"].__set__
_set_account = _record_slots["account"].__set__
_set_tags = _record_slots["tags"].__set__
_set_order = _record_slots["order"].__set__


def new_record(
    target: str,
    msgid: str,
    at: int,
    sender: str,
    recipient: str,
    source: str,
    command: str,
    target_name: str,
    text: str,
    account: str | None,
    tags: tuple[tuple[str, str], ...],
) -> HistoryRecord:
    """``HistoryRecord(...)`` with every field given (``order`` 0), for the message path."""
    record: HistoryRecord = _new_object(HistoryRecord)
    _set_target(record, target)
    _set_msgid(record, msgid)
    _set_at(record, at)
    _set_sender(record, sender)
    _set_recipient(record, recipient)
    _set_source(record, source)
    _set_command(record, command)
    _set_target_name(record, target_name)
    _set_text(record, text)
    _set_account(record, account)
    _set_tags(record, tags)
    _set_order(record, 0)
    return record


def number_record(record: HistoryRecord, order: int) -> None:
    """Give a record just made, not yet shared with anyone, its place in the network's
    order (``HistoryRecord.order``; cluster nodes, ``shell_requests._batch_record``)."""
    _set_order(record, order)


@dataclass(frozen=True, slots=True)
class EventRecord(HistoryRecord):
    """One stored room event (a JOIN, PART, QUIT, KICK, MODE, TOPIC, NICK or REDACT line).

    A subclass, so a PRIVMSG's record costs exactly what it did before events existed.
    ``text`` is empty; ``params`` are the line's parameters after the room name (after the
    command for QUIT and NICK, which name no room; a JOIN keeps the account and realname
    that extended-join clients see). ``sender`` is the actor's identity where one matters
    (REDACT), else "".
    """

    params: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Ref:
    """A message reference from a CHATHISTORY request: ``msgid=...`` or ``timestamp=...``."""

    msgid: str | None = None
    at: int | None = None


@dataclass(frozen=True, slots=True)
class HistoryQuery:
    """One CHATHISTORY request, checked and resolved to conversation keys by the core."""

    kind: str  # one of SUBCOMMANDS
    target: str  # conversation key ("" for TARGETS)
    first: Ref | None  # None only for LATEST *
    second: Ref | None  # BETWEEN and TARGETS only
    limit: int
    since: int = 0  # never return a private line older than this (guests: their connect)
    channels: tuple[str, ...] = ()  # TARGETS: the room keys the requester is in
    identity: str = ""  # TARGETS: whose private conversations to list
    events: tuple[str, ...] = ()  # event commands to return besides PRIVMSG and NOTICE


@dataclass(frozen=True, slots=True)
class TargetListing:
    """One line of a TARGETS answer: a conversation and the time of its latest message."""

    target: str
    name: str  # room name, or the other party's nick for a private conversation
    at: int


def dm_key(one: str, other: str) -> str:
    """The conversation key of a private conversation, the same from both sides."""
    first, second = sorted((one, other))
    return f"dm:{first} {second}"


# ----------------------------------------------------------------------------- timestamps

# (second, its formatted form), replaced whole so another thread never sees half of it.
_last_second: tuple[int | None, str] = (None, "")
# ".000Z" to ".999Z": a lookup instead of formatting three digits per message.
_MILLIS = tuple(f".{millis:03d}Z" for millis in range(1000))


def format_time(ms: int) -> str:
    """The server-time form (``2026-01-02T03:04:05.678Z``) of a millisecond timestamp.

    The whole-second part is cached: every message of a busy second shares it, which keeps
    the per-message cost of tagging every message with its time small.
    """
    global _last_second
    seconds, millis = divmod(ms, 1000)
    last = _last_second
    if last[0] != seconds:
        last = _last_second = (seconds, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)))
    return last[1] + _MILLIS[millis]


def parse_time(text: str) -> int | None:
    """Milliseconds from an ISO 8601 UTC timestamp as server-time writes it; None if not one.

    Fractional seconds are optional and may have any number of digits (extra digits are
    cut, not rounded, so a copied tag value maps back to the same millisecond).
    """
    if not text.endswith("Z") or len(text) < 20 or text[10] != "T":
        return None
    whole, _, fraction = text[:-1].partition(".")
    try:
        parsed = time.strptime(whole, "%Y-%m-%dT%H:%M:%S")
    except ValueError:
        return None
    if fraction and not (fraction.isascii() and fraction.isdigit()):
        return None
    millis = int((fraction + "000")[:3]) if fraction else 0
    return calendar.timegm(parsed) * 1000 + millis


def parse_ref(text: str) -> Ref | None:
    """``msgid=<id>`` or ``timestamp=<time>``; None for anything else."""
    kind, sep, value = text.partition("=")
    if not sep or not value:
        return None
    kind = kind.lower()
    if kind == "msgid":
        return Ref(msgid=value)
    if kind == "timestamp":
        at = parse_time(value)
        return None if at is None else Ref(at=at)
    return None


# ----------------------------------------------------------------------------- selection

Side = Callable[[int, HistoryRecord], int]


def _side(rows: Sequence[HistoryRecord], ref: Ref) -> tuple[Side, tuple[int, int]] | None:
    """Where each row lies relative to ``ref`` (-1 before, 0 at, 1 after) and ref's time.

    A msgid that is not in this conversation selects nothing (None).
    """
    if ref.msgid is not None:
        for index, row in enumerate(rows):
            if row.msgid == ref.msgid:
                return (lambda i, _row, at=index: (i > at) - (i < at)), (row.at, index)
        return None
    at = ref.at if ref.at is not None else 0
    return (lambda _i, row: (row.at > at) - (row.at < at)), (at, -1)


def select(
    rows: Sequence[HistoryRecord], query: HistoryQuery, hidden: Container[str] = ()
) -> list[HistoryRecord]:
    """The reference meaning of LATEST, BEFORE, AFTER, AROUND and BETWEEN.

    ``rows`` is one conversation in the order it was stored, events included; ``hidden``
    holds the msgids of its deleted messages. References may name any row; the answer
    holds only messages and the events the query asks for, never a hidden one, always in
    ascending order and never longer than ``query.limit``.
    """
    if query.since:
        rows = [row for row in rows if row.at >= query.since]
    shown = MESSAGE_COMMANDS.union(query.events)
    picked = [
        (i, row) for i, row in enumerate(rows) if row.command in shown and row.msgid not in hidden
    ]
    limit = query.limit
    kind = query.kind
    if kind == "LATEST" and query.first is None:
        return [row for _, row in picked[-limit:]]
    if query.first is None:
        return []
    found = _side(rows, query.first)
    if found is None:
        return []
    side, first_at = found
    if kind == "LATEST":
        return [row for i, row in picked if side(i, row) > 0][-limit:]
    if kind == "BEFORE":
        return [row for i, row in picked if side(i, row) < 0][-limit:]
    if kind == "AFTER":
        return [row for i, row in picked if side(i, row) > 0][:limit]
    if kind == "AROUND":
        before = [row for i, row in picked if side(i, row) < 0]
        before = before[len(before) - limit // 2 :] if limit // 2 else []
        rest = [row for i, row in picked if side(i, row) >= 0]
        return before + rest[: limit - len(before)]
    if kind == "BETWEEN" and query.second is not None:
        other = _side(rows, query.second)
        if other is None:
            return []
        other_side, second_at = other
        if first_at <= second_at:
            inside = [r for i, r in picked if side(i, r) > 0 and other_side(i, r) < 0]
            return inside[:limit]
        inside = [r for i, r in picked if side(i, r) < 0 and other_side(i, r) > 0]
        return inside[-limit:]
    return []


def select_targets(rows: Iterable[HistoryRecord], query: HistoryQuery) -> list[TargetListing]:
    """TARGETS: the conversations whose latest message (events do not count) lies strictly
    between two times (one with a later message is not listed: its latest is outside the
    window), with that time, in ascending order of it; from the earlier end when the first
    time is the earlier one, else from the later end."""
    if query.first is None or query.second is None:
        return []
    a, b = query.first.at or 0, query.second.at or 0
    low, high = min(a, b), max(a, b)
    rooms = set(query.channels)
    me = query.identity
    latest: dict[str, HistoryRecord] = {}
    for row in rows:
        if row.command not in MESSAGE_COMMANDS:
            continue
        if row.recipient:
            if me not in (row.sender, row.recipient) or row.at < query.since:
                continue
        elif row.target not in rooms:
            continue
        seen = latest.get(row.target)
        if seen is None or row.at >= seen.at:
            latest[row.target] = row
    listings = sorted(
        (
            TargetListing(row.target, listing_name(row, me), row.at)
            for row in latest.values()
            if low < row.at < high
        ),
        key=lambda listing: (listing.at, listing.target),
    )
    return listings[: query.limit] if a <= b else listings[-query.limit :]


def listing_name(row: HistoryRecord, me: str) -> str:
    """The name a TARGETS line shows: the room, or the other side of a private chat."""
    if not row.recipient:
        return row.target_name
    if row.sender == me:
        return row.target_name
    return row.source.partition("!")[0]


# ----------------------------------------------------------------------------- core state

# At most this many rooms have replay and event rings in memory: the room names a client
# can say something in have no end (create, speak, part, next name), and a ring outlives
# its room so that a room that empties and fills again still replays. Past the bound the
# rings least recently added to go first (a tenth at once, so the scan of readers is
# rare); their lines stay in the store, for CHATHISTORY.
RING_ROOMS = 4096
# Rooms whose last line one reader (an account) is remembered to have got: the rooms it
# left longest ago go first, and a return there replays what was said since the start.
SEEN_ROOMS = 256


@dataclass(slots=True)
class HistoryState:
    """What the core holds between inputs: recent room lines and the batch being written."""

    replay_lines: int
    recent: dict[str, deque[HistoryRecord]] = field(default_factory=dict)
    # The last events of each room, kept apart so they never push messages out of replay.
    events: dict[str, deque[HistoryRecord]] = field(default_factory=dict)
    pending: list[HistoryRecord] | None = None  # the open StoreMessages batch of this input
    # reader ("a:<folded account>" or "s:<session id>") -> room key -> (at, msgid) of the
    # last line of that room the reader received, live or replayed.
    seen: dict[str, dict[str, tuple[int, str]]] = field(default_factory=dict)

    def saw_all(self, reader: str, room: str) -> None:
        """``reader`` has every line of ``room`` so far (it was there, or got a replay)."""
        ring = self.recent.get(room)
        if ring:
            last = ring[-1]
            rooms = self.seen.setdefault(reader, {})
            rooms.pop(room, None)  # kept in order of use
            rooms[room] = (last.at, last.msgid)
            if len(rooms) > SEEN_ROOMS:
                del rooms[next(iter(rooms))]

    def forget_reader(self, reader: str) -> None:
        """A guest connection is gone: nobody else can be that reader again."""
        self.seen.pop(reader, None)

    def remember(self, record: HistoryRecord) -> None:
        """Keep the last lines of a room for replay on join (private lines are not kept)."""
        if record.recipient or self.replay_lines <= 0:
            return
        self._ring(self.recent, record.target).append(record)

    def remember_event(self, record: HistoryRecord) -> None:
        """Keep the last events of a room, for replay to draft/event-playback clients."""
        if record.recipient or self.replay_lines <= 0:
            return
        self._ring(self.events, record.target).append(record)

    def _ring(self, rings: dict[str, deque[HistoryRecord]], room: str) -> deque[HistoryRecord]:
        """The ring of ``room``, moved last (rings are kept in order of last use); past
        ``RING_ROOMS`` rooms, the least recently used tenth is dropped."""
        ring = rings.get(room)
        if ring is None:
            if len(rings) >= RING_ROOMS:
                self._drop_oldest(rings, len(rings) - RING_ROOMS + max(1, RING_ROOMS // 10))
            ring = rings[room] = deque(maxlen=self.replay_lines)
        elif next(reversed(rings)) != room:
            rings[room] = rings.pop(room)
        return ring

    def _drop_oldest(self, rings: dict[str, deque[HistoryRecord]], count: int) -> None:
        """Forget the ``count`` rings used least recently (and, for line rings, what each
        reader saw there: with no ring there is nothing to replay)."""
        gone = [room for room, _ in zip(rings, range(count), strict=False)]
        for room in gone:
            del rings[room]
        if rings is not self.recent:
            return
        for reader in list(self.seen):
            rooms_seen = self.seen[reader]
            for room in rooms_seen.keys() & gone:
                del rooms_seen[room]
            if not rooms_seen:
                del self.seen[reader]

    def forget(self, target: str, msgid: str) -> None:
        """A message was deleted: it must not be replayed on join any more."""
        ring = self.recent.get(target)
        if ring is not None and any(record.msgid == msgid for record in ring):
            kept = [record for record in ring if record.msgid != msgid]
            self.recent[target] = deque(kept, maxlen=self.replay_lines)

    def rename_room(self, old_key: str, new_key: str, new_name: str) -> None:
        """A room was renamed: its replay and event rings and what each reader saw of it
        follow it, and the lines in the rings name the room as it is now called."""
        for rings in (self.recent, self.events):
            ring = rings.pop(old_key, None)
            if ring:
                moved = [replace(record, target=new_key, target_name=new_name) for record in ring]
                rings[new_key] = deque(moved, maxlen=ring.maxlen)
        for rooms in self.seen.values():
            if old_key in rooms:
                rooms[new_key] = rooms.pop(old_key)

    def load_recent(self, records: Iterable[HistoryRecord]) -> None:
        """Replace the rings with what the store holds (at start, or after an admin purge)."""
        self.recent.clear()
        self.events.clear()
        for record in records:
            if isinstance(record, EventRecord):
                self.remember_event(record)
            else:
                self.remember(record)
