"""The PostgreSQL ``Store``: the same records and rules as SQLite, shared by processes.

The SQL of every change and every read is shared with SQLite (``sql_changes.py``,
``sql_records.py``, through ``_Session``, which turns their ``?`` placeholders into
psycopg's ``%s``). What is PostgreSQL's own stays here:
- every ``apply`` is one transaction that first bumps ``store_meta.generation``: writers
  take that row lock in turn (like SQLite's ``BEGIN IMMEDIATE``), so transactions that
  span tables commit in one order everywhere; a broken constraint is reported as
  ``ConflictError``, any other database error as ``StoreError``, the whole transaction
  rolled back;
- reads run in one REPEATABLE READ transaction on a pooled connection;
- each commit that changes accounts, bans, mutes or rooms sends, in the same transaction
  (so only if it commits), ``NOTIFY chatroom_store`` with the keys it changed and the
  writer's ``origin``; ``watch`` LISTENs on its own connection and yields the keys of
  other writers' commits, which ``read_touched`` then reads back row by row. Its first
  LISTEN after ``load`` asks for a reload only if ``store_meta.generation`` moved since
  that load (a commit nobody was listening for); after a reconnect it always does, since
  what was notified meanwhile is lost.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import secrets
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg import errors
from psycopg_pool import ConnectionPool

from chatroom.logs import error_text
from chatroom.server.outage import Outage
from chatroom.server.store.base import (
    AuditEntry,
    Change,
    ConflictError,
    Snapshot,
    StoreDelta,
    StoreError,
    Touched,
    touched_by,
)
from chatroom.server.store.postgres.schema import (
    CONNECT_TIMEOUT,
    STORE,
    connect,
    connect_kwargs,
    migrate,
)
from chatroom.server.store.sql_changes import Dialect, apply_changes
from chatroom.server.store.sql_records import count_rows, read_audit, read_delta, read_snapshot
from chatroom.server.store.sql_tables import Rows

__all__ = ["CHANNEL", "PostgresStore"]

log = logging.getLogger("chatroom.store")

CHANNEL = "chatroom_store"
MAX_PAYLOAD = 7900  # NOTIFY payloads stop at 8000 bytes; past this, say "reload all"
RECONNECT_SECONDS = 1.0
Conn = psycopg.Connection[Any]
# Where PostgreSQL's SQL differs from SQLite's: a row read before what hangs off it is
# rewritten is locked (SQLite has no row locks; its write lock holds the whole file), and
# an identity sequence does not move past an id written explicitly (a migration), so it
# is set past the largest id after such a write (SQLite's AUTOINCREMENT does that itself).
POSTGRES = Dialect(
    lock_row=" FOR UPDATE",
    sync_ban_ids="SELECT setval(pg_get_serial_sequence('server_bans', 'id'),"
    " GREATEST((SELECT max(id) FROM server_bans), 1))",
)


class PostgresStore:
    """``Store`` on a PostgreSQL database; safe from the writer thread and the loop."""

    def __init__(self, conninfo: str) -> None:
        self.conninfo = conninfo
        # Who we are in notifications: our own commits are not outside changes.
        self.origin = secrets.token_hex(8)
        with connect(conninfo) as conn:
            migrate(conn, STORE)
        self._pool: ConnectionPool[Conn] = ConnectionPool(
            conninfo,
            min_size=1,
            max_size=4,
            kwargs={"autocommit": True, **connect_kwargs(conninfo)},
            name="chatroom-store",
            open=False,
            # How long a change waits for a connection: while PostgreSQL is down, the
            # writer reports it (REGISTER gets TEMPORARILY_UNAVAILABLE) after one connect
            # timeout instead of the pool's default 30 s, during which everything else
            # waiting to be saved waits too.
            timeout=CONNECT_TIMEOUT,
            # A restart of PostgreSQL kills the idle connections: check one before use
            # (one empty round trip), so the first change or read after it takes a new
            # one instead of failing on the dead one (a REGISTER refused, a traceback).
            check=ConnectionPool.check_connection,
        )
        self._pool.open(wait=True, timeout=30)
        self._loaded_generation: int | None = None  # store_meta.generation at ``load``

    # ------------------------------------------------------------------ reads

    def load(self) -> Snapshot:
        with self._read() as db:
            snapshot = read_snapshot(db)
            self._loaded_generation = _generation(db)  # in the same transaction
        return snapshot

    def read_touched(self, touched: Touched) -> StoreDelta:
        with self._read() as db:
            return read_delta(db, touched)

    def audit(self, since: float | None = None) -> list[AuditEntry]:
        with self._pool.connection() as conn:
            return read_audit(_Session(conn), since)

    def counts(self) -> dict[str, int]:
        """Rows per table, for ``chatroom admin migrate`` to verify a copy."""
        with self._read() as db:
            return count_rows(db)

    # ------------------------------------------------------------------ writes

    def apply(self, changes: Sequence[Change]) -> list[int]:
        try:
            with self._pool.connection() as conn, conn.transaction():
                conn.execute("UPDATE store_meta SET generation = generation + 1 WHERE id = 1")
                applied = apply_changes(_Session(conn), changes, POSTGRES)
                touched = touched_by(changes) | Touched(bans=applied.bans_found_by_id)
                if touched:
                    conn.execute("SELECT pg_notify(%s, %s)", (CHANNEL, self._payload(touched)))
                return applied.ban_ids
        except errors.IntegrityError as exc:
            raise ConflictError(str(exc).strip()) from exc
        except psycopg.Error as exc:
            raise StoreError(str(exc).strip()) from exc

    def _payload(self, touched: Touched) -> str:
        text = json.dumps(
            {
                "origin": self.origin,
                "accounts": sorted(touched.accounts),
                "bans": sorted(touched.bans),
                "mutes": sorted(touched.mutes),
                "channels": sorted(touched.channels),
            },
            separators=(",", ":"),
        )
        if len(text.encode()) > MAX_PAYLOAD:
            return json.dumps({"origin": self.origin, "all": True})
        return text

    # ------------------------------------------------------------------ other processes

    async def watch(self) -> AsyncIterator[Touched | None]:
        """LISTEN for other writers' commits; None (reload all) after a reconnect, since
        notifications sent while nobody listened are lost, and at the first connect only
        if a commit came between ``load`` and the LISTEN."""
        first = True
        away = Outage("listening for store changes", log)  # said twice, not every second
        while True:
            try:
                conn = await psycopg.AsyncConnection.connect(self.conninfo, **self._listen_kwargs())
            except psycopg.Error as exc:
                away.failed(exc)
                await asyncio.sleep(RECONNECT_SECONDS)
                continue
            try:
                async with conn:
                    await conn.execute(f"LISTEN {CHANNEL}")
                    away.ok()
                    if not first:
                        log.info(
                            "store listener reconnected; reloading the store, since changes"
                            " made meanwhile were not announced"
                        )
                        yield None
                    elif await self._missed_since_load(conn):
                        log.info("store changed between loading and listening; reloading")
                        yield None
                    first = False
                    async for notify in conn.notifies():
                        own, touched = self._parse(notify.payload)
                        if own:
                            continue
                        if touched is None:
                            log.info("store changed outside the server; reloading it all")
                        yield touched
            except psycopg.Error as exc:
                log.warning("store listener lost its connection", extra={"error": error_text(exc)})
                await asyncio.sleep(RECONNECT_SECONDS)

    def _listen_kwargs(self) -> dict[str, Any]:
        """Autocommit, and named apart in ``pg_stat_activity``: ``chatroom-listener`` (or
        the URL's ``application_name`` and ``-listener``)."""
        kwargs = connect_kwargs(self.conninfo)
        kwargs["application_name"] = f"{kwargs['application_name']}-listener"
        return {**kwargs, "autocommit": True}

    async def _missed_since_load(self, conn: psycopg.AsyncConnection[Any]) -> bool:
        """Did anyone commit since ``load`` (or was there no ``load``)? Own commits count
        too (the generation cannot tell them apart); reloading them is harmless."""
        if self._loaded_generation is None:
            return True
        cursor = await conn.execute("SELECT generation FROM store_meta WHERE id = 1")
        row = await cursor.fetchone()
        return row is None or int(row[0]) != self._loaded_generation

    def _parse(self, payload: str) -> tuple[bool, Touched | None]:
        """(our own commit?, the keys it names; None: reload all)."""
        try:
            data = json.loads(payload)
        except ValueError:
            return False, None
        if not isinstance(data, dict):
            return False, None
        if data.get("origin") == self.origin:
            return True, None
        if data.get("all"):
            return False, None

        def keys(name: str) -> frozenset[str]:
            values = data.get(name) or []
            return frozenset(str(v) for v in values) if isinstance(values, list) else frozenset()

        return False, Touched(keys("accounts"), keys("bans"), keys("mutes"), keys("channels"))

    def close(self) -> None:
        self._pool.close()

    @contextmanager
    def _read(self) -> Iterator[_Session]:
        """A pooled connection in one REPEATABLE READ, READ ONLY transaction: the tables
        read inside agree with each other, as in one SQLite read transaction."""
        with self._pool.connection() as conn, conn.transaction():
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            yield _Session(conn)


class _Session:
    """A psycopg connection as the shared SQL's ``SqlSession``: its ``?`` placeholders
    become psycopg's ``%s`` (a literal ``%`` doubled), and ``executemany`` runs on a
    cursor, as psycopg has it only there."""

    def __init__(self, conn: Conn) -> None:
        self._conn = conn

    def execute(self, sql: str, params: Sequence[Any] = (), /) -> Rows:
        return self._conn.execute(_pyformat(sql), params)

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]], /) -> None:
        with self._conn.cursor() as cursor:
            cursor.executemany(_pyformat(sql), rows)


def _generation(db: _Session) -> int | None:
    row = db.execute("SELECT generation FROM store_meta WHERE id = 1").fetchone()
    return None if row is None else int(row[0])


@functools.lru_cache(maxsize=512)
def _pyformat(sql: str) -> str:
    """The shared SQL in psycopg's placeholder style (it has no ``?``)."""
    return sql.replace("%", "%%").replace("?", "%s")
