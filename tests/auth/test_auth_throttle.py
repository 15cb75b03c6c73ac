"""Login throttling, driven by a fake clock: reservations, waits, the reserve, the figures."""

from __future__ import annotations

from chatroom.server.auth.throttle import LoginAttempt, LoginThrottle, ThrottlePolicy
from chatroom.server.harness import FakeClock

HOUR = 3600.0


class Answers:
    """Collects what the throttle decided for each request, in the order it decided."""

    def __init__(self) -> None:
        self.decided: list[tuple[LoginAttempt | None, float]] = []

    def __call__(self, attempt: LoginAttempt | None, wait: float) -> None:
        self.decided.append((attempt, wait))

    @property
    def attempts(self) -> list[LoginAttempt]:
        return [a for a, _ in self.decided if a is not None]

    @property
    def refusals(self) -> list[float]:
        return [w for a, w in self.decided if a is None]


def make(policy: ThrottlePolicy | None = None) -> tuple[LoginThrottle, FakeClock]:
    clock = FakeClock()
    return LoginThrottle(clock, policy), clock


def ask(throttle: LoginThrottle, account: str, address: str) -> LoginAttempt | None:
    """One request answered at once (None: refused); fails the test if it is held."""
    answers = Answers()
    throttle.request(account, address, answers)
    assert len(answers.decided) == 1, "the request was held"
    return answers.decided[0][0]


def wrong(throttle: LoginThrottle, account: str, address: str) -> bool:
    """A wrong guess if the throttle lets it be checked; True if it was checked."""
    attempt = ask(throttle, account, address)
    if attempt is not None:
        throttle.failed(attempt)
    return attempt is not None


def right(throttle: LoginThrottle, account: str, address: str) -> bool:
    attempt = ask(throttle, account, address)
    if attempt is not None:
        throttle.succeeded(attempt)
    return attempt is not None


def patient_guess(throttle: LoginThrottle, clock: FakeClock, account: str, address: str) -> float:
    """An attacker who waits out each refusal; returns the time waited."""
    waited = throttle.retry_after(account, address)
    clock.advance(waited)
    assert wrong(throttle, account, address)
    return waited


# ------------------------------------------------------------------ the schedule


def test_first_three_failures_are_free() -> None:
    throttle, _ = make()
    assert [wrong(throttle, "alice", "10.0.0.1") for _ in range(4)] == [True, True, True, False]


def test_backoff_doubles_from_one_second() -> None:
    throttle, clock = make()
    waits = [patient_guess(throttle, clock, "alice", "10.0.0.1") for _ in range(8)]
    assert waits == [0.0, 0.0, 0.0, 1.0, 2.0, 4.0, 8.0, 16.0]


def test_delay_is_capped_at_five_minutes() -> None:
    assert ThrottlePolicy().delay(10_000) == 300.0


def test_a_refused_try_neither_counts_nor_extends_the_wait() -> None:
    throttle, clock = make()
    for _ in range(4):
        wrong(throttle, "alice", "10.0.0.1")
    assert throttle.retry_after("alice", "10.0.0.1") == 1.0
    for _ in range(50):
        assert not wrong(throttle, "alice", "10.0.0.1")
    clock.advance(1.0)
    assert throttle.retry_after("alice", "10.0.0.1") == 0.0


def test_counters_are_forgotten_after_a_quiet_hour() -> None:
    throttle, clock = make()
    for _ in range(3):
        wrong(throttle, "alice", "10.0.0.1")
    clock.advance(HOUR - 1)
    assert [wrong(throttle, "alice", "10.0.0.1") for _ in range(2)] == [True, False]
    clock.advance(HOUR)
    assert [wrong(throttle, "alice", "10.0.0.1") for _ in range(4)] == [True, True, True, False]


def test_guessing_many_accounts_from_one_address_is_throttled() -> None:
    throttle, _ = make()
    for n in range(3):
        wrong(throttle, f"user{n}", "10.0.0.1")
    assert throttle.retry_after("fresh", "10.0.0.1") > 0.0
    assert throttle.retry_after("fresh", "10.0.0.2") == 0.0


# ------------------------------------------------------------------ reservations


def test_parallel_tries_count_as_failures_until_they_end() -> None:
    """16 at once get the same 3 free checks as 16 in a row; the rest wait for those 3."""
    throttle, _ = make()
    answers = Answers()
    for _ in range(16):
        throttle.request("alice", "10.0.0.1", answers)
    assert len(answers.attempts) == 3
    assert len(answers.decided) == 3
    for attempt in answers.attempts:
        throttle.failed(attempt)
    assert len(answers.attempts) == 3
    assert answers.refusals == [1.0] * 13


def test_held_tries_go_ahead_when_those_in_flight_succeed() -> None:
    """A household logging in at once from one address is not refused for its own logins."""
    throttle, _ = make()
    answers = Answers()
    for n in range(6):
        throttle.request(f"user{n}", "10.0.0.1", answers)
    first = answers.attempts
    assert len(first) == 3
    for attempt in first:
        throttle.succeeded(attempt)
    assert len(answers.attempts) == 6
    assert not answers.refusals


def test_parallel_tries_on_one_account_from_many_addresses_are_counted_too() -> None:
    throttle, _ = make(ThrottlePolicy(reserve=0))
    answers = Answers()
    for n in range(16):
        throttle.request("alice", f"10.0.0.{n}", answers)
    assert len(answers.attempts) == 3
    for attempt in answers.attempts:
        throttle.failed(attempt)
    assert len(answers.attempts) == 3
    assert len(answers.refusals) == 13


def test_a_cancelled_try_gives_its_place_back_and_trusts_nothing() -> None:
    throttle, _ = make(ThrottlePolicy(reserve=0))
    answers = Answers()
    for _ in range(4):
        throttle.request("alice", "10.0.0.1", answers)
    throttle.cancel(answers.attempts[0])
    assert len(answers.attempts) == 4  # the held fourth took the freed place
    for attempt in answers.attempts[1:]:
        throttle.cancel(attempt)
    for n in range(3):
        wrong(throttle, "alice", f"10.0.0.{n + 5}")
    assert throttle.retry_after("alice", "10.0.0.1") > 0.0  # not a trusted pair


def test_a_held_request_whose_answer_fails_does_not_strand_the_others() -> None:
    throttle, _ = make()
    answers = Answers()
    for _ in range(3):
        throttle.request("alice", "10.0.0.1", answers)

    def broken(attempt: LoginAttempt | None, wait: float) -> None:
        raise RuntimeError("a bug in one login path")

    throttle.request("alice", "10.0.0.1", broken)
    throttle.request("alice", "10.0.0.1", answers)
    for attempt in answers.attempts:
        throttle.failed(attempt)
    assert answers.refusals == [1.0]


def test_ending_a_try_twice_counts_it_once() -> None:
    throttle, _ = make()
    attempt = ask(throttle, "alice", "10.0.0.1")
    assert attempt is not None
    throttle.failed(attempt)
    throttle.failed(attempt)
    throttle.succeeded(attempt)
    assert [wrong(throttle, "alice", "10.0.0.1") for _ in range(3)] == [True, True, False]


# ------------------------------------------------------------------ successes and the owner


def test_a_success_releases_its_try_but_keeps_earlier_failures() -> None:
    """Otherwise every login of the owner would hand an attacker 3 more free guesses."""
    throttle, _ = make()
    for _ in range(2):
        wrong(throttle, "alice", "10.0.0.1")
    assert right(throttle, "alice", "10.0.0.2")
    assert wrong(throttle, "alice", "10.0.0.1")
    assert throttle.retry_after("alice", "10.0.0.1") > 0.0


def test_strangers_cannot_lock_the_owner_out_of_a_known_address() -> None:
    throttle, clock = make(ThrottlePolicy(reserve=0))
    assert right(throttle, "alice", "198.51.100.7")
    for n in range(40):
        wrong(throttle, "alice", f"10.0.{n}.1")
    assert throttle.retry_after("alice", "203.0.113.1") > 0.0
    assert right(throttle, "alice", "198.51.100.7")
    clock.advance(31 * 24 * HOUR)  # trust lasts 30 days
    for n in range(40):
        wrong(throttle, "alice", f"10.1.{n}.1")
    assert throttle.retry_after("alice", "198.51.100.7") > 0.0


def test_a_trusted_address_is_still_held_by_its_own_counter() -> None:
    throttle, _ = make()
    assert right(throttle, "alice", "198.51.100.7")
    for _ in range(3):
        wrong(throttle, "alice", "198.51.100.7")
    assert throttle.retry_after("alice", "198.51.100.7") > 0.0


def test_a_clean_address_draws_on_the_reserve_while_the_account_is_locked() -> None:
    throttle, clock = make()
    for n in range(4):
        wrong(throttle, "alice", f"10.0.0.{n}")  # three free, one from the reserve
    assert throttle.retry_after("alice", "10.0.0.1") > 0.0  # failed before: no reserve
    assert right(throttle, "alice", "203.0.113.5")  # the owner, somewhere new
    assert wrong(throttle, "alice", "203.0.113.6")
    assert wrong(throttle, "alice", "203.0.113.7")  # the reserve (3) is spent now
    assert throttle.retry_after("alice", "203.0.113.8") > 0.0
    clock.advance(20 * 60)  # one try comes back every 20 minutes
    assert right(throttle, "alice", "203.0.113.8")


def test_an_address_stays_out_of_the_reserve_for_a_day_after_failing() -> None:
    throttle, clock = make()
    for n in range(3):
        wrong(throttle, "bob", f"10.0.0.{n}")
    wrong(throttle, "carol", "203.0.113.9")
    for n in range(3):
        wrong(throttle, "alice", f"10.0.1.{n}")
    assert throttle.retry_after("alice", "203.0.113.9") > 0.0
    clock.advance(24 * HOUR)
    assert throttle.retry_after("alice", "203.0.113.9") == 0.0


# ------------------------------------------------------------------ the figures


def attack(
    throttle: LoginThrottle, clock: FakeClock, addresses: list[str], duration: float
) -> list[float]:
    """Every address guesses at 'alice' as soon as any may; the times of the checked guesses."""
    checked: list[float] = []
    end = clock.now + duration
    while clock.now < end:
        for address in addresses:
            if wrong(throttle, "alice", address):
                checked.append(clock.now)
        clock.advance(max(0.001, min(throttle.retry_after("alice", a) for a in addresses)))
    return checked


def most_in_an_hour(times: list[float]) -> int:
    return max(sum(1 for t in times if start <= t < start + HOUR) for start in times)


def test_one_address_gets_22_guesses_in_any_hour_and_12_an_hour_after() -> None:
    throttle, clock = make()
    times = attack(throttle, clock, ["10.0.0.1"], 5 * HOUR)
    assert most_in_an_hour(times) == 22
    assert len(times) == 22 + 4 * 12


def test_pausing_to_be_forgotten_does_not_beat_the_hourly_figure() -> None:
    throttle, clock = make()
    times: list[float] = []
    for _ in range(6):  # a burst up to the 256 s wait, then an hour of quiet
        start = clock.now
        while clock.now - start < 512:
            times.append(clock.now)
            patient_guess(throttle, clock, "alice", "10.0.0.1")
        clock.advance(HOUR)
    assert most_in_an_hour(times) <= 22


def test_forty_addresses_get_at_most_28_guesses_at_one_account_in_any_hour() -> None:
    """22 through the account's counter, 6 through its reserve (3, and one per 20 min)."""
    throttle, clock = make()
    addresses = [f"10.0.{n}.1" for n in range(40)]
    times = attack(throttle, clock, addresses, 5 * HOUR)
    assert most_in_an_hour(times) <= 28
    assert len([t for t in times if t >= times[0] + HOUR]) <= 4 * (12 + 3)


def test_keeping_the_owner_out_of_the_reserve_costs_three_new_addresses_an_hour() -> None:
    """30 addresses hold the reserve for about 9 hours; after that the owner gets in."""
    throttle, clock = make()
    addresses = [f"10.0.{n}.1" for n in range(30)]
    attack(throttle, clock, addresses, 6 * HOUR)
    for address in addresses:  # a token just came back; one of them takes it
        wrong(throttle, "alice", address)
    assert throttle.retry_after("alice", "203.0.113.5") > 0.0
    attack(throttle, clock, addresses, 6 * HOUR)  # every one of the 30 has failed by now
    for address in addresses:  # they take whatever is open, as before
        wrong(throttle, "alice", address)
    assert all(throttle.retry_after("alice", a) > 0.0 for a in addresses)
    assert right(throttle, "alice", "203.0.113.5")


# ------------------------------------------------------------------ memory


def test_memory_stays_bounded_under_a_spray_of_addresses() -> None:
    throttle, _ = make(ThrottlePolicy(max_entries=100))
    for n in range(10_000):
        wrong(throttle, f"user{n}", f"10.{n // 256 % 256}.{n % 256}.1")
        right(throttle, f"other{n}", f"192.0.{n % 256}.{n // 256 % 256}")
    assert throttle.tracked() <= 400


def test_oldest_entries_are_evicted_first() -> None:
    throttle, _ = make(ThrottlePolicy(max_entries=2))
    for _ in range(3):
        wrong(throttle, "a", "10.0.0.1")
    wrong(throttle, "b", "10.0.0.2")
    wrong(throttle, "c", "10.0.0.3")
    assert throttle.retry_after("a", "10.0.0.1") == 0.0
