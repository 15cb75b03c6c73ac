"""``accounts.registrations_per_hour`` against a real server: registrations in flight count.

Each registration spends seconds hashing and committing. The budget used to be spent
only once the account was saved, so registrations started together all passed the check
and one address could overshoot its budget by as many as it sent at once.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from tests.realserver import ServerThread, Wire, guest_wire, make_config
from tests.store_locks import write_lock

BUDGET = 3
PARALLEL = 10


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerThread]:
    config = make_config(tmp_path)
    accounts = replace(config.core.accounts, registrations_per_hour=BUDGET)
    config = replace(config, core=replace(config.core, accounts=accounts))
    running = ServerThread(config).start()
    yield running
    running.stop()


def _outcome(wire: Wire) -> str:
    line = wire.until((" REGISTER SUCCESS ", "FAIL REGISTER "))[-1]
    return "SUCCESS" if " REGISTER SUCCESS " in line else line.split("FAIL REGISTER ", 1)[1]


def test_parallel_registrations_from_one_address_stay_within_the_hourly_budget(
    server: ServerThread, wires: list[Wire]
) -> None:
    people = [guest_wire(server.port, wires, f"signup{i}") for i in range(PARALLEL)]
    for wire in people:  # all sent before any hash can finish
        wire.write("REGISTER * * correct-horse-battery")
    outcomes = [_outcome(wire) for wire in people]
    assert outcomes.count("SUCCESS") == BUDGET, outcomes
    refused = [o for o in outcomes if o != "SUCCESS"]
    assert all(o.startswith("TEMPORARILY_UNAVAILABLE") for o in refused), refused
    assert all("Too many accounts" in o for o in refused), refused


def test_a_registration_that_fails_at_its_commit_gives_its_slot_back(
    tmp_path: Path, wires: list[Wire]
) -> None:
    """Another process creates the name while the server's insert waits for the write
    lock: that registration fails (ACCOUNT_EXISTS) and its slot is free for the next."""
    store_url = f"sqlite://{tmp_path / 'store'}"
    config = make_config(tmp_path, store_url=store_url)
    accounts = replace(config.core.accounts, registrations_per_hour=2)
    server = ServerThread(replace(config, core=replace(config.core, accounts=accounts))).start()
    try:
        dave = guest_wire(server.port, wires, "dave")
        with write_lock(store_url) as lock:
            dave.write("REGISTER * * daves-password")
            time.sleep(0.5)  # the hash is made and the insert queued behind the lock
            lock.execute(
                "INSERT INTO accounts (key, name, password_hash, scram, email, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                ("dave", "dave", "the-other-process", None, None, 1.0),
            )
            lock.commit()
            assert _outcome(dave).startswith("ACCOUNT_EXISTS")
        outcomes = []
        for nick in ("erin", "frank", "grace"):
            wire = guest_wire(server.port, wires, nick)
            wire.write("REGISTER * * correct-horse-battery")
            outcomes.append(_outcome(wire))
        assert outcomes[:2] == ["SUCCESS", "SUCCESS"], outcomes
        assert outcomes[2].startswith("TEMPORARILY_UNAVAILABLE"), outcomes
    finally:
        server.stop()
