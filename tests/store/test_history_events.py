"""The history store contract for room events (draft/event-playback) and deleted messages
(draft/message-redaction), run against the in-memory, SQLite and PostgreSQL backends."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path

import pytest

from chatroom.cli import main
from chatroom.server.core.history import (
    EVENT_COMMANDS,
    EventRecord,
    HistoryQuery,
    HistoryRecord,
    Ref,
    dm_key,
)
from chatroom.server.core.redaction import FORBIDDEN, REDACTED, UNKNOWN, Redaction
from chatroom.server.core.settings import HistorySettings
from chatroom.server.store.factory import open_history
from chatroom.server.store.history import HistoryStore, HistoryWriter
from chatroom.server.store.history_sqlite import SqliteHistory
from chatroom.server.store.postgres.schema import HISTORY
from chatroom.server.store.postgres.schema import connect as pg_connect
from chatroom.server.store.postgres.schema import migrate as pg_migrate
from chatroom.server.store.schema import available_migrations, open_database
from chatroom.server.store.url import StoreLocation, parse_store_url

T0 = 1_900_000_000_000
ALL_EVENTS = (*EVENT_COMMANDS, "REDACT")


def _said(n: int, *, sender: str = "a:alice", target: str = "#lobby") -> HistoryRecord:
    private = target.startswith("dm:")
    return HistoryRecord(
        target=target,
        msgid=f"m{n}",
        at=T0 + n * 1000,
        sender=sender,
        recipient="a:bob" if private else "",
        source=f"{sender[2:]}!~u@host",
        command="PRIVMSG",
        target_name="bob" if private else "#Lobby",
        text=f"line {n}",
        account=sender[2:],
        tags=(("+draft/react", "x"),),
    )


def _event(n: int, command: str, *params: str, target: str = "#lobby") -> EventRecord:
    return EventRecord(
        target=target,
        msgid=f"e{n}",
        at=T0 + n * 1000,
        sender="",
        recipient="",
        source="carol!~c@host",
        command=command,
        target_name="#Lobby",
        text="",
        account="carol" if command == "JOIN" else None,
        params=params,
    )


# Said and done in #lobby, in this order: 1 JOIN, 2 said, 3 MODE, 4 said, 5 PART, 6 said.
ROOM: list[HistoryRecord] = [
    _event(1, "JOIN", "carol", "Carol C."),
    _said(2),
    _event(3, "MODE", "+o", "carol"),
    _said(4),
    _event(5, "PART", "bye now"),
    _said(6),
]


@pytest.fixture
def store(history_store: HistoryStore) -> HistoryStore:
    history_store.append(ROOM)
    return history_store


def where(url: str) -> StoreLocation:
    return parse_store_url(url, Path("/nonexistent"))


def _q(
    kind: str,
    first: Ref | None,
    second: Ref | None = None,
    limit: int = 10,
    events: tuple[str, ...] = (),
) -> HistoryQuery:
    return HistoryQuery(kind, "#lobby", first, second, limit, events=events)


def _ids(rows: object) -> list[str]:
    assert isinstance(rows, list)
    return [row.msgid for row in rows if isinstance(row, HistoryRecord)]


def test_events_come_back_only_to_queries_that_ask_for_them(store: HistoryStore) -> None:
    """The chathistory spec: without draft/event-playback, PRIVMSG and NOTICE only."""
    assert _ids(store.query(_q("LATEST", None))) == ["m2", "m4", "m6"]
    assert _ids(store.query(_q("LATEST", None, events=EVENT_COMMANDS))) == [
        "e1",
        "m2",
        "e3",
        "m4",
        "e5",
        "m6",
    ]
    only_joins = store.query(_q("LATEST", None, events=("JOIN",)))
    assert _ids(only_joins) == ["e1", "m2", "m4", "m6"]


def test_events_come_back_exactly_as_stored(store: HistoryStore) -> None:
    rows = store.query(_q("LATEST", None, events=EVENT_COMMANDS))
    assert rows == ROOM
    assert isinstance(rows[0], EventRecord)
    assert type(rows[1]) is HistoryRecord


def test_limit_counts_the_events_a_query_asks_for(store: HistoryStore) -> None:
    assert _ids(store.query(_q("LATEST", None, limit=2, events=EVENT_COMMANDS))) == ["e5", "m6"]
    assert _ids(store.query(_q("LATEST", None, limit=2))) == ["m4", "m6"]


def test_an_event_msgid_is_a_reference_even_for_message_only_queries(store: HistoryStore) -> None:
    """A client may page from any line it saw; the answer still holds only what it asked."""
    assert _ids(store.query(_q("BEFORE", Ref(msgid="e5")))) == ["m2", "m4"]
    assert _ids(store.query(_q("AFTER", Ref(msgid="e3")))) == ["m4", "m6"]
    assert _ids(store.query(_q("BETWEEN", Ref(msgid="e1"), Ref(msgid="e5")))) == ["m2", "m4"]
    around = store.query(_q("AROUND", Ref(msgid="e3"), limit=2, events=EVENT_COMMANDS))
    assert _ids(around) == ["m2", "e3"]


def test_targets_ignores_events(store: HistoryStore) -> None:
    """A room where someone only joined has nothing new to read."""
    store.append([_event(9, "JOIN", "*", "x", target="#quiet")])
    query = HistoryQuery(
        "TARGETS",
        "",
        Ref(at=T0),
        Ref(at=T0 + 60_000),
        10,
        channels=("#lobby", "#quiet"),
        identity="a:bob",
    )
    assert [t.target for t in store.query(query)] == ["#lobby"]


# ----------------------------------------------------------------------------- redaction


def _delete(store: HistoryStore, msgid: str, author: str | None, since: int = 0) -> str:
    return store.redact(Redaction("#lobby", msgid, author, T0 + 99_000, since))


@pytest.mark.parametrize(
    ("msgid", "author", "since", "outcome"),
    [
        ("m4", "a:alice", 0, REDACTED),  # the author
        ("m4", None, 0, REDACTED),  # a room operator: anyone's
        ("m4", "a:bob", 0, FORBIDDEN),  # someone else's
        ("m4", "a:alice", T0 + 5000, FORBIDDEN),  # a guest's line from before it connected
        ("nope", None, 0, UNKNOWN),
        ("e3", None, 0, UNKNOWN),  # events are not messages
    ],
)
def test_who_may_delete_what(
    store: HistoryStore, msgid: str, author: str | None, since: int, outcome: str
) -> None:
    assert _delete(store, msgid, author, since) == outcome
    still_there = outcome != REDACTED
    assert ("m4" in _ids(store.query(_q("LATEST", None)))) is still_there


def test_a_deleted_message_is_never_returned_again(store: HistoryStore) -> None:
    assert _delete(store, "m4", "a:alice") == REDACTED
    everything = _q("LATEST", None, events=ALL_EVENTS)
    assert _ids(store.query(everything)) == ["e1", "m2", "e3", "e5", "m6"]
    assert _ids(store.query(_q("AROUND", Ref(msgid="m2"), limit=3))) == ["m2", "m6"]
    assert _ids(store.query(_q("AFTER", Ref(at=T0 + 3500)))) == ["m6"]
    assert "m4" not in [r.msgid for r in store.recent(10)]
    assert "m4" not in [r.msgid for r in store.export("#lobby")]


def test_a_deleted_message_still_anchors_references(store: HistoryStore) -> None:
    """A client whose oldest line was deleted can still page back from it."""
    _delete(store, "m4", None)
    assert _ids(store.query(_q("BEFORE", Ref(msgid="m4")))) == ["m2"]
    assert _ids(store.query(_q("AFTER", Ref(msgid="m4")))) == ["m6"]


def test_deleting_twice_finds_nothing_the_second_time(store: HistoryStore) -> None:
    assert _delete(store, "m2", None) == REDACTED
    assert _delete(store, "m2", None) == UNKNOWN


def test_targets_ignores_deleted_messages(store: HistoryStore) -> None:
    dm = dm_key("a:alice", "a:bob")
    store.append([_said(7, target=dm)])
    assert store.redact(Redaction(dm, "m7", "a:alice", T0 + 99_000)) == REDACTED
    query = HistoryQuery(
        "TARGETS", "", Ref(at=T0), Ref(at=T0 + 60_000), 10, channels=(), identity="a:bob"
    )
    assert store.query(query) == []


def test_a_private_message_is_deleted_in_its_own_conversation_only(store: HistoryStore) -> None:
    dm = dm_key("a:alice", "a:bob")
    store.append([_said(7, target=dm)])
    assert store.redact(Redaction("#lobby", "m7", None, T0)) == UNKNOWN
    assert store.redact(Redaction(dm, "m7", "a:alice", T0)) == REDACTED
    assert store.query(HistoryQuery("LATEST", dm, None, None, 10)) == []


# ----------------------------------------------------------------------------- retention


def test_recent_keeps_the_last_messages_and_the_last_events_of_each_room(
    store: HistoryStore,
) -> None:
    assert [r.msgid for r in store.recent(1)] == ["e5", "m6"]
    assert [r.msgid for r in store.recent(2)] == ["e3", "m4", "e5", "m6"]


def test_count_retention_counts_messages_and_drops_older_events(store: HistoryStore) -> None:
    """A burst of joins never pushes what was said out of history."""
    store.append([_event(10, "JOIN", "*", "x")])
    assert store.prune(T0, 0, 2, ["#lobby"]) == 3  # e1, m2, e3
    kept = store.query(_q("LATEST", None, limit=50, events=EVENT_COMMANDS))
    assert _ids(kept) == ["m4", "e5", "m6", "e10"]


def test_count_retention_keeps_only_the_newest_events_too(store: HistoryStore) -> None:
    """JOIN/PART again and again in a room where little is said: the events are bounded
    by the same count as the messages (before: every one kept, without end)."""
    store.append([_event(n, "JOIN" if n % 2 else "PART", "*", "x") for n in range(10, 20)])
    assert store.prune(T0, 0, 2, ["#lobby"]) == 12  # e1, m2, e3, e5, e10..e17
    kept = store.query(_q("LATEST", None, limit=50, events=EVENT_COMMANDS))
    assert _ids(kept) == ["m4", "m6", "e18", "e19"]


def test_count_retention_bounds_a_room_with_events_only(store: HistoryStore) -> None:
    store.append([_event(n, "JOIN", "*", "x", target="#quiet") for n in range(10, 20)])
    assert store.prune(T0, 0, 3, ["#quiet"]) == 7
    kept = store.query(HistoryQuery("LATEST", "#quiet", None, None, 50, events=EVENT_COMMANDS))
    assert _ids(kept) == ["e17", "e18", "e19"]


# ----------------------------------------------------------------------------- SQLite


def _old_row(r: HistoryRecord) -> tuple[object, ...]:
    tags = '{"+draft/react":"x"}'
    return (r.target, r.msgid, r.at, r.sender, r.source, r.target_name, r.text, r.account, tags)


def test_sqlite_migrates_an_existing_history_keeping_every_line(tmp_path: Path) -> None:
    """history.db written before events existed: same lines, same order, then events."""
    path = tmp_path / "history.db"
    first = available_migrations("history_migrations")[:1]
    conn = open_database(path, synchronous="NORMAL", migrations=first)
    conn.executemany(
        "INSERT INTO messages (target, msgid, at, sender, recipient, source, command,"
        " target_name, text, account, tags) VALUES (?, ?, ?, ?, '', ?, 'PRIVMSG', ?, ?, ?, ?)",
        [_old_row(r) for r in (_said(2), _said(4))],
    )
    conn.close()
    store = SqliteHistory(path)
    try:
        assert store.query(_q("LATEST", None)) == [_said(2), _said(4)]
        store.append([_event(5, "PART", "bye now"), _said(6)])
        assert _ids(store.query(_q("LATEST", None, events=EVENT_COMMANDS))) == [
            "m2",
            "m4",
            "e5",
            "m6",
        ]
        assert store.redact(Redaction("#lobby", "m2", "a:alice", T0)) == REDACTED
    finally:
        store.close()


def test_postgres_migrates_an_existing_history_keeping_every_line(postgres_url: str) -> None:
    """A PostgreSQL history written before events existed: same lines, ids and order."""
    first = available_migrations("postgres/history_migrations")[:1]
    with pg_connect(postgres_url) as conn:
        pg_migrate(conn, HISTORY, first)
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO messages (target, msgid, at, sender, recipient, source, command,"
                " target_name, text, account, tags)"
                " VALUES (%s, %s, %s, %s, '', %s, 'PRIVMSG', %s, %s, %s, %s)",
                [_old_row(r) for r in (_said(2), _said(4))],
            )
    store = open_history(where(postgres_url))
    try:
        assert store.query(_q("LATEST", None)) == [_said(2), _said(4)]
        store.append([_event(5, "PART", "bye now"), _said(6)])
        assert _ids(store.query(_q("LATEST", None, events=EVENT_COMMANDS))) == [
            "m2",
            "m4",
            "e5",
            "m6",
        ]
        assert store.redact(Redaction("#lobby", "m2", "a:alice", T0)) == REDACTED
    finally:
        store.close()


def test_sqlite_deletion_removes_the_text_from_the_file(tmp_path: Path) -> None:
    """Deleted means gone from disk, not only hidden: the row keeps no text and no tags."""
    path = tmp_path / "history.db"
    store = SqliteHistory(path)
    store.append([_said(2)])
    assert store.redact(Redaction("#lobby", "m2", None, T0 + 5000)) == REDACTED
    store.close()
    conn = sqlite3.connect(path)
    try:
        row = conn.execute("SELECT text, tags, redacted_at FROM messages").fetchone()
    finally:
        conn.close()
    assert row == ("", "{}", T0 + 5000)


def test_writer_deletes_after_the_appends_queued_before_it(tmp_path: Path) -> None:
    """A message can be deleted as soon as it was said: the deletion waits for its write."""

    async def scenario() -> tuple[str | None, list[str]]:
        store = SqliteHistory(tmp_path / "history.db")
        writer = HistoryWriter(store, HistorySettings())
        answer: asyncio.Future[str | None] = asyncio.get_running_loop().create_future()
        writer.append([_said(2), _said(4)])
        writer.redact(Redaction("#lobby", "m4", "a:alice", T0), answer.set_result)
        outcome = await answer
        await writer.close()
        try:
            return outcome, [r.msgid for r in store.export("#lobby")]
        finally:
            store.close()

    assert asyncio.run(scenario()) == (REDACTED, ["m2"])


def test_admin_export_shows_events_and_leaves_deleted_messages_out(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    store = SqliteHistory(data / "history.db")
    store.append(ROOM)
    store.redact(Redaction("#lobby", "m4", None, T0 + 9000))
    store.close()
    assert main(["admin", "export", "#lobby", "--data-dir", str(data)]) == 0
    exported = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [row["msgid"] for row in exported] == ["e1", "m2", "e3", "e5", "m6"]
    assert exported[0]["command"] == "JOIN"
    assert exported[0]["params"] == ["carol", "Carol C."]
    assert "params" not in exported[1]
