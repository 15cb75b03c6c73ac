"""The history store contract, run against the in-memory, SQLite and PostgreSQL backends."""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from chatroom.cli import main
from chatroom.server.core.history import HistoryQuery, HistoryRecord, Ref, TargetListing, dm_key
from chatroom.server.core.redaction import Redaction
from chatroom.server.core.settings import HistorySettings
from chatroom.server.store import history as history_module
from chatroom.server.store.factory import open_history
from chatroom.server.store.history import HistoryStore, HistoryWriter, Rows
from chatroom.server.store.history_memory import MemoryHistory
from chatroom.server.store.history_sqlite import SqliteHistory
from chatroom.server.store.url import StoreLocation, parse_store_url

T0 = 1_900_000_000_000
DM = dm_key("a:alice", "a:bob")


def _line(n: int, *, target: str = "#lobby", at: int | None = None) -> HistoryRecord:
    private = target.startswith("dm:")
    return HistoryRecord(
        target=target,
        msgid=f"m{n}",
        at=T0 + n * 1000 if at is None else at,
        sender="a:alice",
        recipient="a:bob" if private else "",
        source="alice!~alice@host",
        command="PRIVMSG",
        target_name="bob" if private else "#Lobby",
        text=f"line {n}",
        account="alice",
        tags=(("+draft/react", "x"), ("bot", "")) if n == 1 else (),
    )


@pytest.fixture
def store(history_store: HistoryStore) -> HistoryStore:
    return history_store


def where(url: str) -> StoreLocation:
    return parse_store_url(url, Path("/nonexistent"))


def _texts(rows: object) -> list[str]:
    assert isinstance(rows, list)
    return [row.text for row in rows if isinstance(row, HistoryRecord)]


def _q(kind: str, first: Ref | None, second: Ref | None = None, limit: int = 10) -> HistoryQuery:
    return HistoryQuery(kind, "#lobby", first, second, limit)


def test_records_come_back_exactly_as_stored(store: HistoryStore) -> None:
    store.append([_line(1), _line(2)])
    rows = store.query(_q("LATEST", None))
    assert rows == [_line(1), _line(2)]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (_q("LATEST", None, limit=2), [4, 5]),
        (_q("LATEST", Ref(msgid="m3")), [4, 5]),
        (_q("LATEST", Ref(at=T0 + 3000)), [4, 5]),
        (_q("BEFORE", Ref(msgid="m4"), limit=2), [2, 3]),
        (_q("BEFORE", Ref(at=T0 + 3000)), [1, 2]),
        (_q("AFTER", Ref(msgid="m2"), limit=2), [3, 4]),
        (_q("AFTER", Ref(at=T0 + 3000)), [4, 5]),
        (_q("AROUND", Ref(msgid="m3"), limit=3), [2, 3, 4]),
        (_q("AROUND", Ref(at=T0 + 1000), limit=4), [1, 2, 3, 4]),
        (_q("BETWEEN", Ref(msgid="m1"), Ref(msgid="m5")), [2, 3, 4]),
        (_q("BETWEEN", Ref(msgid="m1"), Ref(msgid="m5"), limit=2), [2, 3]),
        (_q("BETWEEN", Ref(msgid="m5"), Ref(msgid="m1"), limit=2), [3, 4]),
        (_q("BETWEEN", Ref(at=T0), Ref(at=T0 + 3000)), [1, 2]),
        (_q("BETWEEN", Ref(at=T0 + 2000), Ref(msgid="m5")), [3, 4]),
        (_q("AFTER", Ref(msgid="unknown")), []),
        (_q("BEFORE", Ref(at=T0)), []),
    ],
)
def test_each_subcommand_selects_what_the_spec_says(
    store: HistoryStore, query: HistoryQuery, expected: list[int]
) -> None:
    """References are exclusive; answers ascend; BETWEEN counts from its first reference."""
    store.append([_line(n) for n in range(1, 6)])
    assert _texts(store.query(query)) == [f"line {n}" for n in expected]


def test_conversations_do_not_mix(store: HistoryStore) -> None:
    store.append([_line(1), _line(2, target="#other"), _line(3, target=DM)])
    assert _texts(store.query(_q("LATEST", None))) == ["line 1"]
    dm = HistoryQuery("LATEST", DM, None, None, 10)
    assert _texts(store.query(dm)) == ["line 3"]


def test_since_hides_older_private_lines(store: HistoryStore) -> None:
    store.append([_line(1, target=DM), _line(2, target=DM)])
    query = HistoryQuery("LATEST", DM, None, None, 10, since=T0 + 1500)
    assert _texts(store.query(query)) == ["line 2"]


def test_targets_lists_latest_time_per_visible_conversation(store: HistoryStore) -> None:
    store.append([_line(1), _line(2, target=DM), _line(3), _line(4, target="#hidden")])
    query = HistoryQuery(
        "TARGETS",
        "",
        Ref(at=T0),
        Ref(at=T0 + 10_000),
        10,
        channels=("#lobby",),
        identity="a:bob",
    )
    assert store.query(query) == [
        TargetListing(DM, "alice", T0 + 2000),
        TargetListing("#lobby", "#Lobby", T0 + 3000),
    ]
    backwards = HistoryQuery(
        "TARGETS", "", Ref(at=T0 + 10_000), Ref(at=T0), 1, channels=("#lobby",), identity="a:x"
    )
    assert [t.target for t in store.query(backwards)] == ["#lobby"]


def test_targets_leaves_out_a_conversation_whose_latest_line_is_after_the_window(
    store: HistoryStore,
) -> None:
    """draft/chathistory: TARGETS lists conversations "whose latest message falls
    between" the two timestamps; a room that spoke in the window and again after it is
    not one of them."""
    store.append([_line(1), _line(2, target=DM), _line(5), _line(20, target=DM)])
    query = HistoryQuery(
        "TARGETS",
        "",
        Ref(at=T0),
        Ref(at=T0 + 10_000),
        10,
        channels=("#lobby",),
        identity="a:bob",
    )
    assert store.query(query) == [TargetListing("#lobby", "#Lobby", T0 + 5000)]
    at_the_end = HistoryQuery(
        "TARGETS", "", Ref(at=T0), Ref(at=T0 + 5000), 10, channels=("#lobby",), identity="a:bob"
    )
    assert store.query(at_the_end) == []  # the window's ends are outside it


def test_recent_keeps_the_last_lines_of_each_room_only(store: HistoryStore) -> None:
    store.append([_line(n) for n in range(1, 5)] + [_line(9, target=DM)])
    assert [r.text for r in store.recent(2)] == ["line 3", "line 4"]


def test_prune_by_age_and_by_count(store: HistoryStore) -> None:
    store.append([_line(n) for n in range(1, 6)] + [_line(6, target="#other")])
    dropped = store.prune(T0 + 86_400_000 + 2500, 1, 0, [])
    assert dropped == 2
    assert _texts(store.query(_q("LATEST", None))) == ["line 3", "line 4", "line 5"]
    assert store.prune(T0, 0, 1, ["#lobby"]) == 2
    assert _texts(store.query(_q("LATEST", None))) == ["line 5"]
    assert store.export("#other") == [_line(6, target="#other")]


def test_purge_a_room_whole_or_before_a_time(store: HistoryStore) -> None:
    store.append([_line(n) for n in range(1, 5)])
    assert store.purge("#lobby", before_ms=T0 + 2500) == 2
    assert [r.text for r in store.export("#lobby")] == ["line 3", "line 4"]
    assert store.purge("#lobby") == 2
    assert store.export("#lobby") == []


def test_rename_moves_a_rooms_lines_to_its_new_name(store: HistoryStore) -> None:
    """RENAME: the room's history follows it, and its lines name the new room."""
    store.append([_line(1), _line(2), _line(3, target="#other")])
    assert store.rename("#lobby", "#hall", "#Hall") == 2
    assert store.export("#lobby") == []
    moved = store.export("#hall")
    assert [(r.text, r.target_name) for r in moved] == [("line 1", "#Hall"), ("line 2", "#Hall")]
    assert [r.text for r in store.export("#other")] == ["line 3"]


def test_writer_renames_after_the_appends_queued_before_it(store_url: str) -> None:
    async def scenario() -> tuple[list[str], list[str]]:
        store = open_history(where(store_url))
        writer = HistoryWriter(store, HistorySettings())
        writer.append([_line(1)])
        writer.rename("#lobby", "#hall", "#hall")
        writer.append([_line(2, target="#hall")])
        await writer.close()
        try:
            return _texts(store.export("#lobby")), _texts(store.export("#hall"))
        finally:
            store.close()

    assert asyncio.run(scenario()) == ([], ["line 1", "line 2"])


def test_history_survives_reopening(store_url: str) -> None:
    first = open_history(where(store_url))
    first.append([_line(1), _line(2)])
    first.close()
    again = open_history(where(store_url))
    try:
        assert again.query(_q("LATEST", None)) == [_line(1), _line(2)]
    finally:
        again.close()


def test_a_purge_by_another_process_is_noticed_once(store_url: str) -> None:
    server = open_history(where(store_url))
    admin = open_history(where(store_url))
    try:
        server.append([_line(1)])
        assert not server.changed_outside()
        admin.purge("#lobby")
        assert _eventually(server.changed_outside)
        assert not server.changed_outside()
    finally:
        admin.close()
        server.close()


def test_own_purge_and_appends_are_not_outside_changes(store_url: str) -> None:
    server = open_history(where(store_url))
    try:
        server.append([_line(1), _line(2)])
        server.purge("#lobby", before_ms=T0 + 1500)
        assert not server.changed_outside()
    finally:
        server.close()


def _eventually(check: Callable[[], bool], seconds: float = 5.0) -> bool:
    """A notification travels through the database server: give it a moment."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.01)
    return False


def test_writer_answers_a_query_after_the_appends_queued_before_it(store_url: str) -> None:
    """Reads share the writers' queue: a line just said is always found."""

    async def scenario() -> list[str]:
        store = open_history(where(store_url))
        writer = HistoryWriter(store, HistorySettings())
        answer: asyncio.Future[Rows | None] = asyncio.get_running_loop().create_future()
        writer.append([_line(1)])
        writer.append([_line(2)])
        writer.query(_q("LATEST", None), answer.set_result)
        rows = await answer
        writer.append([_line(3)])
        await writer.close()  # close writes what is queued
        store.close()
        reopened = open_history(where(store_url))
        try:
            return _texts(rows) + _texts(reopened.export("#lobby"))
        finally:
            reopened.close()

    assert asyncio.run(scenario()) == ["line 1", "line 2", "line 1", "line 2", "line 3"]


def test_a_writer_closed_at_shutdown_answers_late_queries_with_a_failure() -> None:
    """A CHATHISTORY that reaches the writer after it closed gets an answer (None: the
    store failed) instead of waiting for ever; late lines are dropped, never half-written."""

    async def scenario() -> tuple[Rows | None, str | None, list[HistoryRecord]]:
        store = MemoryHistory()
        writer = HistoryWriter(store, HistorySettings())
        writer.append([_line(1)])
        await writer.close()
        writer.append([_line(2)])
        loop = asyncio.get_running_loop()
        rows: asyncio.Future[Rows | None] = loop.create_future()
        outcome: asyncio.Future[str | None] = loop.create_future()
        writer.query(_q("LATEST", None), rows.set_result)
        writer.redact(Redaction("#lobby", "m1", None, T0 + 9), outcome.set_result)
        answers = await asyncio.wait_for(asyncio.gather(rows, outcome), 5)
        return answers[0], answers[1], store.export("#lobby")

    rows, outcome, kept = asyncio.run(scenario())
    assert (rows, outcome) == (None, None)
    assert _texts(kept) == ["line 1"]


def test_admin_export_and_purge_from_the_command_line(
    store_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = open_history(where(store_url))
    store.append([_line(1), _line(2)])
    store.close()
    named = ["--store", store_url, "--data-dir", str(tmp_path / "data")]
    assert main(["admin", "export", "#LOBBY", *named]) == 0
    exported = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [row["text"] for row in exported] == ["line 1", "line 2"]
    assert exported[0]["msgid"] == "m1"
    assert exported[0]["tags"] == {"+draft/react": "x", "bot": ""}
    assert main(["admin", "purge", "#lobby", *named]) == 0
    assert "deleted 2 lines" in capsys.readouterr().out
    assert main(["admin", "purge", "lobby", *named]) == 1


def test_admin_export_reads_the_data_directory_by_default(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    store = SqliteHistory(data / "history.db")
    store.append([_line(1)])
    store.close()
    assert main(["admin", "export", "#lobby", "--data-dir", str(data)]) == 0
    assert "line 1" in capsys.readouterr().out


class FullDiskHistory(MemoryHistory):
    """Every append refused as on a full disk (SQLite's own error, as it says it)."""

    def append(self, records: Sequence[HistoryRecord]) -> None:
        raise sqlite3.OperationalError("database or disk is full")


def test_history_lost_to_a_full_disk_is_logged_in_one_line_without_a_traceback(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(history_module, "WRITE_RETRY_SECONDS", 0.0)

    async def scenario() -> None:
        writer = HistoryWriter(FullDiskHistory(), HistorySettings())
        writer.append([_line(1), _line(2)])
        await writer.close()

    with caplog.at_level(logging.ERROR, logger="chatroom.history"):
        asyncio.run(scenario())
    (lost,) = [r for r in caplog.records if "lines lost" in r.getMessage()]
    assert lost.getMessage() == "history write failed (2 lines lost)"
    assert lost.__dict__["error"] == "database or disk is full"
    assert lost.exc_info is None


def test_a_stopping_server_gives_up_on_history_it_cannot_write_within_the_stop_timeout(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # While running, a failing write is tried for WRITE_RETRY_SECONDS (here an hour); once
    # the server stops, for CLOSING_RETRY_SECONDS only, so systemd need not kill it.
    monkeypatch.setattr(history_module, "WRITE_RETRY_SECONDS", 3600.0)
    monkeypatch.setattr(history_module, "CLOSING_RETRY_SECONDS", 0.2)
    monkeypatch.setattr(history_module, "WRITE_RETRY_PAUSE", 0.05)

    async def scenario() -> None:
        writer = HistoryWriter(FullDiskHistory(), HistorySettings())
        writer.append([_line(1)])
        await asyncio.wait_for(writer.close(), timeout=60)

    with caplog.at_level(logging.ERROR, logger="chatroom.history"):
        asyncio.run(scenario())
    assert [r.getMessage() for r in caplog.records if "lines lost" in r.getMessage()] == [
        "history write failed (1 lines lost)"
    ]


class AwayForAWhileHistory(MemoryHistory):
    """The database away for the first ``tries`` appends (a PostgreSQL restart), then back."""

    def __init__(self, tries: int) -> None:
        super().__init__()
        self.tries = tries

    def append(self, records: Sequence[HistoryRecord]) -> None:
        if self.tries > 0:
            self.tries -= 1
            raise OSError("connection refused\nIs the server running on that host?")
        super().append(records)


def test_a_database_away_for_many_tries_is_logged_when_it_goes_and_comes_back_not_per_try(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Tried twice a second, a PostgreSQL away for minutes wrote a warning per try (two
    lines a second per node); now one when it goes, one every 10 s, one when it is back."""
    monkeypatch.setattr(history_module, "WRITE_RETRY_PAUSE", 0.001)
    store = AwayForAWhileHistory(tries=30)

    async def scenario() -> None:
        writer = HistoryWriter(store, HistorySettings())
        writer.append([_line(1)])
        await writer.close()

    with caplog.at_level(logging.INFO, logger="chatroom.history"):
        asyncio.run(scenario())
    said = [r for r in caplog.records if r.getMessage().startswith("history write")]
    assert [r.levelno for r in said] == [logging.WARNING, logging.INFO], said
    assert said[0].getMessage() == "history write failed; retrying"
    assert said[0].__dict__["error"] == "connection refused; Is the server running on that host?"
    assert said[1].getMessage() == "history write works again"
    assert _texts(store.export("#lobby")) == ["line 1"]  # nothing lost
