"""history.db stays the size its retention allows: conversations are trimmed as they fill,
not once a minute, and the space retention frees goes back to the file system."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from pathlib import Path

from chatroom.server.core.history import HistoryRecord
from chatroom.server.core.settings import HistorySettings
from chatroom.server.store.history import HistoryWriter
from chatroom.server.store.history_sqlite import SqliteHistory
from chatroom.server.store.schema import available_migrations, open_database

T0 = 1_900_000_000_000
KEEP = 20  # history.max_per_target
ROUNDS = 50  # rows written: ROUNDS * KEEP
TEXT = "x" * 300  # a long line, so that the rows, not the schema, make the file's size


def _line(n: int, at: int = T0) -> HistoryRecord:
    return HistoryRecord(
        target="#lobby",
        msgid=f"m{n}",
        at=at + n,
        sender="a:alice",
        recipient="",
        source="alice!~alice@host",
        command="PRIVMSG",
        target_name="#Lobby",
        text=f"{n} {TEXT}",
        account="alice",
        tags=(),
    )


def _checkpointed_size(path: Path) -> int:
    """The main file's size once the WAL is folded into it (from another connection, as
    SQLite's own automatic checkpoints would do after enough writes)."""
    with contextlib.closing(sqlite3.connect(path)) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
    return path.stat().st_size


def _row_budget() -> int:
    """Generous bytes per row: the text with room for its page's slack, and an entry in
    each of the six indexes."""
    return 2 * (len(TEXT) + 100) + 6 * 100


def test_the_history_file_stays_bounded_by_retention_after_fifty_times_as_many_rows(
    tmp_path: Path,
) -> None:
    path = tmp_path / "history.db"
    SqliteHistory(path).close()
    empty = _checkpointed_size(path)
    # During the flood: at most about twice the retention (a conversation is trimmed once
    # it got KEEP new rows) plus the round in flight.
    during_bound = empty + 3 * KEEP * _row_budget()
    sizes: list[int] = []

    async def flood() -> None:
        store = SqliteHistory(path)
        writer = HistoryWriter(store, HistorySettings(max_per_target=KEEP))
        for round_ in range(ROUNDS):
            writer.append([_line(round_ * KEEP + i) for i in range(KEEP)])
            await writer.flush()
            sizes.append(_checkpointed_size(path))
        await writer.close()  # the last trim, and the freed pages handed back
        store.close()

    asyncio.run(flood())
    written_without_retention = ROUNDS * KEEP * (len(TEXT) + 50)
    assert max(sizes) <= during_bound < written_without_retention
    final = path.stat().st_size
    assert final <= empty + KEEP * _row_budget()
    reopened = SqliteHistory(path)
    try:
        kept = [r.msgid for r in reopened.export("#lobby")]
    finally:
        reopened.close()
    assert kept == [f"m{n}" for n in range((ROUNDS - 1) * KEEP, ROUNDS * KEEP)]


def test_the_space_retention_frees_goes_back_to_the_file_system(tmp_path: Path) -> None:
    path = tmp_path / "history.db"
    SqliteHistory(path).close()
    empty = _checkpointed_size(path)
    now = [T0 / 1000]
    full: list[int] = []

    async def write_then_expire() -> None:
        store = SqliteHistory(path)
        settings = HistorySettings(retention_days=1, max_per_target=0)
        writer = HistoryWriter(store, settings, clock=lambda: now[0])
        for round_ in range(ROUNDS):
            writer.append([_line(round_ * KEEP + i) for i in range(KEEP)])
        await writer.flush()
        full.append(_checkpointed_size(path))
        now[0] += 3 * 86_400
        await writer.close()  # retention drops every line (all older than a day now)
        store.close()

    asyncio.run(write_then_expire())
    assert full[0] > empty + ROUNDS * KEEP * len(TEXT)  # the lines were on disk
    assert path.stat().st_size <= empty + 4 * 4096  # and their pages are gone again


def test_a_history_file_made_before_incremental_vacuum_is_switched_over_on_open(
    tmp_path: Path,
) -> None:
    path = tmp_path / "history.db"
    old = open_database(
        path, synchronous="NORMAL", migrations=available_migrations("history_migrations")
    )
    assert old.execute("PRAGMA auto_vacuum").fetchone()[0] == 0  # NONE, as files had been
    old.close()
    store = SqliteHistory(path)
    store.append([_line(n) for n in range(200)])
    store.prune(T0, 0, 10, ["#lobby"])
    try:
        assert store.reclaim(1_000_000) == 0  # every free page went back to the file system
    finally:
        store.close()
    with contextlib.closing(sqlite3.connect(path)) as conn:
        assert conn.execute("PRAGMA auto_vacuum").fetchone()[0] == 2  # INCREMENTAL
        assert conn.execute("PRAGMA freelist_count").fetchone()[0] == 0
