"""Keep glibc from moving each TLS connection's read buffer into the heap.

Why: uvloop gives every TLS connection a 256 KiB read buffer, of which only the pages
actually read into become resident, as long as the buffer is its own ``mmap``. But glibc
raises its mmap threshold whenever a large mapped block is freed (up to 32 MiB), and the
first TLS connection to close frees one of those buffers. From then on new buffers come
from the heap, where more of each one ends up resident: 10,000 idle TLS clients took
44 KiB each instead of 27 KiB (docs/benchmarks.md, "Over TLS").

Setting the threshold once keeps it at glibc's default and turns the adjustment off. It
would make argon2id map its 19 MiB afresh for every hash, but hashing runs in worker
processes (``auth/password_workers.py``), which this setting does not reach.

A no-op where the C library has no ``mallopt`` (macOS; musl's is a stub).
"""

from __future__ import annotations

import ctypes

M_MMAP_THRESHOLD = -3  # from glibc's <malloc.h>
MMAP_THRESHOLD = 128 * 1024  # glibc's default, now fixed


def fix_mmap_threshold() -> bool:
    """Fix the mmap threshold for this process; True when the C library accepted it."""
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD))
