"""What only the PostgreSQL backend does: versioned migrations in ``chatroom_schema``,
notifications that name the keys a commit changed, and indexes the history queries use.
Against a real PostgreSQL 15 (``tests/postgres_server.py``)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from chatroom.server.core.history import HistoryQuery, HistoryRecord, Ref
from chatroom.server.store.base import (
    Account,
    AppendAudit,
    AuditEntry,
    DeleteBan,
    PutAccount,
    PutBan,
    ServerBan,
    Touched,
    ban_key,
)
from chatroom.server.store.postgres.history import PostgresHistory
from chatroom.server.store.postgres.schema import STORE, connect, migrate
from chatroom.server.store.postgres.store import PostgresStore
from chatroom.server.store.schema import Migration, SchemaTooNewError, available_migrations


def _account(name: str) -> Account:
    return Account(name, name, "$argon2id$hash", None, None, 1.0)


def _versions(url: str) -> dict[str, int]:
    with psycopg.connect(url) as conn:
        return dict(conn.execute("SELECT component, version FROM chatroom_schema").fetchall())


def test_a_new_database_gets_every_migration_of_both_sequences(postgres_url: str) -> None:
    PostgresStore(postgres_url).close()
    PostgresHistory(postgres_url).close()
    assert _versions(postgres_url) == {
        "store": len(available_migrations("postgres/migrations")),
        "history": len(available_migrations("postgres/history_migrations")),
    }


def test_postgres_migrations_mirror_the_sqlite_numbers() -> None:
    """The same number means the same schema on both backends: a migration added to one
    sequence without its twin fails here."""
    sqlite = [m.name for m in available_migrations("migrations")]
    postgres = [m.name for m in available_migrations("postgres/migrations")]
    assert postgres == sqlite
    sqlite_history = [m.name for m in available_migrations("history_migrations")]
    assert [m.name for m in available_migrations("postgres/history_migrations")] == sqlite_history


def test_reopening_runs_only_new_steps_and_keeps_the_data(
    postgres_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    store = PostgresStore(postgres_url)
    store.apply([PutAccount(_account("bob"))])
    store.close()
    steps = available_migrations("postgres/migrations")
    extra = Migration(len(steps) + 1, "999_extra.sql", "CREATE TABLE extra (x INTEGER);")
    with (
        psycopg.connect(postgres_url, autocommit=True) as conn,
        caplog.at_level(logging.INFO, logger="chatroom.store"),
    ):
        assert migrate(conn, STORE, [*steps, extra]) == len(steps) + 1
        assert migrate(conn, STORE, [*steps, extra]) == len(steps) + 1  # nothing reruns
    upgrades = [r for r in caplog.records if r.getMessage() == "database schema upgraded"]
    assert [(r.__dict__["from_version"], r.__dict__["to_version"]) for r in upgrades] == [
        (len(steps), len(steps) + 1)  # logged once, by the open that changed it
    ]
    with pytest.raises(SchemaTooNewError):  # this ChatRoom knows fewer steps than were run
        PostgresStore(postgres_url)


def test_a_failing_migration_leaves_the_previous_version(postgres_url: str) -> None:
    PostgresStore(postgres_url).close()
    steps = available_migrations("postgres/migrations")
    broken = Migration(len(steps) + 1, "999_broken.sql", "CREATE TABLE t (x INT); SELECT nope;")
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        with pytest.raises(psycopg.Error):
            migrate(conn, STORE, [*steps, broken])
        tables = conn.execute("SELECT count(*) FROM pg_tables WHERE tablename = 't'").fetchone()
        assert tables == (0,)
    assert _versions(postgres_url)["store"] == len(steps)


# ----------------------------------------------------------------------------- notifications


async def _next(changes: AsyncIterator[Touched | None], seconds: float = 10.0) -> Touched | None:
    return await asyncio.wait_for(anext(changes), seconds)


def test_another_writers_commit_arrives_with_its_keys_and_own_commits_do_not(
    postgres_url: str,
) -> None:
    server = PostgresStore(postgres_url)
    admin = PostgresStore(postgres_url)

    async def scenario() -> list[Touched | None]:
        changes = server.watch()
        seen = [await _next(changes)]  # None: listening (re)started, reload everything
        server.apply([PutAccount(_account("own"))])  # the server's own write: not reported
        ban = ServerBan(None, "address", "192.0.2.7", "r", "op", 1.0, None)
        [ban_id] = admin.apply([PutBan(ban), PutAccount(_account("bob"))])
        seen.append(await _next(changes))
        admin.apply([AppendAudit(AuditEntry(None, 1.0, "a", "b", "c", "d"))])  # no rows
        admin.apply([DeleteBan(ban_id)])  # by id: the key is found by the store
        seen.append(await _next(changes))
        await changes.aclose()  # type: ignore[attr-defined]  # an async generator  # type: ignore[attr-defined]
        return seen

    try:
        seen = asyncio.run(scenario())
    finally:
        admin.close()
        server.close()
    assert seen == [
        None,
        Touched(accounts=frozenset({"bob"}), bans=frozenset({ban_key("address", "192.0.2.7")})),
        Touched(bans=frozenset({ban_key("address", "192.0.2.7")})),
    ]


def test_a_commit_touching_more_than_a_notification_holds_says_reload_all(
    postgres_url: str,
) -> None:
    server = PostgresStore(postgres_url)
    admin = PostgresStore(postgres_url)

    async def scenario() -> Touched | None:
        changes = server.watch()
        await _next(changes)
        admin.apply([PutAccount(_account(f"user{i:04d}")) for i in range(1000)])
        found = await _next(changes)
        await changes.aclose()  # type: ignore[attr-defined]  # an async generator  # type: ignore[attr-defined]
        return found

    try:
        assert asyncio.run(scenario()) is None
    finally:
        admin.close()
        server.close()


def _listening(url: str) -> bool:
    """The store's listener has LISTENed and checked the generation, and now waits."""
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND application_name = 'chatroom-listener' AND state = 'idle'"
            " AND query LIKE 'SELECT generation%'"
        ).fetchone()
    return bool(row and row[0])


def test_the_first_listen_after_a_load_asks_for_a_reload_only_if_a_commit_came_between(
    postgres_url: str,
) -> None:
    """At start the store was just loaded: nothing to reload, unless another writer
    committed before the LISTEN began (that notification went to nobody)."""
    server = PostgresStore(postgres_url)
    admin = PostgresStore(postgres_url)

    async def first_seen() -> Touched | None:
        changes = server.watch()
        pending = asyncio.ensure_future(_next(changes))
        while not (pending.done() or _listening(postgres_url)):
            await asyncio.sleep(0.05)
        admin.apply([PutAccount(_account(f"later{len(seen)}"))])
        found = await pending
        await changes.aclose()  # type: ignore[attr-defined]  # an async generator  # type: ignore[attr-defined]
        return found

    seen: list[Touched | None] = []
    try:
        server.load()
        seen.append(asyncio.run(first_seen()))  # just loaded: the first is the commit
        server.load()
        admin.apply([PutAccount(_account("between"))])  # after the load, before the LISTEN
        seen.append(asyncio.run(first_seen()))
    finally:
        admin.close()
        server.close()
    assert seen == [Touched(accounts=frozenset({"later0"})), None]


# ----------------------------------------------------------------------------- indexes


def _plan(conn: psycopg.Connection[Any], sql: str, params: tuple[object, ...]) -> str:
    rows = conn.execute("EXPLAIN " + sql, params).fetchall()
    return "\n".join(str(row[0]) for row in rows)


def test_history_queries_use_the_indexes(postgres_url: str) -> None:
    """CHATHISTORY by msgid and by time, and TARGETS, each read an index, never the whole
    table (which index is the planner's choice: the primary key walks ``id`` order too)."""
    history = PostgresHistory(postgres_url)
    try:
        records = [
            HistoryRecord(
                target=f"#room{i % 50}",
                msgid=f"m{i}",
                at=1_900_000_000_000 + i,
                sender="a:alice",
                recipient="",
                source="alice!a@h",
                command="PRIVMSG",
                target_name=f"#room{i % 50}",
                text="hello",
            )
            for i in range(20_000)
        ]
        history.append(records)
        rows = history.query(HistoryQuery("BEFORE", "#room7", Ref(msgid="m19957"), None, 5))
        assert [r.msgid for r in rows if isinstance(r, HistoryRecord)][-1] == "m19907"
    finally:
        history.close()
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute("ANALYZE messages")
        latest = _plan(
            conn,
            "SELECT * FROM messages WHERE target = %s AND id < %s ORDER BY id DESC LIMIT 50",
            ("#room7", 19_000),
        )
        by_msgid = _plan(conn, "SELECT id FROM messages WHERE msgid = %s", ("m5",))
        by_time = _plan(
            conn,
            "SELECT * FROM messages WHERE target = %s AND at > %s ORDER BY id LIMIT 50",
            ("#room7", 1_900_000_019_000),
        )
        targets = _plan(
            conn,
            "SELECT 1 FROM messages WHERE recipient <> '' AND sender = %s AND at > %s",
            ("a:alice", 1_900_000_000_000),
        )
    for plan in (latest, by_msgid, by_time, targets):
        assert "Seq Scan" not in plan, plan
    assert "messages_by_msgid" in by_msgid, by_msgid
    assert "messages_by_sender" in targets or "messages_by_recipient" in targets, targets


def test_an_unreachable_database_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(psycopg.OperationalError):
        PostgresStore(f"postgresql://nobody@/none?host={tmp_path}&connect_timeout=2")


def test_options_in_the_url_are_kept_beside_chatrooms_own(postgres_url: str) -> None:
    """A URL's own libpq ``options`` and ``application_name`` win over nothing: ChatRoom
    adds its lock timeout to them instead of replacing them."""
    url = postgres_url + "&options=-c%20statement_timeout%3D12345&application_name=mine"
    with connect(url) as conn:
        shown = [conn.execute(f"SHOW {name}").fetchone() for name in _SHOWN]
    assert shown == [("12345ms",), ("5s",), ("mine",)]


_SHOWN = ("statement_timeout", "lock_timeout", "application_name")


def _line(msgid: str, at: int, order: int = 0) -> HistoryRecord:
    return HistoryRecord(
        "#net", msgid, at, "a:x", "", "x!x@x", "PRIVMSG", "#net", msgid, order=order
    )


def test_rows_numbered_by_a_network_keep_the_network_s_order_and_later_rows_go_above(
    postgres_url: str,
) -> None:
    history = PostgresHistory(postgres_url)
    try:
        history.append([_line("one", 1_000)])  # a single server before the network
        # Two nodes write at once: node b's later line reaches the database first.
        history.append([_line("three", 2_000, order=(2_000 << 12) + 1)])
        history.append([_line("two", 2_000, order=2_000 << 12)])
    finally:
        history.close()
    history = PostgresHistory(postgres_url)  # a single server again
    try:
        history.append([_line("four", 3_000)])
        rows = history.query(HistoryQuery("LATEST", "#net", None, None, 10))
    finally:
        history.close()
    assert [row.text for row in rows if isinstance(row, HistoryRecord)] == [
        "one",
        "two",
        "three",
        "four",
    ]


def test_a_listener_that_cannot_reach_postgresql_warns_once_and_says_when_it_is_back(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """It tries again every second: a PostgreSQL away for minutes wrote a warning each
    time, on every node; now one when it goes (then one every 10 s) and one when it is back."""
    from chatroom.server.store.postgres import store as store_module

    monkeypatch.setattr(store_module, "RECONNECT_SECONDS", 0.01)
    store = PostgresStore(postgres_url)
    store.conninfo = "postgresql://nobody@127.0.0.1:1/nothing"  # refused at once

    async def scenario() -> None:
        changes = store.watch()
        listening = asyncio.ensure_future(anext(changes))
        await asyncio.sleep(0.5)  # dozens of tries
        store.conninfo = postgres_url
        for _ in range(500):
            if "listening for store changes works again" in caplog.text:
                break
            await asyncio.sleep(0.01)
        listening.cancel()
        await asyncio.gather(listening, return_exceptions=True)
        await changes.aclose()  # type: ignore[attr-defined]  # an async generator

    try:
        with caplog.at_level(logging.INFO, logger="chatroom.store"):
            asyncio.run(scenario())
    finally:
        store.close()
    said = [m for r in caplog.records if (m := r.getMessage()).startswith("listening for")]
    assert said == [
        "listening for store changes failed; retrying",
        "listening for store changes works again",
    ], said
