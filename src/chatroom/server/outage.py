"""How a loop that retries reports its service (Redis, PostgreSQL) failing: one warning
when it starts failing, one every ``REPEAT_SECONDS`` while it goes on, and one line when
it works again. The loops retry several times a second, so a warning per retry would be
lines a second per loop for as long as the service is away, burying everything else."""

from __future__ import annotations

import logging
import time

from chatroom.logs import error_text

log = logging.getLogger("chatroom.cluster")

REPEAT_SECONDS = 10.0


class Outage:
    """The state of one loop's link to Redis; ``what`` names the loop's work in the log."""

    def __init__(self, what: str, logger: logging.Logger = log) -> None:
        self.what = what
        self.log = logger
        self.since: float | None = None  # monotonic time of the first failure, while failing
        self._told = 0.0

    def failed(self, err: Exception) -> None:
        now = time.monotonic()
        if self.since is None:
            self.since = now
        if self.since == now or now - self._told >= REPEAT_SECONDS:
            self._told = now
            self.log.warning(
                "%s failed; retrying",
                self.what,
                extra={"error": error_text(err), "failing_for_seconds": round(now - self.since, 1)},
            )

    def ok(self) -> None:
        if self.since is None:
            return
        self.log.info(
            "%s works again",
            self.what,
            extra={"after_seconds": round(time.monotonic() - self.since, 1)},
        )
        self.since = None
