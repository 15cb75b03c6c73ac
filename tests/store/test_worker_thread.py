"""The worker thread both store writers stand on: order, batches, flush, errors, close."""

from __future__ import annotations

import asyncio
import threading

import pytest

from chatroom.server.store.worker_thread import WorkerThread


class Recorder:
    """A ``run`` that remembers each batch it was handed and the thread it ran on; it can
    be held inside a batch (``gate``) and fails on the job ``"bad"``."""

    def __init__(self, gate: threading.Event | None = None) -> None:
        self.gate = gate
        self.entered = threading.Event()
        self.batches: list[list[str]] = []
        self.threads: set[str] = set()

    def __call__(self, jobs: list[str]) -> None:
        self.entered.set()
        if self.gate is not None:
            self.gate.wait(5)
        self.threads.add(threading.current_thread().name)
        if "bad" in jobs:
            raise ValueError("bad job")
        self.batches.append(list(jobs))

    @property
    def jobs(self) -> list[str]:
        return [job for batch in self.batches for job in batch]


def test_jobs_run_in_submission_order_on_the_worker_thread() -> None:
    async def main() -> Recorder:
        run = Recorder()
        worker: WorkerThread[str] = WorkerThread(run, name="worker-under-test", max_batch=7)
        for n in range(100):
            worker.submit(f"job{n}")
        await worker.flush()
        await worker.close()
        return run

    run = asyncio.run(main())
    assert run.jobs == [f"job{n}" for n in range(100)]
    assert run.threads == {"worker-under-test"}
    assert max(len(batch) for batch in run.batches) <= 7


def test_jobs_waiting_together_are_handed_over_as_one_batch() -> None:
    async def main() -> list[list[str]]:
        gate = threading.Event()
        run = Recorder(gate)
        worker: WorkerThread[str] = WorkerThread(run, name="w", max_batch=100)
        worker.submit("first")
        await asyncio.to_thread(run.entered.wait, 5)  # the thread is inside the first batch
        for n in range(3):
            worker.submit(f"later{n}")
        gate.set()
        await worker.close()
        return run.batches

    assert asyncio.run(main()) == [["first"], ["later0", "later1", "later2"]]


def test_flush_waits_for_every_job_submitted_before_it() -> None:
    async def main() -> None:
        gate = threading.Event()
        run = Recorder(gate)
        worker: WorkerThread[str] = WorkerThread(run, name="w", max_batch=100)
        worker.submit("a")
        await asyncio.to_thread(run.entered.wait, 5)
        worker.submit("b")
        flushed = asyncio.ensure_future(worker.flush())
        await asyncio.sleep(0)  # the flush is queued once its task starts
        worker.submit("c")
        await asyncio.sleep(0.05)
        assert not flushed.done()  # "a" is still running, "b" waits behind it
        gate.set()
        await flushed
        assert run.jobs[:2] == ["a", "b"]
        await worker.close()
        # A flush ends the batch it is in: "c", queued after it, ran on its own.
        assert run.batches == [["a"], ["b"], ["c"]]

    asyncio.run(main())


def test_a_failing_job_is_reported_on_the_loop_and_the_next_one_still_runs() -> None:
    async def main() -> None:
        run = Recorder()
        loop_thread = threading.get_ident()
        errors: list[tuple[str, int]] = []
        worker: WorkerThread[str] = WorkerThread(
            run,
            name="w",
            max_batch=100,
            on_error=lambda exc: errors.append((str(exc), threading.get_ident())),
        )
        worker.submit("bad")
        await worker.flush()
        assert errors == [("bad job", loop_thread)]
        worker.submit("good")
        await worker.close()
        assert run.jobs == ["good"]

    with pytest.MonkeyPatch.context() as mp:
        # The worker logs the failure with a traceback; keep test output quiet.
        mp.setattr("chatroom.server.store.worker_thread.log.disabled", True)
        asyncio.run(main())


def test_close_runs_everything_queued_then_the_stop_hook_then_refuses_more() -> None:
    async def main() -> None:
        gate = threading.Event()
        run = Recorder(gate)
        events: list[str] = []
        worker: WorkerThread[str] = WorkerThread(
            run, name="w", max_batch=3, on_stop=lambda: events.append(f"stop {len(run.jobs)}")
        )
        for n in range(10):
            worker.submit(f"job{n}")
        gate.set()
        await worker.close()
        assert run.jobs == [f"job{n}" for n in range(10)]
        assert events == ["stop 10"]
        with pytest.raises(RuntimeError):
            worker.submit("late")
        with pytest.raises(RuntimeError):
            await worker.flush()
        await worker.close()  # a second close returns at once
        assert events == ["stop 10"]

    asyncio.run(main())


def test_coalesce_lets_jobs_queued_meanwhile_join_the_first_ones_batch() -> None:
    async def main() -> list[list[str]]:
        pausing = threading.Event()
        resume = threading.Event()

        def coalesce(job: str) -> float:
            pausing.set()
            resume.wait(5)  # the test queues more while the thread "waits"
            return 0.0

        run = Recorder()
        worker: WorkerThread[str] = WorkerThread(run, name="w", max_batch=100, coalesce=coalesce)
        worker.submit("first")
        await asyncio.to_thread(pausing.wait, 5)
        worker.submit("second")
        worker.submit("third")
        resume.set()
        await worker.close()
        return run.batches

    assert asyncio.run(main()) == [["first", "second", "third"]]


def _napping_worker(run: Recorder, napping: threading.Event) -> WorkerThread[str]:
    """A worker whose every job would nap for a minute before its batch runs."""

    def coalesce(job: str) -> float:
        napping.set()
        return 60.0

    return WorkerThread(run, name="w", max_batch=100, coalesce=coalesce)


@pytest.mark.parametrize("how", ["urgent job", "wake", "flush"])
def test_an_urgent_job_a_wake_or_a_flush_ends_the_coalescing_nap(how: str) -> None:
    """Nobody waits out the nap: the batch runs once someone needs it (without the
    wake-up, the batch would wait 60 s and the test would time out)."""

    async def main() -> list[list[str]]:
        napping = threading.Event()
        run = Recorder()
        worker = _napping_worker(run, napping)
        worker.submit("first")
        await asyncio.to_thread(napping.wait, 5)
        if how == "urgent job":
            worker.submit("query", urgent=True)
        elif how == "wake":
            worker.wake()
        else:
            await asyncio.wait_for(worker.flush(), 10)
        await asyncio.wait_for(asyncio.to_thread(run.entered.wait, 10), 10)
        await asyncio.wait_for(worker.close(), 10)
        return run.batches

    batches = asyncio.run(main())
    assert batches[0][0] == "first"
    assert [job for batch in batches for job in batch] in (["first"], ["first", "query"])


def test_a_wake_while_the_thread_is_busy_skips_its_next_nap() -> None:
    """A wake-up that comes between naps is kept for the next one, never lost."""

    async def main() -> list[list[str]]:
        gate = threading.Event()
        run = Recorder(gate)
        napping = threading.Event()
        worker = _napping_worker(run, napping)
        worker.wake()  # before any nap: the first nap ends at once
        worker.submit("first")
        await asyncio.wait_for(asyncio.to_thread(run.entered.wait, 10), 10)
        worker.submit("second")
        worker.wake()  # the thread is busy in "first": this ends the nap of "second"
        run.entered.clear()
        gate.set()
        await asyncio.wait_for(asyncio.to_thread(run.entered.wait, 10), 10)
        await asyncio.wait_for(worker.close(), 10)
        return run.batches

    assert asyncio.run(main()) == [["first"], ["second"]]


def test_start_and_idle_hooks_run_on_the_worker_thread() -> None:
    async def main() -> tuple[set[str], bool]:
        threads: set[str] = set()
        idle = threading.Event()

        def on_idle() -> None:
            threads.add(threading.current_thread().name)
            idle.set()

        worker: WorkerThread[str] = WorkerThread(
            Recorder(),
            name="w-hooks",
            max_batch=10,
            on_start=lambda: threads.add(threading.current_thread().name),
            idle=on_idle,
            idle_seconds=0.01,
        )
        quiet = await asyncio.to_thread(idle.wait, 5)  # nothing queued: the idle hook runs
        await worker.close()
        return threads, quiet

    threads, quiet = asyncio.run(main())
    assert quiet
    assert threads == {"w-hooks"}


def test_jobs_report_their_own_outcomes_on_the_loop_in_order() -> None:
    async def main() -> None:
        seen: list[tuple[str, int]] = []
        holder: list[WorkerThread[str]] = []

        def run(jobs: list[str]) -> None:
            for job in jobs:
                holder[0].call_on_loop(lambda job=job: seen.append((job, threading.get_ident())))

        holder.append(WorkerThread(run, name="w", max_batch=4))
        for n in range(10):
            holder[0].submit(str(n))
        await holder[0].flush()
        assert seen == [(str(n), threading.get_ident()) for n in range(10)]
        await holder[0].close()

    asyncio.run(main())
