"""Brute-force throttling for logins, pure and clock-injected.

Rules (the numbers are ``ThrottlePolicy``'s defaults; docs/security.md has the figures):

- A try is *reserved* when its check starts, on the counter of its address group and on
  the counter of its account, and counts as a failure until it succeeds. Tries in flight
  at once are therefore judged as if they had been made one after the other: 16 parallel
  guesses from one address get the same 3 free checks as 16 in a row.
- A try that would be refused only if the tries in flight fail is *held* and decided again
  as soon as they end, so a correct password is never refused because of other tries that
  then succeed (several devices of one household logging in at once).
- Per counter: 3 failures cost nothing; after that each try waits 1 s after the latest
  failure, doubling with each failure up to 300 s. A counter is forgotten one hour after
  its latest failure. Forgetting needs a quiet hour, so any hour holds at most one fresh
  start: at most 22 checked tries per counter in any hour (3 free, 9 doubling waits, 10 at
  the cap), 12 an hour when sustained.
- A success releases its own reservation and nothing else: failures before it stay, so an
  owner's frequent logins cannot refill the budget of someone guessing their password. It
  also trusts the pair: an address group that logged into an account in the last 30 days
  is not held back by that account's counter, only by its own.
- Reserve: when the account's counter refuses, an address group with no failure in the
  last 24 hours may still be checked, drawing on the account's reserve of 3 tries (one
  comes back every 20 minutes). The owner at a new place thus gets in while strangers are
  guessing elsewhere, and every reserve guess costs an attacker an address group that has
  never failed; it adds at most 6 tries in any hour to the account's figure.
- Memory is bounded: each table keeps at most ``max_entries`` keys and drops the one
  touched longest ago.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

__all__ = ["LoginAttempt", "LoginThrottle", "ThrottlePolicy"]

log = logging.getLogger("chatroom.auth")

K = TypeVar("K")
V = TypeVar("V")

# The answer to a request: a reserved try to check now, or None and the seconds to wait.
Decided = Callable[["LoginAttempt | None", float], None]


@dataclass(frozen=True, slots=True)
class ThrottlePolicy:
    free_failures: int = 3
    base_delay: float = 1.0
    max_delay: float = 300.0
    forget_after: float = 3600.0
    clean_after: float = 24 * 3600.0
    reserve: int = 3
    reserve_every: float = 1200.0
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
class _Counter:
    failures: int = 0
    in_flight: int = 0
    last_failure: float | None = None


@dataclass(slots=True)
class _Reserve:
    tokens: float
    updated: float


@dataclass(slots=True)
class LoginAttempt:
    """A reserved try: end it with ``failed``, ``succeeded`` or ``cancel`` exactly once."""

    account_key: str
    address: str
    on_account: bool  # reserved on the account's counter (not a trusted pair, not the reserve)
    from_reserve: bool
    open: bool = True


@dataclass(slots=True)
class _Held:
    account_key: str
    address: str
    then: Decided
    woken: bool = False


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

    def __len__(self) -> int:
        return len(self._items)


class LoginThrottle:
    """Decides whether a password check for an account from an address group may run."""

    def __init__(self, clock: Callable[[], float], policy: ThrottlePolicy | None = None) -> None:
        self._clock = clock
        self.policy = policy or ThrottlePolicy()
        limit = self.policy.max_entries
        self._by_address: _BoundedTable[str, _Counter] = _BoundedTable(limit)
        self._by_account: _BoundedTable[str, _Counter] = _BoundedTable(limit)
        self._reserves: _BoundedTable[str, _Reserve] = _BoundedTable(limit)
        self._trusted: _BoundedTable[tuple[str, str], float] = _BoundedTable(limit)
        self._held: dict[tuple[str, str], list[_Held]] = {}

    # ------------------------------------------------------------------ asking

    def request(self, account_key: str, address: str, then: Decided) -> None:
        """Decide a try: ``then(attempt, 0.0)`` to check it, ``then(None, wait)`` to refuse.

        ``then`` runs now, or later (when a try in flight on the same address group or
        account ends) if only the outcome of those tries decides this one.
        """
        wait, hold_address, hold_account, from_reserve = self._decide(account_key, address)
        if wait > 0:
            then(None, wait)
            return
        if hold_address or hold_account:
            held = _Held(account_key, address, then)
            if hold_address:
                self._held.setdefault(("address", address), []).append(held)
            if hold_account:
                self._held.setdefault(("account", account_key), []).append(held)
            return
        then(self._reserve_try(account_key, address, from_reserve), 0.0)

    def retry_after(self, account_key: str, address: str) -> float:
        """Seconds until a try could be checked, without reserving one (0.0: now or soon)."""
        return self._decide(account_key, address)[0]

    # ------------------------------------------------------------------ answering

    def failed(self, attempt: LoginAttempt) -> None:
        """A wrong password (or an unknown account: the two must look the same)."""
        if not attempt.open:
            return
        attempt.open = False
        now = self._clock()
        self._count_failure(self._by_address, attempt.address, now)
        if attempt.on_account:
            self._count_failure(self._by_account, attempt.account_key, now)
        self._wake(attempt)

    def succeeded(self, attempt: LoginAttempt) -> None:
        """Release the try and trust this address group for this account."""
        if not attempt.open:
            return
        self._release(attempt)
        self._trusted.put((attempt.account_key, attempt.address), self._clock())
        self._wake(attempt)

    def cancel(self, attempt: LoginAttempt) -> None:
        """The password was never checked (the client left, the server was busy)."""
        if not attempt.open:
            return
        self._release(attempt)
        self._wake(attempt)

    def tracked(self) -> int:
        """How many entries are held in all tables (for tests and metrics)."""
        return (
            len(self._by_address) + len(self._by_account) + len(self._reserves) + len(self._trusted)
        )

    # ------------------------------------------------------------------ deciding

    def _decide(self, account_key: str, address: str) -> tuple[float, bool, bool, bool]:
        """(wait, hold for the address, hold for the account, draw on the reserve)."""
        now = self._clock()
        by_address = self._by_address.get(address)
        address_wait = self._verdict(by_address, now)
        account_wait: float | None = 0.0
        from_reserve = False
        if not self._is_trusted(account_key, address, now):
            account_wait = self._verdict(self._by_account.get(account_key), now)
            if account_wait is not None and account_wait > 0 and self._clean(by_address, now):
                refill = self._reserve_wait(account_key, now)
                if refill == 0.0:
                    account_wait, from_reserve = 0.0, True
                else:
                    account_wait = min(account_wait, refill)
        wait = max(address_wait or 0.0, account_wait or 0.0)
        return wait, address_wait is None, account_wait is None, from_reserve

    def _verdict(self, counter: _Counter | None, now: float) -> float | None:
        """0.0: go, even if every try in flight fails; None: hold until they end; else wait."""
        if counter is None:
            return 0.0
        failures = self._failures(counter, now)
        wait = 0.0
        if counter.last_failure is not None:
            wait = max(0.0, counter.last_failure + self.policy.delay(failures) - now)
        if wait > 0:
            return wait
        if counter.in_flight == 0 or failures + counter.in_flight < self.policy.free_failures:
            return 0.0
        return None

    def _failures(self, counter: _Counter, now: float) -> int:
        last = counter.last_failure
        if last is None or now - last >= self.policy.forget_after:
            return 0
        return counter.failures

    def _clean(self, counter: _Counter | None, now: float) -> bool:
        """No try in flight and no failure within ``clean_after``: may use the reserve."""
        if counter is None:
            return True
        last = counter.last_failure
        recent = last is not None and now - last < self.policy.clean_after
        return counter.in_flight == 0 and not recent

    def _is_trusted(self, account_key: str, address: str, now: float) -> bool:
        since = self._trusted.get((account_key, address))
        return since is not None and now - since < self.policy.trusted_for

    def _reserve_now(self, account_key: str, now: float) -> _Reserve:
        full = float(self.policy.reserve)
        reserve = self._reserves.get(account_key)
        if reserve is None:
            return _Reserve(full, now)
        refilled = reserve.tokens + (now - reserve.updated) / self.policy.reserve_every
        return _Reserve(min(full, refilled), now)

    def _reserve_wait(self, account_key: str, now: float) -> float:
        if self.policy.reserve <= 0:
            return self.policy.max_delay
        tokens = self._reserve_now(account_key, now).tokens
        return 0.0 if tokens >= 1.0 else (1.0 - tokens) * self.policy.reserve_every

    # ------------------------------------------------------------------ bookkeeping

    def _reserve_try(self, account_key: str, address: str, from_reserve: bool) -> LoginAttempt:
        now = self._clock()
        on_account = not from_reserve and not self._is_trusted(account_key, address, now)
        self._add_in_flight(self._by_address, address, 1)
        if on_account:
            self._add_in_flight(self._by_account, account_key, 1)
        if from_reserve:
            self._take_reserve(account_key, now, -1.0)
        return LoginAttempt(account_key, address, on_account, from_reserve)

    def _release(self, attempt: LoginAttempt) -> None:
        attempt.open = False
        self._add_in_flight(self._by_address, attempt.address, -1)
        if attempt.on_account:
            self._add_in_flight(self._by_account, attempt.account_key, -1)
        if attempt.from_reserve:
            self._take_reserve(attempt.account_key, self._clock(), 1.0)

    def _take_reserve(self, account_key: str, now: float, change: float) -> None:
        reserve = self._reserve_now(account_key, now)
        reserve.tokens = min(float(self.policy.reserve), reserve.tokens + change)
        self._reserves.put(account_key, reserve)

    @staticmethod
    def _add_in_flight(table: _BoundedTable[str, _Counter], key: str, change: int) -> None:
        counter = table.get(key) or _Counter()
        counter.in_flight = max(0, counter.in_flight + change)
        table.put(key, counter)

    def _count_failure(self, table: _BoundedTable[str, _Counter], key: str, now: float) -> None:
        counter = table.get(key) or _Counter()
        counter.failures = self._failures(counter, now) + 1
        counter.in_flight = max(0, counter.in_flight - 1)
        counter.last_failure = now
        table.put(key, counter)

    def _wake(self, attempt: LoginAttempt) -> None:
        """Decide again every request held for the address group or account that moved."""
        woken: list[_Held] = []
        for key in (("address", attempt.address), ("account", attempt.account_key)):
            woken.extend(self._held.pop(key, ()))
        for held in woken:
            if held.woken:
                continue  # held for both keys and already woken by the other
            held.woken = True
            try:
                self.request(held.account_key, held.address, held.then)
            except Exception:  # one broken continuation must not strand the others
                log.exception("resuming a held login failed")
