"""History in SQLite: ``<data-dir>/history.db``, WAL mode, its own migrations.

``synchronous = NORMAL``: in WAL mode that survives a killed process; only a power cut can
drop the last commits, a fair trade for chat lines written many times a second (accounts,
in chatroom.db, keep FULL). The file shrinks again after retention deletes rows:
``auto_vacuum = INCREMENTAL`` (switched on once for a file made before it, see
``_incremental_vacuum``) lets ``reclaim`` hand free pages back a step at a time, and the
WAL file is cut back to ``WAL_LIMIT_BYTES`` after each checkpoint. Each query mirrors
``chatroom.server.core.history.select``: references are exclusive, ``id`` order is send
order, answers come back ascending. References may name any row (an event, a deleted
message); answers hold only messages and the events asked for, never a deleted message
(``redacted_at`` set).
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path

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
from chatroom.server.store.schema import (
    available_migrations,
    data_version,
    open_database,
    rollback,
)

__all__ = ["HISTORY_FILENAME", "SqliteHistory", "history_db_path"]

HISTORY_FILENAME = "history.db"
WAL_LIMIT_BYTES = 8 * 1024 * 1024  # what the -wal file is truncated to after a checkpoint
_INCREMENTAL = 2  # PRAGMA auto_vacuum's value for INCREMENTAL
# Lines per INSERT statement, largest first: one statement runs its setup, the bindings'
# bookkeeping and the AUTOINCREMENT update once for all its lines (64 lines of 12 values
# stay under SQLite's oldest limit of 999 parameters); what a batch has left over goes
# in the smaller ones. One cached prepared statement each.
ROWS_PER_INSERT = (64, 8, 1)
_FIELDS = 12  # the values of one row, in COLUMNS order
_ROW = f"({', '.join('?' * _FIELDS)})"
_INSERTS = {
    rows: f"INSERT INTO messages ({COLUMNS}) VALUES {', '.join([_ROW] * rows)}"
    for rows in ROWS_PER_INSERT
}
# Every conversation key, one index seek each (a loose scan of messages_by_target): how
# retention by age visits each conversation's (target, at) range without an index on
# ``at`` alone, which would cost every line written one more B-tree insert.
_TARGETS = (
    "WITH RECURSIVE keys(target) AS (SELECT min(target) FROM messages UNION ALL"
    " SELECT (SELECT min(target) FROM messages WHERE target > keys.target) FROM keys"
    " WHERE keys.target IS NOT NULL) SELECT target FROM keys WHERE target IS NOT NULL"
)
_Cond = tuple[str, tuple[object, ...]]


def history_db_path(data_dir: Path) -> Path:
    """Where the server and ``chatroom admin`` both find the history."""
    return data_dir / HISTORY_FILENAME


class SqliteHistory:
    """``HistoryStore`` on a SQLite file; one lock makes it safe from any thread."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        # NORMAL: a killed process loses nothing in WAL mode; a power cut may lose the
        # last lines of chat, which is not worth an fsync per batch.
        self._conn = open_database(
            self.path,
            synchronous="NORMAL",
            migrations=available_migrations("history_migrations"),
        )
        try:
            _incremental_vacuum(self._conn)
            # A multi-row INSERT keeps a statement journal (it could fail half-way); in
            # memory it costs no file writes (the default spills it to a temporary file).
            self._conn.execute("PRAGMA temp_store = MEMORY")
        except BaseException:
            self._conn.close()
            raise
        self._seen_version = data_version(self._conn)

    # ------------------------------------------------------------------ writes

    def append(self, records: Sequence[HistoryRecord]) -> None:
        values = _values(records)
        with self._lock:
            conn = self._conn
            conn.execute("BEGIN IMMEDIATE")
            try:
                start = 0
                for rows in ROWS_PER_INSERT:
                    step = rows * _FIELDS
                    end = start + (len(values) - start) // step * step
                    if end > start:
                        statement = _INSERTS[rows]
                        conn.executemany(
                            statement, [values[i : i + step] for i in range(start, end, step)]
                        )
                    start = end
            except BaseException:
                rollback(conn)
                raise
            conn.execute("COMMIT")

    def redact(self, redaction: Redaction) -> str:
        with self._lock:
            conn = self._conn
            conn.execute("BEGIN IMMEDIATE")
            try:
                row = conn.execute(
                    "SELECT id, command, sender, at, redacted_at FROM messages"
                    " WHERE target = ? AND msgid = ? ORDER BY id LIMIT 1",
                    (redaction.target, redaction.msgid),
                ).fetchone()
                outcome = UNKNOWN
                if row is not None:
                    deleted = row[4] is not None
                    outcome = judge(redaction, str(row[1]), str(row[2]), int(row[3]), deleted)
                if outcome == REDACTED:
                    conn.execute(
                        "UPDATE messages SET text = '', tags = '{}', redacted_at = ? WHERE id = ?",
                        (redaction.at, row[0]),
                    )
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        return outcome

    def prune(
        self, now_ms: int, retention_days: int, max_per_target: int, targets: Iterable[str]
    ) -> int:
        statements: list[tuple[str, tuple[object, ...]]] = []
        if retention_days > 0:
            statements.append(
                (
                    f"DELETE FROM messages WHERE target IN ({_TARGETS}) AND at < ?",
                    (now_ms - retention_days * 86_400_000,),
                )
            )
        if max_per_target > 0:
            for target in targets:
                statements.append(
                    (
                        # Keep the last messages, and the events since the first of them.
                        "DELETE FROM messages WHERE target = ? AND id < (SELECT id FROM messages"
                        f" WHERE target = ? AND {IS_MESSAGE} ORDER BY id DESC LIMIT 1 OFFSET ?)",
                        (target, target, max_per_target - 1),
                    )
                )
                statements.append(
                    (
                        # Of those events, as many as messages (a JOIN/PART loop adds only them).
                        f"DELETE FROM messages WHERE target = ? AND NOT {IS_MESSAGE} AND id <"
                        f" (SELECT id FROM messages WHERE target = ? AND NOT {IS_MESSAGE}"
                        " ORDER BY id DESC LIMIT 1 OFFSET ?)",
                        (target, target, max_per_target - 1),
                    )
                )
        return self._delete(statements)

    def purge(self, target: str, before_ms: int | None = None) -> int:
        if before_ms is None:
            return self._delete([("DELETE FROM messages WHERE target = ?", (target,))])
        return self._delete(
            [("DELETE FROM messages WHERE target = ? AND at < ?", (target, before_ms))]
        )

    def rename(self, target: str, new_target: str, new_name: str) -> int:
        """A renamed room's lines move to its new key and show its new name; lines a room
        of that name had before join them, in send order (``id``)."""
        with self._lock:
            conn = self._conn
            conn.execute("BEGIN IMMEDIATE")
            try:
                moved = conn.execute(
                    "UPDATE messages SET target = ?, target_name = ? WHERE target = ?",
                    (new_target, new_name, target),
                ).rowcount
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        return int(moved)

    def _delete(self, statements: list[tuple[str, tuple[object, ...]]]) -> int:
        if not statements:
            return 0
        with self._lock:
            conn = self._conn
            conn.execute("BEGIN IMMEDIATE")
            try:
                dropped = sum(conn.execute(sql, params).rowcount for sql, params in statements)
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
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
                " WHERE recipient = '' AND redacted_at IS NULL) WHERE age <= ?"
                " ORDER BY target, id",
                (per_target,),
            ).fetchall()
        return [record_from_row(row) for row in rows]

    def export(self, target: str) -> list[HistoryRecord]:
        with self._lock:
            rows = self._conn.execute(
                f"SELECT {COLUMNS} FROM messages WHERE target = ? AND redacted_at IS NULL"
                " ORDER BY id",
                (target,),
            ).fetchall()
        return [record_from_row(row) for row in rows]

    def count(self) -> int:
        with self._lock:
            return int(self._conn.execute("SELECT count(*) FROM messages").fetchone()[0])

    def records_after(self, after: int, limit: int) -> list[tuple[int, HistoryRecord, int | None]]:
        """Every stored line in send order, a page at a time (``chatroom admin migrate``):
        its id, the record, and when it was deleted (None if it was not)."""
        with self._lock:
            rows = self._conn.execute(
                f"SELECT id, redacted_at, {COLUMNS} FROM messages WHERE id > ? ORDER BY id LIMIT ?",
                (after, limit),
            ).fetchall()
        return [
            (int(row[0]), record_from_row(row[2:]), None if row[1] is None else int(row[1]))
            for row in rows
        ]

    def changed_outside(self) -> bool:
        with self._lock:
            version = data_version(self._conn)
            changed = version != self._seen_version
            self._seen_version = version
        return changed

    def reclaim(self, pages: int) -> int:
        with self._lock:
            conn = self._conn
            # Each step of this pragma frees one page and returns an empty row, which
            # ``execute`` takes for the end; ``executescript`` steps it to completion.
            conn.executescript(f"PRAGMA incremental_vacuum({int(pages):d})")
            return int(conn.execute("PRAGMA freelist_count").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def _select(self, q: HistoryQuery) -> list[HistoryRecord]:
        where: list[_Cond] = [("target = ?", (q.target,))]  # where references may point
        if q.since:
            where.append(("at >= ?", (q.since,)))
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
            before = (
                self._rows([*base, _cond(first, "<")], "DESC", limit // 2) if limit // 2 else []
            )
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
        where = " AND ".join(sql for sql, _ in base)
        params = tuple(p for _, ps in base for p in ps)
        row = self._conn.execute(
            f"SELECT id, at FROM messages WHERE {where} AND msgid = ? ORDER BY id LIMIT 1",
            (*params, ref.msgid),
        ).fetchone()
        if row is None:
            return None
        return int(row[1]), int(row[0])

    def _rows(self, conds: list[_Cond], order: str, limit: int) -> list[HistoryRecord]:
        if limit <= 0:
            return []
        where = " AND ".join(sql for sql, _ in conds)
        params = tuple(p for _, ps in conds for p in ps)
        rows = self._conn.execute(
            f"SELECT {COLUMNS} FROM messages WHERE {where} ORDER BY id {order} LIMIT ?",
            (*params, limit),
        ).fetchall()
        if order == "DESC":
            rows.reverse()
        return [record_from_row(row) for row in rows]

    def _targets(self, q: HistoryQuery) -> list[TargetListing]:
        if q.first is None or q.second is None:
            return []
        a, b = q.first.at or 0, q.second.at or 0
        rooms = list(q.channels)
        # Each way a line can belong to the asker is one term an index answers (SQLite
        # reads the three index ranges and merges them, MULTI-INDEX OR): its rooms by
        # (target, at), its private lines by the sender or the recipient index. A
        # conversation is listed only if its latest message is inside the window: one
        # with a message at or after the window's end is left out (NOT EXISTS, on the
        # (target, at) index), so only the rows inside the window are ever grouped.
        mine = [
            "(recipient != '' AND sender = ? AND at >= ?)",
            "(recipient != '' AND recipient = ? AND at >= ?)",
        ]
        if rooms:
            mine.insert(0, f"(recipient = '' AND target IN ({', '.join('?' * len(rooms))}))")
        rows = self._conn.execute(
            "SELECT target, MAX(at), sender, recipient, source, target_name FROM messages AS m"
            f" WHERE at > ? AND at < ? AND {IS_MESSAGE} AND redacted_at IS NULL"
            f" AND ({' OR '.join(mine)})"
            " AND NOT EXISTS (SELECT 1 FROM messages AS later"
            " WHERE later.target = m.target AND later.at >= ?"
            " AND later.command IN ('PRIVMSG', 'NOTICE'))"
            " GROUP BY target",
            (min(a, b), max(a, b), *rooms, q.identity, q.since, q.identity, q.since, max(a, b)),
        ).fetchall()
        listings = sorted(
            (
                TargetListing(
                    row[0],
                    listing_name(listing_record(row), q.identity),
                    int(row[1]),
                )
                for row in rows
            ),
            key=lambda listing: (listing.at, listing.target),
        )
        return listings[: q.limit] if a <= b else listings[-q.limit :]


def _incremental_vacuum(conn: sqlite3.Connection) -> None:
    """Let the file shrink when rows go (``reclaim``), and keep the -wal file small.

    SQLite takes a new ``auto_vacuum`` mode only in an empty file or through a full
    VACUUM, which cannot run inside a migration's transaction; so this runs at open, and
    rewrites the file only the first time, for a history made before the mode was set.
    """
    conn.execute(f"PRAGMA journal_size_limit = {WAL_LIMIT_BYTES:d}")
    if int(conn.execute("PRAGMA auto_vacuum").fetchone()[0]) == _INCREMENTAL:
        return
    conn.execute(f"PRAGMA auto_vacuum = {_INCREMENTAL:d}")
    conn.execute("VACUUM")


def _shown(q: HistoryQuery) -> list[_Cond]:
    """What an answer may hold: messages that were not deleted, and the events asked for."""
    commands = ("PRIVMSG", "NOTICE", *q.events)
    return [
        (f"command IN ({', '.join('?' * len(commands))})", commands),
        ("redacted_at IS NULL", ()),
    ]


def _values(records: Sequence[HistoryRecord]) -> list[object]:
    """The rows' values one after the other, in COLUMNS order."""
    values: list[object] = []
    extend = values.extend
    for r in records:
        extend(
            (
                r.target,
                r.msgid,
                r.at,
                r.sender,
                r.recipient,
                r.source,
                r.command,
                r.target_name,
                r.text,
                r.account,
                _tags(r) if r.tags else "{}",  # most lines have none: skip the encoder
                _params(r) if isinstance(r, EventRecord) else None,  # events only
            )
        )
    return values


def _tags(record: HistoryRecord) -> str:
    return json.dumps(dict(record.tags), separators=(",", ":"))


def _params(record: EventRecord) -> str:
    return json.dumps(record.params, separators=(",", ":"))


def _cond(resolved: tuple[int, int], op: str) -> _Cond:
    """``id <op> ?`` relative to a msgid's row, ``at <op> ?`` relative to a timestamp."""
    at, row_id = resolved
    if row_id >= 0:
        return f"id {op} ?", (row_id,)
    return f"at {op} ?", (at,)
