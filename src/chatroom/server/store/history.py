"""The history store: its interface, and the one thread that writes and reads it.

Rules:
- history has its own database file and its own writer thread, so a burst of chat never
  delays an account or ban commit, and its migrations are numbered on their own;
- the event loop never waits: ``append`` and ``query`` only enqueue;
- writes and reads share one queue, in submission order: a query (or a deletion) runs
  after every append submitted before it, so a line just said is always found; appends
  waiting together are committed in one transaction;
- retention (age, count per conversation) runs in the same thread between jobs, and the
  thread notices purges made by ``chatroom admin`` in another process;
- ``close`` commits everything queued before it returns: what a sender saw delivered is
  not lost by a clean shutdown.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from chatroom.server.core.history import HistoryQuery, HistoryRecord, TargetListing
from chatroom.server.core.redaction import Redaction
from chatroom.server.core.settings import HistorySettings
from chatroom.server.store.worker_thread import WorkerThread
from chatroom.server.threads import lower_priority

__all__ = ["HistoryStore", "HistoryWriter", "Rows"]

log = logging.getLogger("chatroom.history")

Rows = list[HistoryRecord] | list[TargetListing]
MAX_BATCH = 512
COALESCE_SECONDS = 0.02  # how long appends may wait to share one transaction
HOUSEKEEPING_SECONDS = 2.0  # how often the idle thread looks for outside changes
PRUNE_SECONDS = 60.0


class HistoryStore(Protocol):
    """What the server needs from a history backend (memory or SQLite)."""

    def append(self, records: Sequence[HistoryRecord]) -> None:
        """Store the records, all or none, in the given order."""

    def query(self, query: HistoryQuery) -> Rows:
        """Answer one CHATHISTORY request as ``chatroom.server.core.history.select`` does."""

    def redact(self, redaction: Redaction) -> str:
        """Delete one message if ``core.redaction.judge`` allows it; returns its verdict."""

    def recent(self, per_target: int) -> list[HistoryRecord]:
        """The last ``per_target`` messages of every room and its last ``per_target``
        events, oldest first within each room; deleted messages are left out."""

    def prune(
        self, now_ms: int, retention_days: int, max_per_target: int, targets: Iterable[str]
    ) -> int:
        """Drop lines past retention: older than the age, or past the count in ``targets``."""

    def purge(self, target: str, before_ms: int | None = None) -> int:
        """Drop a conversation's lines (those older than ``before_ms`` if given)."""

    def export(self, target: str) -> list[HistoryRecord]:
        """Every stored line (and event) of a conversation, in order; not deleted ones."""

    def rename(self, target: str, new_target: str, new_name: str) -> int:
        """A room was renamed: its lines move to ``new_target`` and show ``new_name``."""

    def changed_outside(self) -> bool:
        """True once after another process changed the store (an admin purge)."""

    def close(self) -> None: ...


@dataclass(slots=True)
class _Append:
    records: Sequence[HistoryRecord]


@dataclass(slots=True)
class _Query:
    query: HistoryQuery
    answer: Callable[[Rows | None], None]


@dataclass(slots=True)
class _Redact:
    redaction: Redaction
    answer: Callable[[str | None], None]


@dataclass(slots=True)
class _Rename:
    target: str
    new_target: str
    new_name: str


_Job = _Append | _Query | _Redact | _Rename


class HistoryWriter:
    """Owns the only thread that touches ``store`` while the server runs (a
    ``WorkerThread``); create it on the event loop."""

    def __init__(
        self,
        store: HistoryStore,
        settings: HistorySettings,
        *,
        on_outside_change: Callable[[list[HistoryRecord]], None] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._settings = settings
        self._clock = clock
        self._on_outside_change = on_outside_change
        self._touched: set[str] = set()
        self._pruned_at = 0.0
        self._worker: WorkerThread[_Job] = WorkerThread(
            self._process,
            name="history-writer",
            max_batch=MAX_BATCH,
            coalesce=_coalesce,
            idle=self._housekeeping,
            idle_seconds=HOUSEKEEPING_SECONDS,
            on_start=lower_priority,
            on_stop=self._prune,
        )

    def append(self, records: Sequence[HistoryRecord]) -> None:
        """Queue records for writing; must be called from the event loop."""
        if records and not self._worker.closing:
            self._worker.submit(_Append(records))

    def query(self, query: HistoryQuery, answer: Callable[[Rows | None], None]) -> None:
        """Run ``query`` after every queued append; ``answer(rows)`` runs on the loop
        (None if the store failed, or the writer is closed)."""
        if self._worker.closing:
            self._worker.call_on_loop(answer, None)
        else:
            self._worker.submit(_Query(query, answer))

    def redact(self, redaction: Redaction, answer: Callable[[str | None], None]) -> None:
        """Delete a message after every queued append; ``answer(outcome)`` runs on the loop
        (None if the store failed, or the writer is closed)."""
        if self._worker.closing:
            self._worker.call_on_loop(answer, None)
        else:
            self._worker.submit(_Redact(redaction, answer))

    def rename(self, target: str, new_target: str, new_name: str) -> None:
        """Move a renamed room's lines, after every queued append (later ones use the new key)."""
        if not self._worker.closing:
            self._worker.submit(_Rename(target, new_target, new_name))

    async def flush(self) -> None:
        """Return once everything queued before this call is done."""
        await self._worker.flush()

    async def close(self) -> None:
        """Write what is queued (and apply retention once more), then stop the thread."""
        await self._worker.close()

    # ------------------------------------------------------------------ the thread

    def _process(self, jobs: list[_Job]) -> None:
        """Run jobs in order, committing each run of adjacent appends as one transaction."""
        waiting: list[HistoryRecord] = []
        for job in jobs:
            if isinstance(job, _Append):
                waiting.extend(job.records)
                continue
            self._write(waiting)
            waiting = []
            if isinstance(job, _Query):
                rows: Rows | None
                try:
                    rows = self._store.query(job.query)
                except Exception:
                    log.exception("history query failed")
                    rows = None
                self._worker.call_on_loop(job.answer, rows)
            elif isinstance(job, _Redact):
                outcome: str | None
                try:
                    outcome = self._store.redact(job.redaction)
                except Exception:
                    log.exception("history redaction failed")
                    outcome = None
                self._worker.call_on_loop(job.answer, outcome)
            else:
                self._rename(job)
        self._write(waiting)

    def _write(self, records: list[HistoryRecord]) -> None:
        if not records:
            return
        try:
            self._store.append(records)
        except Exception:
            log.exception("history write failed (%d lines lost)", len(records))
            return
        self._touched.update(record.target for record in records)

    def _rename(self, job: _Rename) -> None:
        try:
            self._store.rename(job.target, job.new_target, job.new_name)
        except Exception:
            log.exception("history rename failed")
            return
        if job.target in self._touched:
            self._touched.add(job.new_target)

    def _housekeeping(self) -> None:
        if self._clock() - self._pruned_at >= PRUNE_SECONDS:
            self._prune()
        try:
            changed = self._store.changed_outside()
            recent = self._store.recent(self._settings.replay_lines) if changed else None
        except Exception:
            log.exception("history check failed")
            return
        if recent is not None and self._on_outside_change is not None:
            log.info("history changed outside the server; reloaded recent lines")
            self._worker.call_on_loop(self._on_outside_change, recent)

    def _prune(self) -> None:
        s = self._settings
        self._pruned_at = self._clock()
        targets, self._touched = self._touched, set()
        if s.retention_days <= 0 and (s.max_per_target <= 0 or not targets):
            return
        try:
            dropped = self._store.prune(
                int(self._pruned_at * 1000), s.retention_days, s.max_per_target, targets
            )
        except Exception:
            log.exception("history retention failed")
            return
        if dropped:
            log.info("history retention dropped old lines", extra={"lines": dropped})


def _coalesce(job: _Job) -> float:
    """Appends are written behind: let a busy room's lines gather into one transaction
    instead of waking (and committing) once per message."""
    return COALESCE_SECONDS if isinstance(job, _Append) else 0.0
