"""Login throttling, driven by a fake clock."""

from __future__ import annotations

from chatroom.server.auth.throttle import LoginThrottle, ThrottlePolicy


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def make(policy: ThrottlePolicy | None = None) -> tuple[LoginThrottle, FakeClock]:
    clock = FakeClock()
    return LoginThrottle(clock, policy), clock


def guess(throttle: LoginThrottle, clock: FakeClock, account: str, address: str) -> float:
    """One attacker attempt that waits out the throttle first; returns the time waited."""
    waited = throttle.retry_after(account, address)
    clock.advance(waited)
    assert throttle.retry_after(account, address) == 0.0
    throttle.failed(account, address)
    return waited


def test_first_failures_are_free() -> None:
    throttle, _ = make()
    for _ in range(3):
        assert throttle.retry_after("alice", "10.0.0.1") == 0.0
        throttle.failed("alice", "10.0.0.1")
    assert throttle.retry_after("alice", "10.0.0.1") > 0.0


def test_backoff_doubles_from_one_second() -> None:
    throttle, clock = make()
    waits = [guess(throttle, clock, "alice", "10.0.0.1") for _ in range(8)]
    assert waits == [0.0, 0.0, 0.0, 1.0, 2.0, 4.0, 8.0, 16.0]


def test_50_wrong_guesses_in_a_row_are_throttled() -> None:
    throttle, clock = make()
    for _ in range(50):
        throttle.failed("alice", "10.0.0.1")
    assert throttle.retry_after("alice", "10.0.0.1") == 300.0
    # An attacker who waits each time gets through 50 guesses only very slowly.
    throttle, clock = make()
    start = clock.now
    for _ in range(50):
        guess(throttle, clock, "alice", "10.0.0.1")
    assert clock.now - start > 3 * 3600


def test_delay_is_capped_at_five_minutes() -> None:
    policy = ThrottlePolicy()
    assert policy.delay(10_000) == 300.0


def test_guessing_many_accounts_from_one_address_is_throttled() -> None:
    throttle, _ = make()
    for n in range(10):
        throttle.failed(f"user{n}", "10.0.0.1")
    assert throttle.retry_after("fresh", "10.0.0.1") > 0.0
    assert throttle.retry_after("fresh", "10.0.0.2") == 0.0


def test_guessing_one_account_from_many_addresses_is_throttled() -> None:
    throttle, _ = make()
    for n in range(10):
        throttle.failed("alice", f"10.0.0.{n}")
    assert throttle.retry_after("alice", "192.0.2.1") > 0.0
    assert throttle.retry_after("bob", "192.0.2.1") == 0.0


def test_owner_gets_back_in_after_the_lockout_expires() -> None:
    throttle, clock = make()
    for _ in range(50):
        throttle.failed("alice", "10.0.0.1")
    wait = throttle.retry_after("alice", "10.0.0.1")
    assert 0.0 < wait <= 300.0
    clock.advance(wait)
    assert throttle.retry_after("alice", "10.0.0.1") == 0.0
    throttle.succeeded("alice", "10.0.0.1")
    throttle.failed("alice", "10.0.0.1")
    assert throttle.retry_after("alice", "10.0.0.1") == 0.0


def test_counters_are_forgotten_after_a_quiet_while() -> None:
    throttle, clock = make()
    for _ in range(6):
        throttle.failed("alice", "10.0.0.1")
    clock.advance(900)
    throttle.failed("alice", "10.0.0.1")
    assert throttle.retry_after("alice", "10.0.0.1") == 0.0


def test_success_clears_the_address_and_the_account() -> None:
    throttle, _ = make()
    for _ in range(5):
        throttle.failed("alice", "10.0.0.1")
        throttle.failed("alice", "10.0.0.2")
    throttle.succeeded("alice", "10.0.0.1")
    assert throttle.retry_after("alice", "10.0.0.1") == 0.0
    assert throttle.retry_after("alice", "192.0.2.9") == 0.0
    # The other address earned its own delay and keeps it.
    assert throttle.retry_after("bob", "10.0.0.2") > 0.0


def test_strangers_cannot_lock_the_owner_out_of_a_known_address() -> None:
    throttle, clock = make()
    throttle.succeeded("alice", "198.51.100.7")
    for n in range(40):
        throttle.failed("alice", f"10.0.{n}.1")
    assert throttle.retry_after("alice", "203.0.113.1") > 0.0
    assert throttle.retry_after("alice", "198.51.100.7") == 0.0
    clock.advance(31 * 24 * 3600)
    for n in range(40):
        throttle.failed("alice", f"10.0.{n}.1")
    assert throttle.retry_after("alice", "198.51.100.7") > 0.0


def test_memory_stays_bounded_under_a_spray_of_addresses() -> None:
    throttle, _ = make(ThrottlePolicy(max_entries=100))
    for n in range(10_000):
        throttle.failed(f"user{n}", f"10.{n // 256 % 256}.{n % 256}.1")
        throttle.succeeded(f"other{n}", f"192.0.{n % 256}.{n // 256 % 256}")
    assert throttle.tracked() <= 300


def test_oldest_entries_are_evicted_first() -> None:
    throttle, _ = make(ThrottlePolicy(max_entries=2))
    for _ in range(5):
        throttle.failed("a", "10.0.0.1")
    throttle.failed("b", "10.0.0.2")
    throttle.failed("c", "10.0.0.3")
    assert throttle.retry_after("a", "10.0.0.1") == 0.0
