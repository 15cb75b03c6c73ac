"""Two processes writing one store at once, on SQLite and on PostgreSQL: every account
name is created exactly once, by one of them; the other is told it exists, and nothing
it wrote replaced what the first one wrote (uniqueness is the database's, not a check
made before the write)."""

from __future__ import annotations

import multiprocessing
from multiprocessing.queues import Queue
from pathlib import Path

from chatroom.server.store.base import (
    Account,
    AlreadyExistsError,
    AppendAudit,
    AuditEntry,
    CreateAccount,
)
from chatroom.server.store.factory import open_store
from chatroom.server.store.url import parse_store_url

NAMES = [f"user{i:03d}" for i in range(150)]


def _create_all(url: str, writer: str, start: object, results: Queue[object]) -> None:
    """One writer process: create every name, as ``chatroom admin create`` would."""
    store = open_store(parse_store_url(url, Path("/nonexistent")))
    created: list[str] = []
    refused: list[str] = []
    start.wait()  # type: ignore[attr-defined]
    try:
        for name in NAMES:
            account = Account(name, name, f"hash-by-{writer}", None, None, 1.0)
            audit = AuditEntry(None, 1.0, writer, "account.create", name, "")
            try:
                store.apply([CreateAccount(account), AppendAudit(audit)])
                created.append(name)
            except AlreadyExistsError:
                refused.append(name)
    finally:
        store.close()
    results.put((writer, created, refused))


def test_two_writer_processes_create_each_name_exactly_once(store_url: str) -> None:
    open_store(parse_store_url(store_url, Path("/nonexistent"))).close()  # schema first
    context = multiprocessing.get_context("spawn")
    start = context.Event()
    results: Queue[object] = context.Queue()
    writers = [
        context.Process(target=_create_all, args=(store_url, name, start, results))
        for name in ("first", "second")
    ]
    for process in writers:
        process.start()
    start.set()
    outcomes: dict[str, tuple[set[str], set[str]]] = {}
    for _ in writers:
        answer = results.get(timeout=120)
        assert isinstance(answer, tuple)
        writer, created, refused = answer
        outcomes[writer] = (set(created), set(refused))
    for process in writers:
        process.join(timeout=60)
        assert process.exitcode == 0
    (made_a, refused_a), (made_b, refused_b) = outcomes["first"], outcomes["second"]
    assert made_a | made_b == set(NAMES)
    assert not made_a & made_b, "a name was created twice"
    assert refused_a == made_b
    assert refused_b == made_a

    store = open_store(parse_store_url(store_url, Path("/nonexistent")))
    try:
        accounts = store.load().accounts
        audit = store.audit()
    finally:
        store.close()
    assert set(accounts) == set(NAMES)
    for name, account in accounts.items():
        owner = "first" if name in made_a else "second"
        assert account.password_hash == f"hash-by-{owner}", "a refused write overwrote it"
    assert sorted(entry.target for entry in audit) == sorted(NAMES)  # refused: no audit
