"""History kept in memory: the test double, and the reference the SQLite store must match.

Queries run ``chatroom.server.core.history.select`` itself, so the contract tests that hold
the SQLite store to this one hold it to the spec's meaning of each subcommand.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace

from chatroom.server.core.history import (
    HistoryQuery,
    HistoryRecord,
    select,
    select_targets,
)
from chatroom.server.store.history import Rows

__all__ = ["MemoryHistory"]


class MemoryHistory:
    """``HistoryStore`` in a dict of lists; not thread-safe, which its users never need."""

    def __init__(self) -> None:
        self.lines: dict[str, list[HistoryRecord]] = {}

    def append(self, records: Sequence[HistoryRecord]) -> None:
        for record in records:
            self.lines.setdefault(record.target, []).append(record)

    def query(self, query: HistoryQuery) -> Rows:
        if query.kind == "TARGETS":
            every = (record for rows in self.lines.values() for record in rows)
            return select_targets(every, query)
        return select(self.lines.get(query.target, []), query)

    def recent(self, per_target: int) -> list[HistoryRecord]:
        if per_target <= 0:
            return []
        return [
            record
            for rows in self.lines.values()
            if rows and not rows[0].recipient
            for record in rows[-per_target:]
        ]

    def prune(
        self, now_ms: int, retention_days: int, max_per_target: int, targets: Iterable[str]
    ) -> int:
        dropped = 0
        bounded = set(targets)
        oldest = now_ms - retention_days * 86_400_000 if retention_days > 0 else None
        for target in list(self.lines):
            rows = self.lines[target]
            kept = rows if oldest is None else [r for r in rows if r.at >= oldest]
            if max_per_target > 0 and target in bounded:
                kept = kept[-max_per_target:]
            dropped += len(rows) - len(kept)
            if kept:
                self.lines[target] = kept
            else:
                del self.lines[target]
        return dropped

    def purge(self, target: str, before_ms: int | None = None) -> int:
        rows = self.lines.get(target, [])
        kept = [] if before_ms is None else [r for r in rows if r.at >= before_ms]
        if kept:
            self.lines[target] = kept
        else:
            self.lines.pop(target, None)
        return len(rows) - len(kept)

    def export(self, target: str) -> list[HistoryRecord]:
        return list(self.lines.get(target, []))

    def rename(self, target: str, new_target: str, new_name: str) -> int:
        rows = self.lines.pop(target, [])
        moved = [replace(row, target=new_target, target_name=new_name) for row in rows]
        self.lines[new_target] = self.lines.get(new_target, []) + moved
        if not self.lines[new_target]:
            del self.lines[new_target]
        return len(moved)

    def changed_outside(self) -> bool:
        return False

    def close(self) -> None:
        pass
