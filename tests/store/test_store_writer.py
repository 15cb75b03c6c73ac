"""The ordered writer thread between the event loop and the store."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Sequence
from pathlib import Path

import pytest

from chatroom.server.store.base import (
    Account,
    AppendAudit,
    AuditEntry,
    Change,
    ConflictError,
    PutAccount,
)
from chatroom.server.store.memory import MemoryStore
from chatroom.server.store.sqlite import SqliteStore, default_db_path
from chatroom.server.store.writer import StoreWriter, load_when_quiet


def entry(n: int) -> AppendAudit:
    return AppendAudit(AuditEntry(None, float(n), "test", f"action{n}", "t", ""))


def account(name: str, fp: str) -> PutAccount:
    return PutAccount(Account(name, name, "h", None, None, 0.0, certfps=(fp,)))


class RecordingStore(MemoryStore):
    """Remembers the size of each transaction and the thread that ran it."""

    def __init__(self, gate: threading.Event | None = None) -> None:
        super().__init__()
        self.gate = gate
        self.entered = threading.Event()
        self.transactions: list[int] = []
        self.threads: set[str] = set()

    def apply(self, changes: Sequence[Change]) -> list[int]:
        self.entered.set()
        if self.gate is not None:
            self.gate.wait(5)
        self.transactions.append(len(changes))
        self.threads.add(threading.current_thread().name)
        return super().apply(changes)


def test_changes_commit_in_submission_order(tmp_path: Path) -> None:
    async def main() -> list[str]:
        store = SqliteStore(default_db_path(tmp_path))
        writer = StoreWriter(store)
        for n in range(50):
            writer.submit([entry(n)])
        await writer.close()
        actions = [e.action for e in store.audit()]
        store.close()
        return actions

    assert asyncio.run(main()) == [f"action{n}" for n in range(50)]


def test_callbacks_run_on_the_loop_in_submission_order() -> None:
    async def main() -> None:
        store = MemoryStore()
        writer = StoreWriter(store)
        loop_thread = threading.get_ident()
        seen: list[tuple[int, BaseException | None, int]] = []
        for n in range(20):
            writer.submit(
                [entry(n)],
                lambda exc, n=n: seen.append((n, exc, threading.get_ident())),  # type: ignore[misc]
            )
        await writer.flush()
        assert seen == [(n, None, loop_thread) for n in range(20)]
        await writer.close()

    asyncio.run(main())


def test_callback_fires_only_after_the_change_is_durable(tmp_path: Path) -> None:
    async def main() -> None:
        path = default_db_path(tmp_path)
        store = SqliteStore(path)
        writer = StoreWriter(store)
        committed = asyncio.get_running_loop().create_future()
        writer.submit([account("alice", "aa")], committed.set_result)
        assert await committed is None
        other = SqliteStore(path)
        assert "alice" in other.load().accounts
        other.close()
        await writer.close()
        store.close()

    asyncio.run(main())


def test_flush_waits_for_everything_submitted_before_it() -> None:
    async def main() -> None:
        gate = threading.Event()
        store = RecordingStore(gate)
        writer = StoreWriter(store)
        for n in range(5):
            writer.submit([entry(n)])
        flushed = asyncio.ensure_future(writer.flush())
        await asyncio.sleep(0.05)
        assert not flushed.done()
        gate.set()
        await flushed
        assert len(store.audit()) == 5
        await writer.close()

    asyncio.run(main())


def test_waiting_submissions_share_one_transaction() -> None:
    async def main() -> None:
        gate = threading.Event()
        store = RecordingStore(gate)
        writer = StoreWriter(store)
        writer.submit([entry(0)])
        await asyncio.to_thread(store.entered.wait, 5)  # blocked inside the first apply
        for n in range(1, 4):
            writer.submit([entry(n)])
        gate.set()
        await writer.flush()
        assert store.transactions == [1, 3]
        assert store.threads == {"store-writer"}
        await writer.close()

    asyncio.run(main())


def test_a_failed_submission_is_reported_and_others_still_commit() -> None:
    async def main() -> None:
        gate = threading.Event()
        store = RecordingStore(gate)
        writer = StoreWriter(store)
        results: dict[str, BaseException | None] = {}
        writer.submit([account("alice", "aa")], lambda exc: results.__setitem__("a", exc))
        await asyncio.to_thread(store.entered.wait, 5)
        # Queued together: the middle one conflicts, its neighbours must not suffer.
        writer.submit([account("bob", "bb")], lambda exc: results.__setitem__("b", exc))
        writer.submit([account("eve", "aa")], lambda exc: results.__setitem__("e", exc))
        writer.submit([account("carol", "cc")], lambda exc: results.__setitem__("c", exc))
        gate.set()
        await writer.flush()
        assert results["a"] is None
        assert results["b"] is None
        assert isinstance(results["e"], ConflictError)
        assert results["c"] is None
        assert set(store.load().accounts) == {"alice", "bob", "carol"}
        await writer.close()

    with pytest.MonkeyPatch.context() as mp:
        # The writer logs failures with a traceback; keep test output quiet.
        mp.setattr("chatroom.server.store.writer.log.disabled", True)
        asyncio.run(main())


def test_submit_after_close_is_refused() -> None:
    async def main() -> None:
        writer = StoreWriter(MemoryStore())
        await writer.close()
        with pytest.raises(RuntimeError):
            writer.submit([entry(1)])

    asyncio.run(main())


def test_close_commits_what_is_queued() -> None:
    async def main() -> MemoryStore:
        store = MemoryStore()
        writer = StoreWriter(store)
        for n in range(10):
            writer.submit([entry(n)])
        await writer.close()
        return store

    assert len(asyncio.run(main()).audit()) == 10


def test_a_reload_does_not_miss_an_account_registered_while_the_store_was_read() -> None:
    """The loop registers an account in the middle of a reload's read: that read is
    stale (the core already knows the account), so it is read again, with the account."""

    async def main() -> list[list[str]]:
        store = MemoryStore()
        writer = StoreWriter(store)
        seen: list[list[str]] = []

        async def load() -> list[str]:
            names = sorted(store.load().accounts)
            if not seen:  # the first read races with a registration on the loop
                writer.submit([account("newcomer", "fp1")])
            seen.append(names)
            return names

        final = await load_when_quiet(writer, load)
        await writer.close()
        assert final == ["newcomer"]
        return seen

    assert asyncio.run(main()) == [[], ["newcomer"]]


def test_a_reload_gives_up_for_now_while_the_loop_keeps_writing() -> None:
    async def main() -> object:
        store = MemoryStore()
        writer = StoreWriter(store)
        count = 0

        async def load() -> int:
            nonlocal count
            count += 1
            writer.submit([entry(count)])
            return count

        result = await load_when_quiet(writer, load, attempts=3)
        await writer.close()
        assert count == 3
        return result

    assert asyncio.run(main()) is None


class BrokenStore(MemoryStore):
    """A store with a bug: its failure must keep its traceback in the log."""

    def apply(self, changes: Sequence[Change]) -> list[int]:
        raise RuntimeError("a bug")


def test_a_full_disk_is_logged_in_one_line_and_a_bug_with_its_traceback(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """On a full disk every durable write fails; each used to add a traceback to the log."""

    async def main() -> list[BaseException | None]:
        full = SqliteStore(default_db_path(tmp_path))
        full._conn.execute("PRAGMA max_page_count = 1")  # SQLite's SQLITE_FULL, as on a full disk
        outcomes: list[BaseException | None] = []
        for store in (full, BrokenStore()):
            writer = StoreWriter(store)
            writer.submit([account("big" * 2000, "ab" * 32)], outcomes.append)
            await writer.close()
        full.close()
        return outcomes

    with caplog.at_level(logging.ERROR, logger="chatroom.server.store.writer"):
        outcomes = asyncio.run(main())
    assert [type(exc).__name__ for exc in outcomes] == ["OperationalError", "RuntimeError"]
    disk, bug = [r for r in caplog.records if r.getMessage().startswith("store transaction")]
    assert disk.exc_info is None
    assert disk.__dict__["error"] == "database or disk is full"
    assert bug.exc_info is not None
