"""One daemon thread that runs queued jobs in order: what both store writers stand on.

The account store (``writer.py``) and the history (``history.py``) each keep the disk off
the event loop the same way, so the way is written once, here:

- ``submit`` only enqueues (from the loop thread); jobs run in submission order;
- the thread takes the jobs waiting when it wakes (up to ``max_batch``) and hands them to
  the owner's ``run`` as one list, so the owner can commit them in one transaction;
- ``flush`` returns once every job submitted before it has run: the list handed to
  ``run`` ends at a flush, which is answered on the loop right after that list;
- an exception that escapes ``run`` is logged and passed to ``on_error`` on the loop; the
  thread goes on with the next jobs (jobs report their own outcomes through
  ``call_on_loop``, in order, since ``call_soon_threadsafe`` is FIFO);
- ``close`` runs everything queued, then ``on_stop`` in the thread, then ends it; later
  submissions are refused.
Hooks the history needs and the store does not: ``coalesce`` (wait a moment after a job
so that those behind it share its batch), ``idle`` (run every ``idle_seconds`` of quiet
and after each batch) and ``on_start`` (lower the thread's priority). A job submitted
``urgent`` (a query someone waits for), a flush and ``close`` cut that wait short: the
thread naps on an event they set, so a long nap costs nobody an answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

__all__ = ["WorkerThread"]

log = logging.getLogger(__name__)

J = TypeVar("J")


class _Flush:
    """A marker in the queue: everything before it has run once it is reached."""

    __slots__ = ("done",)

    def __init__(self, done: asyncio.Future[None]) -> None:
        self.done = done


class _Stop:
    """The marker ``close`` queues last: the thread ends once it is reached."""

    __slots__ = ()


_STOP = _Stop()


class WorkerThread(Generic[J]):
    """Owns one daemon thread and its queue; create it on the event loop it reports to."""

    def __init__(
        self,
        run: Callable[[list[J]], None],
        *,
        name: str,
        max_batch: int,
        on_error: Callable[[BaseException], None] | None = None,
        coalesce: Callable[[J], float] | None = None,
        idle: Callable[[], None] | None = None,
        idle_seconds: float | None = None,
        on_start: Callable[[], None] | None = None,
        on_stop: Callable[[], None] | None = None,
    ) -> None:
        self.name = name
        self.loop = asyncio.get_running_loop()
        self._run_jobs = run
        self._max_batch = max_batch
        self._on_error = on_error
        self._coalesce = coalesce
        self._idle = idle
        self._idle_seconds = idle_seconds
        self._on_start = on_start
        self._on_stop = on_stop
        self._queue: queue.SimpleQueue[J | _Flush | _Stop] = queue.SimpleQueue()
        # Set to end a coalescing nap early; cleared only when a nap ends, so a wake-up
        # that comes while the thread is busy skips its next nap instead of being lost.
        self._wake = threading.Event()
        self.closing = False
        self._thread = threading.Thread(target=self._main, name=name, daemon=True)
        self._thread.start()

    def submit(self, job: J, *, urgent: bool = False) -> None:
        """Queue ``job`` behind every job submitted before it; refused once closing.
        ``urgent``: someone waits for it, so the thread ends its coalescing nap now."""
        if self.closing:
            raise RuntimeError(f"{self.name} is closed")
        self._queue.put(job)
        if urgent:
            self._wake.set()

    def wake(self) -> None:
        """End the thread's coalescing nap now (or skip its next one)."""
        self._wake.set()

    async def flush(self) -> None:
        """Return once every job submitted before this call has run (or failed); refused
        once closing (nothing would answer)."""
        if self.closing:
            raise RuntimeError(f"{self.name} is closed")
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.put(_Flush(done))
        self._wake.set()
        await done

    async def close(self) -> None:
        """Run what is queued and ``on_stop``, then end the thread; a second call returns
        at once."""
        if self.closing:
            return
        self.closing = True
        self._queue.put(_STOP)
        self._wake.set()
        await asyncio.to_thread(self._thread.join)

    def call_on_loop(self, fn: Callable[..., None], *args: object) -> None:
        """Run ``fn(*args)`` on the loop, after everything this thread scheduled before."""
        # RuntimeError: the loop has closed (shutdown); nobody is left to tell.
        with contextlib.suppress(RuntimeError):
            self.loop.call_soon_threadsafe(fn, *args)

    # ------------------------------------------------------------------ the thread

    def _main(self) -> None:
        if self._on_start is not None:
            self._on_start()
        while True:
            try:
                first = self._queue.get(timeout=self._idle_seconds)
            except queue.Empty:
                self._guarded(self._idle)
                continue
            if self._coalesce is not None and not isinstance(first, (_Flush, _Stop)):
                pause = self._coalesce(first)
                if pause > 0:
                    self._nap(pause)
            items = [first]
            while len(items) < self._max_batch and not isinstance(items[-1], _Stop):
                try:
                    items.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            stop = isinstance(items[-1], _Stop)
            self._run_items(items[:-1] if stop else items)
            if stop:
                self._guarded(self._on_stop)
                return
            self._guarded(self._idle)

    def _nap(self, seconds: float) -> None:
        """Let jobs gather for ``seconds``, unless ``wake`` is (or was) called."""
        if self._wake.wait(seconds):
            self._wake.clear()

    def _run_items(self, items: list[J | _Flush | _Stop]) -> None:
        """Hand the jobs to ``run`` in lists that end at each flush, then answer it."""
        jobs: list[J] = []
        for item in items:
            if isinstance(item, _Flush):
                self._run(jobs)
                jobs = []
                # The future's own loop: the one the flushing coroutine waits on.
                with contextlib.suppress(RuntimeError):
                    item.done.get_loop().call_soon_threadsafe(_resolve, item.done)
            elif not isinstance(item, _Stop):
                jobs.append(item)
        self._run(jobs)

    def _run(self, jobs: list[J]) -> None:
        if not jobs:
            return
        try:
            self._run_jobs(jobs)
        except Exception as exc:
            log.exception("%s: a batch of %d jobs failed", self.name, len(jobs))
            if self._on_error is not None:
                self.call_on_loop(self._on_error, exc)

    def _guarded(self, hook: Callable[[], None] | None) -> None:
        if hook is None:
            return
        try:
            hook()
        except Exception:
            log.exception("%s: housekeeping failed", self.name)


def _resolve(done: asyncio.Future[None]) -> None:
    if not done.done():
        done.set_result(None)
