"""Which nodes the lease holder declares lost: the rules, apart from Redis and the clock.

Every node beats each second: its entry in ``chatroom:nodes`` is scored by when it
expires (``NODE_TTL_MS`` later, on Redis's clock). The lease holder declares lost an
incarnation that holds sessions and whose beat has expired, so that its users quit for
everyone. Two things look like that without being it, and must not empty the network:

- Redis was away (restarted, unreachable): nobody could beat meanwhile, so every beat
  looks old. A node judges only after ``NODE_TTL_MS`` in touch with Redis again, by
  which time every live node has beaten.
- Redis lost its keys (flushed, evicted, restarted empty) while the nodes stayed
  connected: the beats are not old but missing. A missing beat is taken for a death only
  once it has stayed missing for ``NODE_TTL_MS``; a live node puts it back within a second.
"""

from __future__ import annotations

from collections.abc import Mapping

NODE_TTL_MS = 6_000  # a node silent this long is lost (noticed within ~7 s)


class Liveness:
    """The lease holder's view; ``now`` arguments are monotonic seconds."""

    def __init__(self) -> None:
        self.in_touch_since: float | None = None  # Redis answering since; None: failing
        self.declared: set[str] = set()  # announced lost, not yet applied
        self._missing_since: dict[str, float] = {}  # incarnation -> first seen without beat

    def redis_failed(self) -> None:
        self.in_touch_since = None

    def redis_answered(self, now: float) -> None:
        if self.in_touch_since is None:
            self.in_touch_since = now

    def lost(
        self, beats: Mapping[str, float], redis_ms: int, holding: set[str], now: float
    ) -> list[str]:
        """The incarnations to declare lost now (each once): ``beats`` maps each listed
        incarnation to when its beat expires (Redis ms), ``holding`` are those that hold
        sessions."""
        since = self.in_touch_since
        if since is None or now - since < NODE_TTL_MS / 1000:
            return []
        self.declared &= holding
        found = []
        for incarnation in sorted(holding - self.declared):
            expires = beats.get(incarnation)
            if expires is None:
                first = self._missing_since.setdefault(incarnation, now)
                if now - first < NODE_TTL_MS / 1000:
                    continue
            elif expires >= redis_ms:
                continue
            found.append(incarnation)
        self.declared.update(found)
        for gone in set(self._missing_since) - (holding - set(beats)) | set(found):
            self._missing_since.pop(gone, None)
        return found
