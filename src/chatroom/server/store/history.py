"""The history store: its interface, and the one thread that writes and reads it.

Rules:
- history has its own database file and its own writer thread, so a burst of chat never
  delays an account or ban commit, and its migrations are numbered on their own;
- the event loop never waits: ``append`` and ``query`` only enqueue;
- writes and reads share one queue, in submission order: a query (or a deletion) runs
  after every append submitted before it, so a line just said is always found; appends
  waiting together are committed in one transaction (an append waits a moment for
  company while few records are queued, never while a backlog waits, and a query, a
  redaction or a flush ends the wait at once);
- retention (age, count per conversation) runs in the same thread between jobs, and the
  thread notices purges made by ``chatroom admin`` in another process; a conversation
  that got ``max_per_target`` new lines is trimmed after the batch that filled it, not a
  minute later, so a flood never holds more than about twice the retention on disk, and
  the space retention frees is handed back to the file system (``reclaim``) once a minute;
  the minute's pass trims by count only conversations that got a tenth of
  ``max_per_target`` new lines (finding where to cut walks the newest lines, so a few
  new lines wait for more), and ``close`` trims every one that got any;
- the queue is bounded by the caller, not here: ``backlog`` counts the records not yet
  written, and ``when_below`` calls back (on the loop) once it fell to a mark, so the
  shell can stop reading the connections that produce records and resume them later
  (``net/backpressure.py``). Nothing is ever dropped and the loop never waits;
- ``close`` commits everything queued before it returns: what a sender saw delivered is
  not lost by a clean shutdown.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from chatroom.logs import error_text
from chatroom.server.core.history import HistoryQuery, HistoryRecord, TargetListing
from chatroom.server.core.redaction import Redaction
from chatroom.server.core.settings import HistorySettings
from chatroom.server.outage import Outage
from chatroom.server.store.worker_thread import WorkerThread
from chatroom.server.store.writer import refused_by_database
from chatroom.server.threads import lower_priority

__all__ = ["HistoryStore", "HistoryWriter", "Rows"]

log = logging.getLogger("chatroom.history")

Rows = list[HistoryRecord] | list[TargetListing]
# Jobs taken into one transaction at most. Each commit writes every page it touched once,
# and a busy server's lines land in a few places of each index per conversation, so a
# bigger batch writes fewer pages per line (half a backlog of history.queue_limit's
# default); a query waits behind one batch, a few milliseconds.
MAX_BATCH = 2048
# How long appends may wait to share one transaction. A commit costs the writer about
# 55 µs of CPU however few lines it holds, on the loop's core: with 20 ms, a room of 200
# lines a second cost 55 µs of writer CPU per line, and each of the 50 commits a second
# that landed during a fan-out delayed it. A query, a redaction, a flush, closing or a backlog of
# COALESCE_BELOW wakes the writer at once, so nobody waits for this nap.
COALESCE_SECONDS = 0.1
WRITE_RETRY_SECONDS = 30.0  # how long a failing append is tried again before it is dropped
# ...and while the server stops: within systemd's stop timeout (TimeoutStopSec=15).
CLOSING_RETRY_SECONDS = 5.0
WRITE_RETRY_PAUSE = 0.5
HOUSEKEEPING_SECONDS = 2.0  # how often the idle thread looks for outside changes
PRUNE_SECONDS = 60.0
TRIM_SHARE = 0.1  # new lines, as a share of max_per_target, that make a minute's trim due
# Past this many conversations written to since their trim, the minute's pass trims every
# one of them and the table starts again: one line each to ever new rooms or nicks must
# not grow it without end.
TOUCHED_TARGETS = 10_000
# Appends wait COALESCE_SECONDS for others to share their transaction only while fewer
# than this many records are queued: a backlog that big is a batch worth committing now,
# and a writer that naps while the shell holds the senders (net/backpressure.py) only
# caps the server's rate.
COALESCE_BELOW = 256
RECLAIM_PAGES = 2048  # free pages returned per housekeeping pass (8 MiB at 4 KiB pages)


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

    def reclaim(self, pages: int) -> int:
        """Give up to ``pages`` free pages back to the file system (the space deleted rows
        left); returns how many free pages remain (0 where the database does it itself)."""

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
        self._away = Outage("history write", log)  # the database away: said twice, not per try
        self._settings = settings
        self._clock = clock
        self._on_outside_change = on_outside_change
        # Target -> lines written since its last trim (retention by count).
        self._touched: dict[str, int] = {}
        self._full: list[str] = []  # those that reached max_per_target since their trim
        self._pruned_at = 0.0
        self._reclaiming = False
        # Records handed to ``append`` and records the thread is done with; each counter
        # has one writer (the loop, the thread), so their difference needs no lock.
        self._queued = 0
        self._done = 0
        self.peak_backlog = 0  # the most records ever waiting at once (tests, metrics)
        self._below: tuple[int, Callable[[], None]] | None = None
        self._worker: WorkerThread[_Job] = WorkerThread(
            self._process,
            name="history-writer",
            max_batch=MAX_BATCH,
            coalesce=self._coalesce,
            idle=self._housekeeping,
            idle_seconds=HOUSEKEEPING_SECONDS,
            on_start=lower_priority,
            on_stop=self._final_prune,
        )

    def append(self, records: Sequence[HistoryRecord]) -> None:
        """Queue records for writing; must be called from the event loop."""
        if records and not self._worker.closing:
            self._queued += len(records)
            backlog = self._queued - self._done
            if backlog > self.peak_backlog:
                self.peak_backlog = backlog
            self._worker.submit(_Append(records))
            if backlog >= COALESCE_BELOW > backlog - len(records):
                self._worker.wake()  # a batch worth committing now: end the nap

    @property
    def backlog(self) -> int:
        """Records queued and not yet written (or failed): what the queue holds."""
        return self._queued - self._done

    def when_below(self, mark: int, callback: Callable[[], None]) -> None:
        """Call ``callback()`` on the loop once the backlog is at or below ``mark`` (soon,
        if it already is), always as a callback of its own; a later call replaces an
        earlier one. From the loop."""
        self._below = (mark, callback)
        # Armed first, then checked: if the thread finished its last batch before it saw
        # the arming, this read sees what it wrote, so the call is never missed (it may
        # come twice; callers do not mind).
        if self._queued - self._done <= mark:
            self._below = None
            self._worker.loop.call_soon(callback)

    def query(self, query: HistoryQuery, answer: Callable[[Rows | None], None]) -> None:
        """Run ``query`` after every queued append; ``answer(rows)`` runs on the loop
        (None if the store failed, or the writer is closed)."""
        if self._worker.closing:
            self._worker.call_on_loop(answer, None)
        else:
            self._worker.submit(_Query(query, answer), urgent=True)

    def redact(self, redaction: Redaction, answer: Callable[[str | None], None]) -> None:
        """Delete a message after every queued append; ``answer(outcome)`` runs on the loop
        (None if the store failed, or the writer is closed)."""
        if self._worker.closing:
            self._worker.call_on_loop(answer, None)
        else:
            self._worker.submit(_Redact(redaction, answer), urgent=True)

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

    def _coalesce(self, job: _Job) -> float:
        """Appends are written behind: let a busy room's lines gather into one transaction
        instead of waking (and committing) once per message, unless enough wait already."""
        if isinstance(job, _Append) and self._queued - self._done < COALESCE_BELOW:
            return COALESCE_SECONDS
        return 0.0

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
        """Append, trying again for a while if the database is away (a PostgreSQL restart
        cuts the connection; the store reconnects on the next try): the backlog grows
        meanwhile and its bound slows the senders, rather than lines being lost."""
        if not records:
            return
        started = time.monotonic()
        deadline = started + WRITE_RETRY_SECONDS
        while True:
            try:
                self._store.append(records)
                self._away.ok()
                break
            except Exception as exc:
                now = time.monotonic()
                stopping = self._worker.closing and now >= started + CLOSING_RETRY_SECONDS
                if now >= deadline or stopping:
                    lost = len(records)
                    if refused_by_database(exc):
                        log.error(
                            "history write failed (%d lines lost)",
                            lost,
                            extra={"error": error_text(exc)},
                        )
                    else:
                        log.exception("history write failed (%d lines lost)", lost)
                    self._finished(len(records))
                    return
                # No traceback, and not a line per try: a database away for minutes
                # would otherwise fill the log with the same one twice a second.
                self._away.failed(exc)
                time.sleep(WRITE_RETRY_PAUSE)
        touched = self._touched
        keep = self._settings.max_per_target
        for record in records:
            target = record.target
            count = touched[target] = touched.get(target, 0) + 1
            if count == keep:
                self._full.append(target)
        self._finished(len(records))

    def _finished(self, count: int) -> None:
        """``count`` records left the queue: wake the loop if it waits for room."""
        self._done += count
        below = self._below
        if below is not None and self._queued - self._done <= below[0]:
            self._below = None
            self._worker.call_on_loop(below[1])

    def _rename(self, job: _Rename) -> None:
        try:
            self._store.rename(job.target, job.new_target, job.new_name)
        except Exception:
            log.exception("history rename failed")
            return
        written = self._touched.pop(job.target, 0)
        if written:
            self._touched[job.new_target] = self._touched.get(job.new_target, 0) + written

    def _housekeeping(self) -> None:
        if self._clock() - self._pruned_at >= PRUNE_SECONDS:
            self._prune()
        else:
            self._trim_full()
        if self._reclaiming:
            self._reclaim()
        try:
            changed = self._store.changed_outside()
            recent = self._store.recent(self._settings.replay_lines) if changed else None
        except Exception as exc:  # the database away: said in one line, tried next time
            log.warning("history check failed", extra={"error": error_text(exc)})
            return
        if recent is not None and self._on_outside_change is not None:
            log.info(
                "recent history lines reloaded (another process changed the history,"
                " or the history listener reconnected and may have missed its news)"
            )
            self._worker.call_on_loop(self._on_outside_change, recent)

    def _prune(self, *, every_touched: bool = False) -> None:
        """Retention by age everywhere, and by count in each conversation that got at
        least ``TRIM_SHARE`` of ``max_per_target`` new lines since its last trim (each
        trim walks the conversation's newest lines to find where to cut, so one that got
        a few lines waits until it is worth a step); ``every_touched`` (at close) trims
        every conversation that got any. Then start handing the freed space back."""
        s = self._settings
        self._pruned_at = self._clock()
        crowded = len(self._touched) > TOUCHED_TARGETS
        least = 0 if every_touched or crowded else int(s.max_per_target * TRIM_SHARE)
        due = [target for target, written in self._touched.items() if written >= least]
        for target in due:
            del self._touched[target]
        self._full = []  # each reached max_per_target, so each is in ``due``
        self._apply_retention(s.retention_days, due)
        self._reclaiming = True

    def _trim_full(self) -> None:
        """Between minutes: trim each conversation that got ``max_per_target`` new lines,
        so a flood keeps at most about twice the retention (and the file stays that size:
        SQLite reuses the freed pages for the next rows)."""
        full, self._full = self._full, []
        for target in full:
            self._touched.pop(target, None)
        if full:
            self._apply_retention(0, full)

    def _apply_retention(self, retention_days: int, targets: list[str]) -> None:
        keep = self._settings.max_per_target
        if retention_days <= 0 and (keep <= 0 or not targets):
            return
        try:
            dropped = self._store.prune(int(self._clock() * 1000), retention_days, keep, targets)
        except Exception:
            log.exception("history retention failed")
            return
        if dropped:
            log.debug("history retention dropped old lines", extra={"lines": dropped})

    def _reclaim(self) -> None:
        """Shrink the file by what retention freed, a bounded step per pass so a write
        never waits long behind it; passes continue while free pages remain."""
        try:
            remaining = self._store.reclaim(RECLAIM_PAGES)
        except Exception:
            log.exception("history reclaim failed")
            remaining = 0
        self._reclaiming = remaining > 0

    @property
    def conversations_tracked(self) -> int:
        """Conversations written to since their last trim (for tests and metrics)."""
        return len(self._touched)

    def _final_prune(self) -> None:
        self._prune(every_touched=True)
        self._reclaim()
