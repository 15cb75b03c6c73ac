"""History persistence made cheap (issue 18) without changing what it answers: one index
fewer (history migration 003), lines written several to a statement (SQLite) or in one
COPY (PostgreSQL), retention by age one conversation at a time, TARGETS through the
indexes that remain, a writer that does not nap while a backlog waits, and count
retention in bigger steps."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import psycopg
import pytest

from chatroom.server.core.history import (
    EVENT_COMMANDS,
    EventRecord,
    HistoryQuery,
    HistoryRecord,
    Ref,
    dm_key,
)
from chatroom.server.core.redaction import Redaction
from chatroom.server.core.settings import HistorySettings
from chatroom.server.store import history as history_module
from chatroom.server.store import worker_thread
from chatroom.server.store.factory import open_history
from chatroom.server.store.history import COALESCE_SECONDS, HistoryStore, HistoryWriter
from chatroom.server.store.history_memory import MemoryHistory
from chatroom.server.store.history_rows import COLUMNS
from chatroom.server.store.history_sqlite import SqliteHistory
from chatroom.server.store.postgres.history import PostgresHistory
from chatroom.server.store.postgres.schema import HISTORY
from chatroom.server.store.postgres.schema import connect as pg_connect
from chatroom.server.store.postgres.schema import migrate as pg_migrate
from chatroom.server.store.schema import available_migrations, open_database
from chatroom.server.store.url import parse_store_url

T0 = 1_900_000_000_000
ROOMS = ("#lobby", "#dev", "#ops")
ALICE_BOB = dm_key("a:alice", "a:bob")
ALICE_CAROL = dm_key("a:alice", "a:carol")
PREVIOUS = 2  # the history schema before 003_fewer_indexes


def _said(n: int, target: str, *, tags: tuple[tuple[str, str], ...] = ()) -> HistoryRecord:
    private = target.startswith("dm:")
    sender, recipient = ("a:alice", target.split()[1]) if private else ("a:bob", "")
    if private and n % 2:
        sender, recipient = recipient, sender
    return HistoryRecord(
        target=target,
        msgid=f"m{n}",
        at=T0 + n * 1000,
        sender=sender,
        recipient=recipient,
        source=f"{sender[2:]}!~u@host",
        command="NOTICE" if n % 11 == 0 else "PRIVMSG",
        target_name=recipient[2:] if private else target.title(),
        text=f"line {n}",
        account=sender[2:],
        tags=tags,
    )


def _event(n: int, target: str) -> EventRecord:
    command = ("JOIN", "PART", "MODE", "TOPIC")[n % 4]
    return EventRecord(
        target=target,
        msgid=f"e{n}",
        at=T0 + n * 1000,
        sender="",
        recipient="",
        source="carol!~c@host",
        command=command,
        target_name=target.title(),
        text="",
        account="carol" if command == "JOIN" else None,
        params=("carol", "Carol C.") if command == "JOIN" else ("+o", "carol"),
    )


def _history(count: int = 240) -> list[HistoryRecord]:
    """Three rooms and two private conversations interleaved, with events, tags and
    NOTICEs among the lines, in send order."""
    conversations = (*ROOMS, ALICE_BOB, ALICE_CAROL)
    records: list[HistoryRecord] = []
    for n in range(1, count + 1):
        target = conversations[n % len(conversations)]
        if not target.startswith("dm:") and n % 7 == 0:
            records.append(_event(n, target))
        else:
            tags = (("+draft/react", f"r{n}"), ("bot", "")) if n % 5 == 0 else ()
            records.append(_said(n, target, tags=tags))
    return records


# A line deleted in a room and one in a private conversation (``_history`` puts n in
# conversation n % 5, and makes every 7th room line an event).
REDACTIONS = [Redaction("#dev", "m16", None, T0 + 999_000), Redaction(ALICE_BOB, "m18", None, 1)]


def _queries(records: list[HistoryRecord]) -> list[HistoryQuery]:
    """Every CHATHISTORY form, by msgid and by time, over every conversation."""
    found: list[HistoryQuery] = []
    for target in (*ROOMS, ALICE_BOB, ALICE_CAROL):
        mine = [r for r in records if r.target == target]
        middle, late = mine[len(mine) // 2], mine[-5]
        for events in ((), (*EVENT_COMMANDS, "REDACT")):
            for ref in (Ref(msgid=middle.msgid), Ref(at=middle.at), Ref(at=middle.at + 1)):
                for kind in ("LATEST", "BEFORE", "AFTER", "AROUND"):
                    found.append(HistoryQuery(kind, target, ref, None, 7, events=events))
            found.append(HistoryQuery("LATEST", target, None, None, 9, events=events))
            found.append(
                HistoryQuery("BETWEEN", target, Ref(msgid=middle.msgid), Ref(at=late.at), 50)
            )
            found.append(
                HistoryQuery("BETWEEN", target, Ref(msgid=late.msgid), Ref(msgid=middle.msgid), 4)
            )
        found.append(HistoryQuery("LATEST", target, None, None, 50, since=middle.at))
        found.append(HistoryQuery("BEFORE", target, Ref(msgid=late.msgid), None, 50, since=1))
    for identity in ("a:alice", "a:bob", "a:carol"):
        for channels in ((), ROOMS[:2]):
            for first, second in ((T0, T0 + 10**9), (T0 + 10**9, T0), (T0, T0 + 120_000)):
                found.append(
                    HistoryQuery(
                        "TARGETS",
                        "",
                        Ref(at=first),
                        Ref(at=second),
                        10,
                        channels=channels,
                        identity=identity,
                    )
                )
    return found


def _answers(store: HistoryStore, records: list[HistoryRecord]) -> list[object]:
    every_target = (*ROOMS, ALICE_BOB, ALICE_CAROL, "#nowhere")
    return [
        *(store.query(q) for q in _queries(records)),
        sorted(store.recent(3), key=lambda r: r.target),  # in order within each room
        *(store.export(target) for target in every_target),
    ]


def _reference() -> list[object]:
    memory = MemoryHistory()
    records = _history()
    memory.append(records)
    for redaction in REDACTIONS:
        memory.redact(redaction)
    return _answers(memory, records)


# ----------------------------------------------------------------------------- migration


def _old_row(r: HistoryRecord) -> tuple[object, ...]:
    """A row as the writer before migration 003 wrote it."""
    tags = "{" + ",".join(f'"{k}":"{v}"' for k, v in r.tags) + "}"
    params = None
    if isinstance(r, EventRecord):
        params = "[" + ",".join(f'"{p}"' for p in r.params) + "]"
    return (r.target, r.msgid, r.at, r.sender, r.recipient, r.source, r.command,
            r.target_name, r.text, r.account, tags, params)  # fmt: skip


def _indexes_sqlite(path: Path) -> set[str]:
    with contextlib.closing(sqlite3.connect(path)) as conn:
        rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'").fetchall()
    return {str(row[0]) for row in rows if not str(row[0]).startswith("sqlite_")}


def test_sqlite_history_of_the_previous_schema_keeps_every_line_and_answers_the_same(
    tmp_path: Path,
) -> None:
    path = tmp_path / "history.db"
    previous = available_migrations("history_migrations")[:PREVIOUS]
    conn = open_database(path, synchronous="NORMAL", migrations=previous)
    conn.executemany(
        f"INSERT INTO messages ({COLUMNS}) VALUES ({', '.join('?' * 12)})",
        [_old_row(r) for r in _history()],
    )
    for r in REDACTIONS:  # as SqliteHistory.redact did: text and tags gone, time kept
        conn.execute(
            "UPDATE messages SET text = '', tags = '{}', redacted_at = ?"
            " WHERE target = ? AND msgid = ?",
            (r.at, r.target, r.msgid),
        )
    ids_before = conn.execute("SELECT id, msgid FROM messages ORDER BY id").fetchall()
    conn.close()
    assert "messages_by_time" in _indexes_sqlite(path)

    store = SqliteHistory(path)
    try:
        assert _answers(store, _history()) == _reference()
        assert [(i, r.msgid) for i, r, _ in store.records_after(0, 1000)] == ids_before
        store.append([_said(1000, "#lobby")])  # a new line goes after every old one
        assert store.records_after(ids_before[-1][0], 5)[0][1] == _said(1000, "#lobby")
    finally:
        store.close()
    with contextlib.closing(sqlite3.connect(path)) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == PREVIOUS + 1
    assert _indexes_sqlite(path) == {
        "messages_by_target",
        "messages_by_target_time",
        "messages_by_msgid",
        "messages_by_sender",
        "messages_by_recipient",
    }


def test_postgres_history_of_the_previous_schema_keeps_every_line_and_answers_the_same(
    postgres_url: str,
) -> None:
    previous = available_migrations("postgres/history_migrations")[:PREVIOUS]
    with pg_connect(postgres_url) as conn:
        pg_migrate(conn, HISTORY, previous)
        with conn.cursor() as cur:
            cur.executemany(
                f"INSERT INTO messages ({COLUMNS}) VALUES ({', '.join(['%s'] * 12)})",
                [_old_row(r) for r in _history()],
            )
        for r in REDACTIONS:
            conn.execute(
                "UPDATE messages SET text = '', tags = '{}', redacted_at = %s"
                " WHERE target = %s AND msgid = %s",
                (r.at, r.target, r.msgid),
            )
        ids_before = conn.execute("SELECT id, msgid FROM messages ORDER BY id").fetchall()
    store = PostgresHistory(postgres_url)
    try:
        assert _answers(store, _history()) == _reference()
        assert [(i, r.msgid) for i, r, _ in store.records_after(0, 1000)] == ids_before
        store.append([_said(1000, "#lobby")])
        assert store.records_after(ids_before[-1][0], 5)[0][1] == _said(1000, "#lobby")
    finally:
        store.close()
    with psycopg.connect(postgres_url) as conn:
        indexes = {
            str(row[0])
            for row in conn.execute(
                "SELECT indexname FROM pg_indexes WHERE tablename = 'messages'"
            ).fetchall()
        }
        version = conn.execute(
            "SELECT version FROM chatroom_schema WHERE component = 'history'"
        ).fetchone()
    assert version == (PREVIOUS + 1,)
    assert "messages_by_time" not in indexes
    assert {"messages_by_target", "messages_by_target_time", "messages_by_msgid"} <= indexes


# ----------------------------------------------------------------------------- the contract


@pytest.fixture
def store(history_store: HistoryStore) -> HistoryStore:
    return history_store


def test_a_mixed_history_answers_as_the_reference_does(store: HistoryStore) -> None:
    """Every query form over rooms, private conversations, events, tags and deletions, on
    each backend, against ``core.history.select`` (the in-memory store)."""
    records = _history()
    store.append(records)
    for redaction in REDACTIONS:
        store.redact(redaction)
    assert _answers(store, records) == _reference()


@pytest.mark.parametrize("size", [1, 7, 8, 9, 64, 65, 73, 200])
def test_a_batch_of_any_size_is_stored_whole_and_in_order(store: HistoryStore, size: int) -> None:
    """SQLite writes 64, then 8, then single lines to a statement: no line is lost,
    doubled or moved where one statement hands over to the next."""
    records = [
        _event(n, "#lobby") if n % 6 == 0 else _said(n, "#lobby", tags=(("k", str(n)),))
        for n in range(1, size + 1)
    ]
    store.append(records[: size // 2])
    store.append(records[size // 2 :])
    assert store.export("#lobby") == records


def test_a_batch_with_a_bad_line_stores_nothing(store_url: str) -> None:
    """All or none, whichever statement the bad line falls in."""
    store = open_history(parse_store_url(store_url, Path("/nonexistent")))
    try:
        good = [_said(n, "#lobby") for n in range(1, 100)]
        bad = HistoryRecord("#lobby", "m0", T0, "a:x", "", "x!x@x", "PRIVMSG", None, "t")  # type: ignore[arg-type]
        with pytest.raises((sqlite3.IntegrityError, psycopg.errors.NotNullViolation)):
            store.append([*good[:70], bad, *good[70:]])
        assert store.export("#lobby") == []
        store.append(good)
        assert store.export("#lobby") == good
    finally:
        store.close()


def test_retention_by_age_reaches_every_conversation(store: HistoryStore) -> None:
    """Without an index on time alone, the age limit still finds old lines in each room
    and private conversation, and only those."""
    records = _history(300)
    store.append(records)
    cutoff = T0 + 150 * 1000
    dropped = store.prune(cutoff + 86_400_000, 1, 0, [])
    assert dropped == sum(1 for r in records if r.at < cutoff)
    for target in (*ROOMS, ALICE_BOB, ALICE_CAROL):
        assert store.export(target) == [r for r in records if r.target == target and r.at >= cutoff]


# ----------------------------------------------------------------------------- indexes


def _statements(store: SqliteHistory, run: Any) -> list[str]:
    """The SQL ``run()`` made the store execute, with its parameters filled in."""
    seen: list[str] = []
    conn = store._conn
    conn.set_trace_callback(seen.append)
    try:
        run()
    finally:
        conn.set_trace_callback(None)
    return [s for s in seen if s.lstrip().upper().startswith(("SELECT", "DELETE", "UPDATE"))]


def test_every_query_the_sqlite_history_runs_searches_an_index(tmp_path: Path) -> None:
    """CHATHISTORY of every form, TARGETS, REDACT, RENAME, retention by age and by count
    and purges each search an index, never the whole table; only the read-back at start
    (``recent``) and ``count`` read every row, by design."""
    store = SqliteHistory(tmp_path / "history.db")
    records = _history(2000)
    store.append(records)

    def everything() -> None:
        for query in _queries(records):
            store.query(query)
        store.redact(Redaction("#dev", "m1706", None, T0 + 10**9))
        store.rename("#ops", "#ops2", "#Ops2")
        store.prune(T0 + 86_400_000 + 500_000, 1, 0, [])
        store.prune(T0, 0, 100, list(ROOMS))
        store.purge("#dev", T0 + 1_000_000)
        store.purge(ALICE_CAROL)
        store.export("#lobby")
        store.records_after(10, 10)

    statements = _statements(store, everything)
    try:
        assert len(statements) > 100
        for sql in statements:
            plan = [row[3] for row in store._conn.execute("EXPLAIN QUERY PLAN " + sql)]
            scans = [
                step
                for step in plan
                if step.startswith("SCAN") and not step.startswith(("SCAN keys", "SCAN (sub"))
            ]
            assert not scans, (sql, plan)
            assert any(step.startswith("SEARCH") for step in plan), (sql, plan)
        for whole in (lambda: store.recent(3), store.count):
            [sql] = _statements(store, whole)
            steps = " ".join(row[3] for row in store._conn.execute("EXPLAIN QUERY PLAN " + sql))
            assert "USING" in steps, steps  # in an index's order, at least
            assert "INDEX" in steps, steps
    finally:
        store.close()


def _plan(conn: psycopg.Connection[Any], sql: str, params: tuple[object, ...]) -> str:
    return "\n".join(str(row[0]) for row in conn.execute("EXPLAIN " + sql, params).fetchall())


def test_postgres_targets_and_retention_by_age_search_indexes(postgres_url: str) -> None:
    """TARGETS reads the asker's rooms and private lines through three indexes (a
    BitmapOr), and retention by age can walk one conversation at a time: neither needs
    the index on time alone that migration 003 dropped."""
    history = PostgresHistory(postgres_url)
    statements: list[tuple[str, tuple[object, ...]]] = []
    real = history._conn
    try:
        history.append(_history(20_000))

        class Recording:
            """Passes every statement on, keeping a copy."""

            broken = closed = False  # what PostgresHistory checks before each use

            def execute(self, sql: str, params: tuple[object, ...] = ()) -> Any:
                statements.append((sql, params))
                return real.execute(sql, params)

            def transaction(self) -> Any:
                return real.transaction()

        history._connection = Recording()  # type: ignore[assignment]
        history.query(  # a window of 300 of the 20,000 lines, as a client pages through
            HistoryQuery(
                "TARGETS",
                "",
                Ref(at=T0 + 10_000_000),
                Ref(at=T0 + 10_300_000),
                10,
                channels=ROOMS[:2],
                identity="a:alice",
            )
        )
        history.prune(T0 + 86_400_000 + 500_000, 1, 0, [])
    finally:
        history._connection = real
        history.close()
    targets, by_age = statements[0], next(s for s in statements if s[0].startswith("WITH"))
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute("ANALYZE messages")
        plan = _plan(conn, *targets)
        assert "Seq Scan on messages" not in plan, plan
        assert "messages_by_sender" in plan, plan
        # Retention by age deletes so few of these 20,000 rows that PostgreSQL may find
        # one pass over them as cheap as a walk per conversation: what must hold is that
        # the walk exists (with scans priced out, a query without one still scans).
        conn.execute("SET enable_seqscan = off")
        plan = _plan(conn, *by_age)
        assert "Seq Scan on messages" not in plan, plan
        assert "messages_by_target_time" in plan, plan


# ----------------------------------------------------------------------------- the writer


async def _settled(writer: HistoryWriter) -> None:
    """Everything queued is written, and the retention pass after it has run: a flush is
    answered right after the lines before it, the pass follows that batch, and a second
    flush is taken only after it."""
    await writer.flush()
    await writer.flush()


def _count(store: SqliteHistory, target: str) -> int:
    with store._lock:
        row = store._conn.execute(
            "SELECT count(*) FROM messages WHERE target = ?", (target,)
        ).fetchone()
    return int(row[0])


def test_each_conversation_stays_within_twice_its_retention_and_ends_at_it(
    tmp_path: Path,
) -> None:
    """Trimming in steps of a whole retention: during a flood over many conversations,
    none ever holds more than twice ``max_per_target`` lines (and the rest of the batch
    that filled it, trimmed right after that batch); after close, each holds its last
    ``max_per_target``."""
    keep = 30
    targets = [f"#room{i}" for i in range(6)] + [ALICE_BOB]
    burst = 7  # most lines one conversation gets in one batch
    peaks: dict[str, int] = {}

    async def flood() -> None:
        store = SqliteHistory(tmp_path / "history.db")
        writer = HistoryWriter(store, HistorySettings(max_per_target=keep))
        n = 0
        for round_ in range(40):
            batch = []
            for i, target in enumerate(targets):
                for _ in range(1 + (round_ + i) % burst):  # each fills at its own pace
                    n += 1
                    batch.append(_said(n, target))
            writer.append(batch)
            await writer.flush()
            for target in targets:
                peaks[target] = max(peaks.get(target, 0), _count(store, target))
        await writer.close()
        for target in targets:
            kept = store.export(target)
            assert len(kept) == keep
            assert kept[-1].target == target
        store.close()

    asyncio.run(flood())
    assert max(peaks.values()) < 2 * keep + burst
    assert min(peaks.values()) > keep  # each was trimmed in a step, not line by line


class _CountingHistory(SqliteHistory):
    """Counts the lines written, for a clock that moves with them."""

    appended = 0

    def append(self, records: Sequence[HistoryRecord]) -> None:
        super().append(records)
        self.appended += len(records)


def test_the_minute_prune_leaves_a_conversation_until_it_is_a_tenth_over(tmp_path: Path) -> None:
    """Each count trim walks the newest lines to find where to cut, so the once-a-minute
    pass trims only conversations at least 10 % over their retention; close trims all."""
    keep = 100

    async def scenario() -> tuple[int, int, int, int]:
        store = _CountingHistory(tmp_path / "history.db")

        def clock() -> float:
            """A minute passes once the second round of lines is in (the writer thread
            reads the clock after each batch, also after a flush's)."""
            return T0 / 1000 + (history_module.PRUNE_SECONDS if store.appended > 2 * keep else 0)

        writer = HistoryWriter(store, HistorySettings(max_per_target=keep), clock=clock)
        # One append each time: one batch, so the minute's pass sees both conversations.
        writer.append([_said(n, t) for t in ("#a", "#b") for n in range(keep)])
        await _settled(writer)  # both filled up: trimmed to `keep`, counts start again
        writer.append(
            [_said(1000 + n, "#a") for n in range(keep // 10 - 1)]
            + [_said(2000 + n, "#b") for n in range(keep // 10)]
        )
        await _settled(writer)  # the minute's pass ran after this batch
        during = _count(store, "#a"), _count(store, "#b")
        await writer.close()
        after = _count(store, "#a"), _count(store, "#b")
        store.close()
        return (*during, *after)

    assert asyncio.run(scenario()) == (keep + keep // 10 - 1, keep, keep, keep)


def test_lines_to_ever_new_conversations_leave_a_bounded_table_in_the_writer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One line each to many rooms or nicks never makes a count trim due: past
    ``TOUCHED_TARGETS`` conversations, the minute's pass trims them all and forgets them."""
    monkeypatch.setattr(history_module, "TOUCHED_TARGETS", 20)

    async def scenario() -> tuple[int, int]:
        store = _CountingHistory(tmp_path / "history.db")

        def clock() -> float:
            return T0 / 1000 + history_module.PRUNE_SECONDS * (store.appended // 50)

        writer = HistoryWriter(store, HistorySettings(max_per_target=100), clock=clock)
        for n in range(200):
            writer.append([_said(n, f"#room{n}")])
            await writer.flush()
        await _settled(writer)
        tracked = writer.conversations_tracked
        await writer.close()
        kept = _count(store, "#room199")
        store.close()
        return tracked, kept

    tracked, kept = asyncio.run(scenario())
    assert tracked <= 50 + 20
    assert kept == 1


class _SlowFirstAppend(MemoryHistory):
    """Holds the writer thread in its first append until the test lets it go."""

    def __init__(self) -> None:
        super().__init__()
        self.entered = threading.Event()
        self.release = threading.Event()

    def append(self, records: Any) -> None:
        if not self.entered.is_set():
            self.entered.set()
            self.release.wait(10)
        super().append(records)


def test_the_writer_does_not_nap_while_a_backlog_waits(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Appends wait a moment for company only while few are queued: a writer that naps
    with a full queue caps the whole server (the shell holds the senders meanwhile)."""
    naps: list[float] = []
    monkeypatch.setattr(worker_thread.WorkerThread, "_nap", lambda _self, pause: naps.append(pause))

    async def scenario() -> int:
        store = _SlowFirstAppend()
        writer = HistoryWriter(store, HistorySettings())
        writer.append([_said(0, "#lobby")])
        await asyncio.to_thread(store.entered.wait, 10)
        for n in range(1, 2 * history_module.COALESCE_BELOW):  # a backlog, one line each
            writer.append([_said(n, "#lobby")])
        store.release.set()
        await writer.close()
        return len(store.rows["#lobby"])

    assert asyncio.run(scenario()) == 2 * history_module.COALESCE_BELOW
    assert naps == [COALESCE_SECONDS]  # the first line alone; never with the backlog


class _CountingNaps(MemoryHistory):
    """Counts the batches written, so a test can see a nap end."""

    def __init__(self) -> None:
        super().__init__()
        self.appended = threading.Event()

    def append(self, records: Any) -> None:
        super().append(records)
        self.appended.set()


def test_a_query_is_answered_without_waiting_for_the_writers_nap(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Appends nap for company, but a CHATHISTORY query someone waits for ends the nap:
    the line just said is found at once (with a minute's nap, the test would time out)."""
    monkeypatch.setattr(history_module, "COALESCE_SECONDS", 60.0)

    async def scenario() -> list[str]:
        writer = HistoryWriter(_CountingNaps(), HistorySettings())
        writer.append([_said(1, "#lobby")])
        answered: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        writer.query(HistoryQuery("LATEST", "#lobby", None, None, 10), answered.set_result)
        rows = await asyncio.wait_for(answered, 10)
        await asyncio.wait_for(writer.close(), 10)
        return [row.msgid for row in rows]

    assert asyncio.run(scenario()) == ["m1"]


def test_a_backlog_ends_the_writers_nap(monkeypatch: pytest.MonkeyPatch) -> None:
    """Records reaching COALESCE_BELOW are a batch worth writing now: the nap ends (with a
    minute's nap, the test would time out)."""
    monkeypatch.setattr(history_module, "COALESCE_SECONDS", 60.0)
    napping = threading.Event()
    coalesce = HistoryWriter._coalesce

    def noted(self: HistoryWriter, job: Any) -> float:
        pause = coalesce(self, job)
        if pause:
            napping.set()
        return pause

    monkeypatch.setattr(HistoryWriter, "_coalesce", noted)

    async def scenario() -> int:
        store = _CountingNaps()
        writer = HistoryWriter(store, HistorySettings())
        writer.append([_said(0, "#lobby")])
        await asyncio.to_thread(napping.wait, 10)  # the first line naps, alone
        for n in range(1, history_module.COALESCE_BELOW):
            writer.append([_said(n, "#lobby")])
        await asyncio.wait_for(asyncio.to_thread(store.appended.wait, 10), 10)
        written = len(store.rows["#lobby"])
        await asyncio.wait_for(writer.close(), 10)
        return written

    assert asyncio.run(scenario()) >= 1
