"""The store writer: applies changes in submission order on one daemon thread.

Rules:
- The event loop never blocks on disk: ``submit`` only enqueues.
- Order is total: submissions commit in the order they were made, and their callbacks run
  on the event loop in that same order (``call_soon_threadsafe`` is FIFO).
- Submissions already waiting when the thread wakes are committed in one transaction
  (fewer fsyncs under load). If that batch fails, each submission is retried on its own,
  so one bad change cannot fail the unrelated ones queued next to it; each callback gets
  its own submission's outcome.
- A failure is reported and the writer carries on with the next submission.
"""

from __future__ import annotations

import logging
import sqlite3
import sys
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from chatroom.logs import error_text
from chatroom.server.store.base import AlreadyExistsError, Change, Store
from chatroom.server.store.worker_thread import WorkerThread

__all__ = ["DoneCallback", "StoreWriter", "load_when_quiet", "refused_by_database"]

log = logging.getLogger(__name__)

DoneCallback = Callable[[BaseException | None], None]
T = TypeVar("T")

MAX_BATCH = 256


@dataclass(slots=True)
class _Job:
    changes: Sequence[Change]
    on_done: DoneCallback | None


class StoreWriter:
    """Owns the only thread that writes to ``store`` while the server runs (a
    ``WorkerThread``); create it on the event loop."""

    def __init__(self, store: Store, *, name: str = "store-writer") -> None:
        self._store = store
        # Non-empty submissions so far: a reader of the store can tell whether the loop
        # changed something while it read (see ``load_when_quiet``).
        self.submitted = 0
        self._worker = WorkerThread(self._commit, name=name, max_batch=MAX_BATCH)

    def submit(self, changes: Sequence[Change], on_done: DoneCallback | None = None) -> None:
        """Queue ``changes``; ``on_done(None | exc)`` runs on the loop after the commit.

        Must be called from the event loop thread.
        """
        if self._worker.closing:
            raise RuntimeError("store writer is closed")
        if changes:
            self.submitted += 1
        self._worker.submit(_Job(tuple(changes), on_done))

    async def flush(self) -> None:
        """Return once everything submitted before this call has been committed (or failed)."""
        await self._worker.flush()

    async def close(self) -> None:
        """Commit what is queued, then stop the thread. Further ``submit`` calls raise.

        Submissions made while the queue drains (a callback that writes again) are still
        taken: the writer refuses new ones only once everything before is committed.
        """
        if self._worker.closing:
            return
        await self._worker.flush()
        await self._worker.close()

    def _commit(self, jobs: list[_Job]) -> None:
        changes = [change for job in jobs for change in job.changes]
        error = self._apply(changes)
        if error is None or len([job for job in jobs if job.changes]) <= 1:
            for job in jobs:
                self._notify(job, error if job.changes else None)
            return
        for job in jobs:
            self._notify(job, self._apply(job.changes))

    def _apply(self, changes: Sequence[Change]) -> BaseException | None:
        if not changes:
            return None
        try:
            self._store.apply(changes)
        except AlreadyExistsError as exc:  # an answer for the core, not a failure
            log.info("store refused an insert: %s", exc)
            return exc
        except Exception as exc:
            if refused_by_database(exc):
                log.error(
                    "store transaction failed (%d changes)",
                    len(changes),
                    extra={"error": error_text(exc)},
                )
            else:
                log.exception("store transaction failed (%d changes)", len(changes))
            return exc
        return None

    def _notify(self, job: _Job, error: BaseException | None) -> None:
        if job.on_done is not None:
            self._worker.call_on_loop(job.on_done, error)


def refused_by_database(error: BaseException) -> bool:
    """The database's own refusal (disk full, locked, connection gone), not a bug: its
    message says all, and it comes again at every write while it lasts, so it is logged
    in one line rather than with a traceback each time."""
    if isinstance(error, sqlite3.OperationalError):
        return True
    psycopg = sys.modules.get("psycopg")  # loaded only when a PostgreSQL store is used
    return psycopg is not None and isinstance(error, psycopg.OperationalError)


async def load_when_quiet(
    writer: StoreWriter, load: Callable[[], Awaitable[T]], attempts: int = 3
) -> T | None:
    """Read the whole store once nothing the loop wrote is missing from what was read.

    A snapshot replaces the core's state, so it must include every change the core has
    already made in memory. Flushing first covers changes submitted before the read; a
    change submitted while the read runs (an account registered meanwhile) might not be
    in it, and applying it would make the core forget that change until the next restart.
    Such a snapshot is read again; None when the loop kept writing every time (the caller
    tries later).
    """
    for _ in range(attempts):
        before = writer.submitted
        await writer.flush()
        snapshot = await load()
        if writer.submitted == before:
            return snapshot
    return None
