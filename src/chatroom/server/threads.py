"""Helper threads yield the CPU to the event loop.

The loop carries every client's latency; the history writer only needs to finish
eventually (argon2id runs in worker processes, niced the same way: see
``auth/password_workers.py``). On Linux, niceness is per thread, so each helper thread lowers
its own priority when it starts (bench: the login storm's effect on chat latency).
"""

from __future__ import annotations

import os
import threading

HELPER_NICENESS = 10


def lower_priority() -> None:
    """Make the calling thread nicer than the loop; a no-op where that is not possible."""
    if not hasattr(os, "setpriority"):
        return
    try:
        current = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), max(current, HELPER_NICENESS))
    except OSError:
        pass  # not permitted here: run at normal priority
