"""The open-file limit: raised at start, and a reserve kept below it.

Every connection costs one file descriptor. When they run out, ``accept()`` fails inside
the event loop, which stops accepting for a while and logs errors: then new IRC clients
get no welcome and ``/healthz`` resets, whatever the connection limits say. So at start
the soft ``RLIMIT_NOFILE`` is raised to the hard limit (what the administrator allows,
without privileges), and the connection limits are capped a reserve below it: the excess
is refused by the server, politely, while descriptors remain for the databases, the
password workers, TLS and what the kernel still has to accept before it is refused.
"""

from __future__ import annotations

import logging
import os

from chatroom.logs import error_text

try:
    import resource
except ImportError:  # not on Windows; there is no limit to manage there
    resource = None  # type: ignore[assignment]

log = logging.getLogger("chatroom.net")

# Linux cannot go above fs.nr_open (1048576 by default) even when the hard limit says
# "unlimited"; asking for more fails, so an unlimited hard limit is read as this.
_UNLIMITED_AS = 1 << 20
MIN_RESERVE = 128


def reserve_for(limit: int) -> int:
    """Descriptors kept free: 1/16 of the limit, never fewer than ``MIN_RESERVE``.

    What the reserve covers: files SQLite opens while running (temporary files, backups),
    TLS and worker pipes, and the connections the kernel has queued before the server
    refuses them (a listener accepts a backlog's worth in one pass).
    """
    return max(MIN_RESERVE, limit // 16)


def raise_open_file_limit() -> int | None:
    """Raise the soft limit to the hard one; returns the soft limit now (None: unknown)."""
    if resource is None:
        return None
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = _UNLIMITED_AS if hard == resource.RLIM_INFINITY else hard
    if soft != resource.RLIM_INFINITY and soft < wanted:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
            soft = wanted
        except (OSError, ValueError) as err:
            log.warning(
                "could not raise the open file limit",
                extra={"soft": soft, "hard": hard, "error": error_text(err)},
            )
    return None if soft == resource.RLIM_INFINITY else soft


def open_descriptors() -> int | None:
    """How many descriptors the process has open now (None where /proc is missing)."""
    try:
        return len(os.listdir("/proc/self/fd")) - 1  # listdir's own descriptor
    except OSError:
        return None


def connection_capacity(limit: int | None) -> int | None:
    """Connections the process can still hold, with the reserve kept (None: no limit).

    Called once everything that stays open (listeners, databases, workers) is open, so
    each further connection costs exactly one descriptor.
    """
    if limit is None:
        return None
    in_use = open_descriptors()
    if in_use is None:
        in_use = 64  # a guess for systems without /proc; the reserve absorbs the error
    return max(1, limit - in_use - reserve_for(limit))
