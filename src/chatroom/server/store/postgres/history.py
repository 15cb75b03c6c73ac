"""History in PostgreSQL: the ``messages`` table, beside the store's tables.

Each query mirrors ``chatroom.server.core.history.select`` exactly as ``SqliteHistory``
does (references exclusive, ``id`` order is send order, answers ascending); the contract
suites in ``tests/store/test_history_store.py`` and ``test_history_events.py`` hold both
to the same cases. Room events (draft/event-playback) share the table; references may
name any row (an event, a deleted message), answers hold only messages and the events
asked for, never a deleted message (``redacted_at`` set, text and tags blanked).

``synchronous_commit = off`` on this connection is PostgreSQL's form of SQLite's
``synchronous = NORMAL`` for history.db: a killed ChatRoom loses nothing (the server has
the commit), a crash of the database server itself may lose the last moment of chat, and
chat lines do not each wait for a disk flush. The store (accounts, bans) keeps the default.

An admin purge tells running servers with ``NOTIFY chatroom_history``; ``changed_outside``
only drains that connection's notifications, it never queries the table.
"""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Iterable, Sequence
from typing import Any

import psycopg

from chatroom.server.core.history import (
    EventRecord,
    HistoryQuery,
    HistoryRecord,
    Ref,
    TargetListing,
    listing_name,
)
from chatroom.server.core.redaction import REDACTED, UNKNOWN, Redaction, judge
from chatroom.server.store.history import Rows
from chatroom.server.store.history_rows import (
    COLUMNS,
    IS_MESSAGE,
    listing_record,
    record_from_row,
)
from chatroom.server.store.postgres.schema import HISTORY, connect, migrate

__all__ = ["CHANNEL", "PostgresHistory"]

CHANNEL = "chatroom_history"
_Cond = tuple[str, tuple[object, ...]]
# Every conversation key, one index seek each (a loose scan of messages_by_target): how
# retention by age visits each conversation's (target, at) range without an index on
# ``at`` alone, which would cost every line written one more index entry.
_KEYS = (
    "keys(target) AS ((SELECT target FROM messages ORDER BY target LIMIT 1) UNION ALL"
    " SELECT (SELECT target FROM messages WHERE target > keys.target ORDER BY target LIMIT 1)"
    " FROM keys WHERE keys.target IS NOT NULL)"
)


class PostgresHistory:
    """``HistoryStore`` on PostgreSQL; one lock makes it safe from any thread."""

    def __init__(self, conninfo: str) -> None:
        self.conninfo = conninfo
        self.origin = secrets.token_hex(8)
        self._lock = threading.Lock()
        self._connection = connect(conninfo, synchronous_commit="off")
        try:
            migrate(self._connection, HISTORY)
            # After rows numbered by a network (see append), the rows numbered here go on
            # above them, never between.
            self._connection.execute(
                "SELECT setval(pg_get_serial_sequence('messages', 'id'),"
                " (SELECT COALESCE(max(id), 0) + 1 FROM messages), false)"
            )
            self._listener: psycopg.Connection[Any] | None = None
            self._listener = connect(conninfo)
            self._listener.execute(f"LISTEN {CHANNEL}")
        except BaseException:
            self.close()
            raise

    @property
    def _conn(self) -> psycopg.Connection[Any]:
        """The connection, made again if PostgreSQL dropped it (a restart, a failover):
        the statement that found it broken failed, the next one runs on a new one."""
        conn = self._connection
        if conn.broken or conn.closed:
            conn = self._connection = connect(self.conninfo, synchronous_commit="off")
        return conn

    # ------------------------------------------------------------------ writes

    def append(self, records: Sequence[HistoryRecord]) -> None:
        # COPY: the whole batch in one stream and one statement, where an INSERT per
        # line has the server execute and acknowledge each row as a statement of its own.
        # Rows numbered by the network (cluster nodes, HistoryRecord.order) keep their
        # number as id, so the id order is the log's order whichever node wrote first.
        numbered = bool(records) and records[0].order != 0
        columns = f"id, {COLUMNS}" if numbered else COLUMNS
        with (
            self._lock,
            self._conn.transaction(),
            self._conn.cursor() as cur,
            cur.copy(f"COPY messages ({columns}) FROM STDIN") as copy,
        ):
            for record in records:
                copy.write_row((record.order, *_row(record)) if numbered else _row(record))

    def redact(self, redaction: Redaction) -> str:
        with self._lock, self._conn.transaction():
            row = self._conn.execute(
                "SELECT id, command, sender, at, redacted_at FROM messages"
                " WHERE target = %s AND msgid = %s ORDER BY id LIMIT 1 FOR UPDATE",
                (redaction.target, redaction.msgid),
            ).fetchone()
            outcome = UNKNOWN
            if row is not None:
                deleted = row[4] is not None
                outcome = judge(redaction, str(row[1]), str(row[2]), int(row[3]), deleted)
            if row is not None and outcome == REDACTED:
                self._conn.execute(
                    "UPDATE messages SET text = '', tags = '{}', redacted_at = %s WHERE id = %s",
                    (redaction.at, row[0]),
                )
        return outcome

    def rename(self, target: str, new_target: str, new_name: str) -> int:
        """A renamed room's lines move to its new key and show its new name; lines a room
        of that name had before join them, in send order (``id``)."""
        with self._lock, self._conn.transaction():
            moved = self._conn.execute(
                "UPDATE messages SET target = %s, target_name = %s WHERE target = %s",
                (new_target, new_name, target),
            ).rowcount
        return int(moved)

    def prune(
        self, now_ms: int, retention_days: int, max_per_target: int, targets: Iterable[str]
    ) -> int:
        statements: list[_Cond] = []
        if retention_days > 0:
            statements.append(
                (
                    f"WITH RECURSIVE {_KEYS} DELETE FROM messages"
                    " WHERE target IN (SELECT target FROM keys WHERE target IS NOT NULL)"
                    " AND at < %s",
                    (now_ms - retention_days * 86_400_000,),
                )
            )
        if max_per_target > 0:
            for target in targets:
                statements.append(
                    (
                        # Keep the last messages, and the events since the first of them.
                        "DELETE FROM messages WHERE target = %s AND id < (SELECT id FROM"
                        f" messages WHERE target = %s AND {IS_MESSAGE}"
                        " ORDER BY id DESC LIMIT 1 OFFSET %s)",
                        (target, target, max_per_target - 1),
                    )
                )
                statements.append(
                    (
                        # Of those events, as many as messages (a JOIN/PART loop adds only them).
                        f"DELETE FROM messages WHERE target = %s AND NOT {IS_MESSAGE} AND id <"
                        f" (SELECT id FROM messages WHERE target = %s AND NOT {IS_MESSAGE}"
                        " ORDER BY id DESC LIMIT 1 OFFSET %s)",
                        (target, target, max_per_target - 1),
                    )
                )
        return self._delete(statements)

    def purge(self, target: str, before_ms: int | None = None) -> int:
        if before_ms is None:
            statement: _Cond = ("DELETE FROM messages WHERE target = %s", (target,))
        else:
            statement = ("DELETE FROM messages WHERE target = %s AND at < %s", (target, before_ms))
        return self._delete([statement], notify=True)

    def _delete(self, statements: list[_Cond], *, notify: bool = False) -> int:
        if not statements:
            return 0
        with self._lock, self._conn.transaction():
            dropped = 0
            for sql, params in statements:
                dropped += self._conn.execute(sql, params).rowcount
            if notify:
                self._conn.execute("SELECT pg_notify(%s, %s)", (CHANNEL, self.origin))
        return dropped

    # ------------------------------------------------------------------ reads

    def query(self, query: HistoryQuery) -> Rows:
        with self._lock:
            if query.kind == "TARGETS":
                return self._targets(query)
            return self._select(query)

    def recent(self, per_target: int) -> list[HistoryRecord]:
        if per_target <= 0:
            return []
        with self._lock:
            rows = self._conn.execute(
                f"SELECT {COLUMNS} FROM (SELECT *, ROW_NUMBER() OVER"
                f" (PARTITION BY target, {IS_MESSAGE} ORDER BY id DESC) AS age FROM messages"
                " WHERE recipient = '' AND redacted_at IS NULL) AS ranked WHERE age <= %s"
                " ORDER BY target, id",
                (per_target,),
            ).fetchall()
        return [record_from_row(row) for row in rows]

    def export(self, target: str) -> list[HistoryRecord]:
        with self._lock:
            rows = self._conn.execute(
                f"SELECT {COLUMNS} FROM messages WHERE target = %s AND redacted_at IS NULL"
                " ORDER BY id",
                (target,),
            ).fetchall()
        return [record_from_row(row) for row in rows]

    def count(self) -> int:
        with self._lock:
            row = self._conn.execute("SELECT count(*) FROM messages").fetchone()
        return int(row[0]) if row else 0

    def records_after(self, after: int, limit: int) -> list[tuple[int, HistoryRecord, int | None]]:
        """Every stored line in send order, a page at a time (``chatroom admin migrate``):
        its id, the record, and when it was deleted (None if it was not)."""
        with self._lock:
            rows = self._conn.execute(
                f"SELECT id, redacted_at, {COLUMNS} FROM messages WHERE id > %s"
                " ORDER BY id LIMIT %s",
                (after, limit),
            ).fetchall()
        return [
            (int(row[0]), record_from_row(row[2:]), None if row[1] is None else int(row[1]))
            for row in rows
        ]

    def changed_outside(self) -> bool:
        with self._lock:
            listener = self._listener
            if listener is None or listener.broken or listener.closed:
                # Listening again after PostgreSQL came back: what was notified meanwhile
                # is lost, so say "changed" and let the caller read again.
                self._listener = connect(self.conninfo)
                self._listener.execute(f"LISTEN {CHANNEL}")
                return True
            origins = [n.payload for n in listener.notifies(timeout=0)]
        return any(origin != self.origin for origin in origins)

    def reclaim(self, pages: int) -> int:
        """Nothing to do: PostgreSQL's autovacuum makes deleted rows' space reusable, so
        the table stays about the size retention allows."""
        return 0

    def close(self) -> None:
        with self._lock:
            self._connection.close()
            if self._listener is not None:
                self._listener.close()

    # ------------------------------------------------------------------ query building

    def _select(self, q: HistoryQuery) -> list[HistoryRecord]:
        where: list[_Cond] = [("target = %s", (q.target,))]  # where references may point
        if q.since:
            where.append(("at >= %s", (q.since,)))
        base = [*where, *_shown(q)]  # what the answer may hold
        limit = q.limit
        if q.first is None:
            return self._rows(base, "DESC", limit) if q.kind == "LATEST" else []
        first = self._resolve(where, q.first)
        if first is None:
            return []
        if q.kind == "LATEST":
            return self._rows([*base, _cond(first, ">")], "DESC", limit)
        if q.kind == "BEFORE":
            return self._rows([*base, _cond(first, "<")], "DESC", limit)
        if q.kind == "AFTER":
            return self._rows([*base, _cond(first, ">")], "ASC", limit)
        if q.kind == "AROUND":
            half = limit // 2
            before = self._rows([*base, _cond(first, "<")], "DESC", half) if half else []
            return before + self._rows([*base, _cond(first, ">=")], "ASC", limit - len(before))
        if q.kind == "BETWEEN" and q.second is not None:
            second = self._resolve(where, q.second)
            if second is None:
                return []
            if first <= second:
                return self._rows([*base, _cond(first, ">"), _cond(second, "<")], "ASC", limit)
            return self._rows([*base, _cond(first, "<"), _cond(second, ">")], "DESC", limit)
        return []

    def _resolve(self, base: list[_Cond], ref: Ref) -> tuple[int, int] | None:
        """Where a reference lies: (at, id) of a msgid's row, (timestamp, -1) for a time."""
        if ref.msgid is None:
            return ref.at or 0, -1
        where, params = _join(base)
        row = self._conn.execute(
            f"SELECT id, at FROM messages WHERE {where} AND msgid = %s ORDER BY id LIMIT 1",
            (*params, ref.msgid),
        ).fetchone()
        if row is None:
            return None
        return int(row[1]), int(row[0])

    def _rows(self, conds: list[_Cond], order: str, limit: int) -> list[HistoryRecord]:
        if limit <= 0:
            return []
        where, params = _join(conds)
        rows = self._conn.execute(
            f"SELECT {COLUMNS} FROM messages WHERE {where} ORDER BY id {order} LIMIT %s",
            (*params, limit),
        ).fetchall()
        if order == "DESC":
            rows.reverse()
        return [record_from_row(row) for row in rows]

    def _targets(self, q: HistoryQuery) -> list[TargetListing]:
        if q.first is None or q.second is None:
            return []
        a, b = q.first.at or 0, q.second.at or 0
        low, high = min(a, b), max(a, b)
        # As in SqliteHistory: only conversations whose latest line is inside the window,
        # each named from that latest line; each way a line can belong to the asker is
        # one arm of a BitmapOr (its rooms by (target, at), its private lines by the
        # sender or the recipient index).
        rows = self._conn.execute(
            "SELECT DISTINCT ON (target) target, at, sender, recipient, source, target_name"
            " FROM messages AS m"
            f" WHERE at > %s AND at < %s AND {IS_MESSAGE} AND redacted_at IS NULL"
            " AND ((recipient = '' AND target = ANY(%s))"
            " OR (recipient <> '' AND sender = %s AND at >= %s)"
            " OR (recipient <> '' AND recipient = %s AND at >= %s))"
            " AND NOT EXISTS (SELECT 1 FROM messages AS later"
            " WHERE later.target = m.target AND later.at >= %s"
            " AND later.command IN ('PRIVMSG', 'NOTICE'))"
            " ORDER BY target, at DESC, id DESC",
            (low, high, list(q.channels), q.identity, q.since, q.identity, q.since, high),
        ).fetchall()
        listings = sorted(
            (
                TargetListing(row[0], listing_name(listing_record(row), q.identity), int(row[1]))
                for row in rows
            ),
            key=lambda listing: (listing.at, listing.target),
        )
        return listings[: q.limit] if a <= b else listings[-q.limit :]


def _shown(q: HistoryQuery) -> list[_Cond]:
    """What an answer may hold: messages that were not deleted, and the events asked for."""
    return [
        ("command = ANY(%s)", (["PRIVMSG", "NOTICE", *q.events],)),
        ("redacted_at IS NULL", ()),
    ]


def _join(conds: list[_Cond]) -> tuple[str, tuple[object, ...]]:
    return " AND ".join(sql for sql, _ in conds), tuple(p for _, ps in conds for p in ps)


def _cond(resolved: tuple[int, int], op: str) -> _Cond:
    """``id <op> %s`` relative to a msgid's row, ``at <op> %s`` relative to a timestamp."""
    at, row_id = resolved
    if row_id >= 0:
        return f"id {op} %s", (row_id,)
    return f"at {op} %s", (at,)


def _row(r: HistoryRecord) -> tuple[object, ...]:
    tags = json.dumps(dict(r.tags), separators=(",", ":")) if r.tags else "{}"
    params = json.dumps(r.params, separators=(",", ":")) if isinstance(r, EventRecord) else None
    return (r.target, r.msgid, r.at, r.sender, r.recipient, r.source, r.command,
            r.target_name, r.text, r.account, tags, params)  # fmt: skip
