"""History kept in memory: the test double, and the reference the SQLite store must match.

Queries run ``chatroom.server.core.history.select`` itself, so the contract tests that hold
the SQLite store to this one hold it to the spec's meaning of each subcommand. Deletions
go through ``chatroom.server.core.redaction.judge``, as in SQLite.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace

from chatroom.server.core.history import (
    MESSAGE_COMMANDS,
    EventRecord,
    HistoryQuery,
    HistoryRecord,
    select,
    select_targets,
)
from chatroom.server.core.redaction import REDACTED, UNKNOWN, Redaction, judge
from chatroom.server.store.history import Rows

__all__ = ["MemoryHistory"]


class MemoryHistory:
    """``HistoryStore`` in a dict of lists; not thread-safe, which its users never need."""

    def __init__(self) -> None:
        self.rows: dict[str, list[HistoryRecord]] = {}  # messages and events, in order
        self.deleted: dict[str, set[str]] = {}  # conversation key -> msgids redacted

    @property
    def lines(self) -> dict[str, list[HistoryRecord]]:
        """The stored messages of each conversation (deleted ones blanked), without events."""
        return {target: _messages(rows) for target, rows in self.rows.items()}

    @property
    def events(self) -> dict[str, list[EventRecord]]:
        """The stored events of each conversation that has any."""
        found: dict[str, list[EventRecord]] = {}
        for target, rows in self.rows.items():
            done = [r for r in rows if isinstance(r, EventRecord)]
            if done:
                found[target] = done
        return found

    def append(self, records: Sequence[HistoryRecord]) -> None:
        for record in records:
            self.rows.setdefault(record.target, []).append(record)

    def query(self, query: HistoryQuery) -> Rows:
        if query.kind == "TARGETS":
            deleted = self.deleted
            every = (
                record
                for target, rows in self.rows.items()
                for record in rows
                if record.msgid not in deleted.get(target, ())
            )
            return select_targets(every, query)
        hidden = self.deleted.get(query.target, set())
        return select(self.rows.get(query.target, []), query, hidden)

    def redact(self, redaction: Redaction) -> str:
        rows = self.rows.get(redaction.target, [])
        deleted = self.deleted.setdefault(redaction.target, set())
        for i, row in enumerate(rows):
            if row.msgid != redaction.msgid:
                continue
            outcome = judge(redaction, row.command, row.sender, row.at, row.msgid in deleted)
            if outcome == REDACTED:
                rows[i] = replace(row, text="", tags=())
                deleted.add(row.msgid)
            return outcome
        return UNKNOWN

    def recent(self, per_target: int) -> list[HistoryRecord]:
        if per_target <= 0:
            return []
        found: list[HistoryRecord] = []
        for target, rows in self.rows.items():
            if not rows or rows[0].recipient:
                continue
            hidden = self.deleted.get(target, set())
            said = [r for r in _messages(rows) if r.msgid not in hidden]
            done = [r for r in rows if isinstance(r, EventRecord)]
            kept = {id(r) for r in said[-per_target:] + done[-per_target:]}
            found.extend(r for r in rows if id(r) in kept)
        return found

    def prune(
        self, now_ms: int, retention_days: int, max_per_target: int, targets: Iterable[str]
    ) -> int:
        dropped = 0
        bounded = set(targets)
        oldest = now_ms - retention_days * 86_400_000 if retention_days > 0 else None
        for target in list(self.rows):
            rows = self.rows[target]
            kept = rows if oldest is None else [r for r in rows if r.at >= oldest]
            if max_per_target > 0 and target in bounded:
                kept = _last_messages(kept, max_per_target)
            dropped += len(rows) - len(kept)
            if kept:
                self.rows[target] = kept
            else:
                del self.rows[target]
        return dropped

    def purge(self, target: str, before_ms: int | None = None) -> int:
        rows = self.rows.get(target, [])
        kept = [] if before_ms is None else [r for r in rows if r.at >= before_ms]
        if kept:
            self.rows[target] = kept
        else:
            self.rows.pop(target, None)
        return len(rows) - len(kept)

    def export(self, target: str) -> list[HistoryRecord]:
        hidden = self.deleted.get(target, set())
        return [r for r in self.rows.get(target, []) if r.msgid not in hidden]

    def rename(self, target: str, new_target: str, new_name: str) -> int:
        rows = self.rows.pop(target, [])
        moved = [replace(row, target=new_target, target_name=new_name) for row in rows]
        if moved:
            self.rows[new_target] = self.rows.get(new_target, []) + moved
        hidden = self.deleted.pop(target, None)
        if hidden:
            self.deleted.setdefault(new_target, set()).update(hidden)
        return len(moved)

    def changed_outside(self) -> bool:
        return False

    def reclaim(self, pages: int) -> int:
        return 0  # deleted rows are garbage the moment they go

    def close(self) -> None:
        pass


def _messages(rows: list[HistoryRecord]) -> list[HistoryRecord]:
    return [r for r in rows if r.command in MESSAGE_COMMANDS]


def _last_messages(rows: list[HistoryRecord], count: int) -> list[HistoryRecord]:
    """From the ``count``-th newest message on: older messages and events go; of the
    events left, only the ``count`` newest stay."""
    kept: list[HistoryRecord] = []
    messages = events = 0
    for row in reversed(rows):
        if messages == count:
            break  # older than the count-th newest message
        if row.command in MESSAGE_COMMANDS:
            messages += 1
        elif events == count:
            continue
        else:
            events += 1
        kept.append(row)
    kept.reverse()
    return kept
