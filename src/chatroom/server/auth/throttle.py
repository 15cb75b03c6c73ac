"""Brute-force throttling for logins, pure and clock-injected.

Policy (numbers are the defaults):
- Failures are counted per source address and per account. 3 failures in a row cost
  nothing; after the 3rd the next attempt must wait 1 s, and each further failure doubles
  the wait (2 s, 4 s ...) up to 300 s. The wait runs from the latest failure.
- The caller asks ``retry_after`` before checking a password and must not check (nor
  count) an attempt made while it is positive, so an attacker cannot extend a lockout by
  hammering, and the owner is never locked out for longer than the cap.
- A counter is forgotten 15 minutes after its latest failure.
- A success clears the counter of that address and of that account, and remembers the
  pair for 30 days: an address that has logged into an account before is not held back by
  that account's counter, so strangers guessing from elsewhere cannot lock the owner out.
- Memory is bounded: each table keeps at most ``max_entries`` keys and drops the one
  touched longest ago.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

__all__ = ["LoginThrottle", "ThrottlePolicy"]

K = TypeVar("K")
V = TypeVar("V")


@dataclass(frozen=True, slots=True)
class ThrottlePolicy:
    free_failures: int = 3
    base_delay: float = 1.0
    max_delay: float = 300.0
    forget_after: float = 900.0
    trusted_for: float = 30 * 24 * 3600.0
    max_entries: int = 100_000

    def delay(self, failures: int) -> float:
        """The wait after ``failures`` consecutive failures."""
        over = failures - self.free_failures
        if over < 0:
            return 0.0
        # Cap the exponent first: 2.0 ** 10_000 would overflow.
        return min(self.base_delay * 2.0 ** min(over, 64), self.max_delay)


@dataclass(slots=True)
class _Failures:
    count: int
    last: float


class _BoundedTable(Generic[K, V]):
    """An LRU-bounded dict: touching a key makes it the last to be evicted."""

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._items: OrderedDict[K, V] = OrderedDict()

    def get(self, key: K) -> V | None:
        return self._items.get(key)

    def put(self, key: K, value: V) -> None:
        self._items[key] = value
        self._items.move_to_end(key)
        while len(self._items) > self._limit:
            self._items.popitem(last=False)

    def pop(self, key: K) -> None:
        self._items.pop(key, None)

    def __len__(self) -> int:
        return len(self._items)


class LoginThrottle:
    """Decides when the next password check for an address/account pair may happen."""

    def __init__(self, clock: Callable[[], float], policy: ThrottlePolicy | None = None) -> None:
        self._clock = clock
        self.policy = policy or ThrottlePolicy()
        limit = self.policy.max_entries
        self._by_address: _BoundedTable[str, _Failures] = _BoundedTable(limit)
        self._by_account: _BoundedTable[str, _Failures] = _BoundedTable(limit)
        self._trusted: _BoundedTable[tuple[str, str], float] = _BoundedTable(limit)

    def retry_after(self, account_key: str, address: str) -> float:
        """Seconds until an attempt may be checked; 0.0 means now."""
        now = self._clock()
        waits = [self._wait(self._by_address, address, now)]
        if not self._is_trusted(account_key, address, now):
            waits.append(self._wait(self._by_account, account_key, now))
        return max(waits)

    def failed(self, account_key: str, address: str) -> None:
        """Count a wrong password (or unknown account: they must look the same)."""
        now = self._clock()
        self._count(self._by_address, address, now)
        self._count(self._by_account, account_key, now)

    def succeeded(self, account_key: str, address: str) -> None:
        """Clear both counters and remember that this address knows this account."""
        self._by_address.pop(address)
        self._by_account.pop(account_key)
        self._trusted.put((account_key, address), self._clock())

    def tracked(self) -> int:
        """How many entries are held in all tables (for tests and metrics)."""
        return len(self._by_address) + len(self._by_account) + len(self._trusted)

    def _is_trusted(self, account_key: str, address: str, now: float) -> bool:
        since = self._trusted.get((account_key, address))
        return since is not None and now - since < self.policy.trusted_for

    def _current(self, table: _BoundedTable[str, _Failures], key: str, now: float) -> _Failures:
        entry = table.get(key)
        if entry is None or now - entry.last >= self.policy.forget_after:
            return _Failures(0, now)
        return entry

    def _wait(self, table: _BoundedTable[str, _Failures], key: str, now: float) -> float:
        entry = self._current(table, key, now)
        return max(0.0, entry.last + self.policy.delay(entry.count) - now)

    def _count(self, table: _BoundedTable[str, _Failures], key: str, now: float) -> None:
        entry = self._current(table, key, now)
        table.put(key, _Failures(entry.count + 1, now))
