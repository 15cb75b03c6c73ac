"""How many accounts each address group created lately: ``accounts.registrations_per_hour``.

Each account is kept for good (in the store and in memory), so open registration without
a rate would let one client grow both for as long as it likes, one password hash at a
time. The table is bounded too: at most ``GROUPS`` address groups, those with no
registration in the last hour dropped first, then the oldest.

A registration takes its slot when it starts (``record``), not when the account is saved:
the password hash and the commit take a while, and registrations still in flight would
otherwise all pass the check and overshoot the budget together. One that fails gives its
slot back (``release``), as the login throttle gives back a guess that was never checked.
"""

from __future__ import annotations

from collections import deque

HOUR = 3600.0
GROUPS = 10_000


class Signups:
    """Address group -> times of its recent registrations (newest last)."""

    __slots__ = ("_times",)

    def __init__(self) -> None:
        self._times: dict[str, deque[float]] = {}

    def allowed(self, group: str, per_hour: int, now: float) -> bool:
        """May ``group`` create one more account now? (``per_hour`` 0: no bound.)"""
        times = self._times.get(group)
        if per_hour <= 0 or times is None:
            return True
        while times and now - times[0] >= HOUR:
            times.popleft()
        return len(times) < per_hour

    def record(self, group: str, per_hour: int, now: float) -> None:
        """``group`` is creating an account now (or trying: ``release`` if it fails)."""
        if per_hour <= 0:
            return
        times = self._times.get(group)
        if times is None:
            if len(self._times) >= GROUPS:
                self._forget(now)
            times = self._times[group] = deque(maxlen=per_hour)
        times.append(now)

    def release(self, group: str, at: float) -> None:
        """The registration ``record``-ed at ``at`` failed: its slot is free again."""
        times = self._times.get(group)
        if times is not None and at in times:
            times.remove(at)

    def _forget(self, now: float) -> None:
        for group in [g for g, t in self._times.items() if not t or now - t[-1] >= HOUR]:
            del self._times[group]
        while len(self._times) >= GROUPS:
            del self._times[next(iter(self._times))]

    def __len__(self) -> int:
        return len(self._times)
