"""argon2id in worker processes, not threads of the server.

Why processes:

- **Memory.** Each hash allocates and frees 19 MiB. In the server's own process that
  raises glibc's dynamic mmap threshold, after which uvloop's 256 KiB TLS read buffers come
  from the heap and an idle TLS connection costs 45 KiB instead of 27
  (docs/benchmarks.md, "Over TLS"). In a worker the memory stays there, reused hash after
  hash.
- **The GIL.** A thread returning from a hash must take the GIL back from the event loop.
  A process never competes for it.

The workers start from a fresh ``forkserver`` process (never a fork of the server with
its threads and sockets), run at a lower priority than the loop, keep one
``PasswordHasher`` each, and exit when the server does, even when it was killed. Only
strings cross the pipe: hashes, passwords and answers.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import select
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

from chatroom.server.auth.passwords import Argon2Params, PasswordHasher, make_scram_verifier

__all__ = ["PasswordWorkers", "hash_password", "verify_password"]

WORKER_NICENESS = 10
T = TypeVar("T")

_hasher: PasswordHasher | None = None  # one per worker process, set by _start_worker


def _start_worker(params: Argon2Params, server_pid: int) -> None:
    global _hasher
    # Ctrl-C reaches the whole process group; the server shuts its workers down itself,
    # and a worker's KeyboardInterrupt would only print a traceback into the server's log.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _hasher = PasswordHasher(params)
    with contextlib.suppress(OSError):  # not permitted here: run at normal priority
        os.nice(WORKER_NICENESS)
    threading.Thread(target=_exit_with, args=(server_pid,), daemon=True).start()


def _exit_with(server_pid: int) -> None:
    """End this worker when the server is gone, however it went (SIGKILL included).

    A worker's parent is the fork server, not the server, and it waits on a queue the
    server can no longer write to; without this it would wait, holding its 19 MiB,
    forever. A pidfd wakes us the moment the server exits; elsewhere we look every 2 s.
    """
    try:
        pidfd = os.pidfd_open(server_pid)
    except (AttributeError, OSError):
        while _alive(server_pid):
            time.sleep(2.0)
    else:
        select.select([pidfd], [], [])
    os._exit(0)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _worker_hasher() -> PasswordHasher:
    assert _hasher is not None, "called outside a password worker"
    return _hasher


def verify_password(password_hash: str, password: str) -> tuple[bool, tuple[str, str] | None]:
    """Verify, and re-hash when the stored hash used older argon2 parameters."""
    hasher = _worker_hasher()
    ok = hasher.verify(password_hash, password)
    if ok and hasher.needs_rehash(password_hash):
        return True, (hasher.hash(password), make_scram_verifier(password))
    return ok, None


def hash_password(password: str) -> tuple[str, str]:
    """A new argon2id hash and SCRAM verifier for ``password``."""
    return _worker_hasher().hash(password), make_scram_verifier(password)


def _context() -> multiprocessing.context.BaseContext:
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")


class PasswordWorkers:
    """A small pool of hashing processes that replaces itself if a worker dies."""

    def __init__(self, params: Argon2Params, workers: int = 2) -> None:
        self._params = params
        self._workers = workers
        self._pool = self._new_pool()

    def _new_pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            max_workers=self._workers,
            mp_context=_context(),
            initializer=_start_worker,
            initargs=(self._params, os.getpid()),
        )

    def submit(self, fn: Callable[..., T], *args: Any) -> Future[T]:
        """Run ``fn(*args)`` in a worker. A pool broken by a killed worker (the OOM killer,
        say) is replaced once, so one lost process does not end every later login."""
        try:
            return self._pool.submit(fn, *args)
        except BrokenProcessPool:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = self._new_pool()
            return self._pool.submit(fn, *args)

    def run(self, fn: Callable[..., T], *args: Any, timeout: float = 60.0) -> T:
        """Run ``fn(*args)`` in a worker and wait for it (start-up only, never on the loop)."""
        return self.submit(fn, *args).result(timeout=timeout)

    def pids(self) -> list[int]:
        """The worker processes running now (started on first use), for tests and ops."""
        processes = getattr(self._pool, "_processes", None) or {}
        return sorted(processes)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
