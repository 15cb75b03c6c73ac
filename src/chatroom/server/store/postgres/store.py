"""The PostgreSQL ``Store``: the same records and rules as SQLite, shared by processes.

Rules:
- every ``apply`` is one transaction that first bumps ``store_meta.generation``: writers
  take that row lock in turn (like SQLite's ``BEGIN IMMEDIATE``), so transactions that
  span tables commit in one order everywhere;
- ``CreateAccount`` and ``RegisterChannel`` are inserts that find a taken key with
  ``ON CONFLICT DO NOTHING``; no row back means ``AlreadyExistsError`` and the whole
  transaction is rolled back: a name is never overwritten;
- each commit that changes accounts, bans, mutes or rooms sends, in the same transaction
  (so only if it commits), ``NOTIFY chatroom_store`` with the keys it changed and the
  writer's ``origin``; ``watch`` LISTENs on its own connection and yields the keys of
  other writers' commits, which ``read_touched`` then reads back row by row.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
from collections.abc import AsyncIterator, Sequence
from typing import Any, assert_never, cast

import psycopg
from psycopg import errors
from psycopg_pool import ConnectionPool

from chatroom.server.store.base import (
    BAN_KINDS,
    Account,
    AccountMute,
    AlreadyExistsError,
    AppendAudit,
    AuditEntry,
    BanKind,
    Change,
    ChannelListEntry,
    ConflictError,
    CreateAccount,
    DeleteAccount,
    DeleteBan,
    DeleteBanTarget,
    DeleteChannel,
    DeleteMetadata,
    DeleteMute,
    DeletePresence,
    Presence,
    PutAccount,
    PutAccountOption,
    PutBan,
    PutChannel,
    PutMetadata,
    PutMute,
    PutPresence,
    PutReadMarker,
    RegisterChannel,
    RegisteredChannel,
    RenameChannel,
    ServerBan,
    SetAccountCertfps,
    SetAccountOperRole,
    SetAccountPassword,
    SetChannelFounder,
    Snapshot,
    StoreDelta,
    StoreError,
    Touched,
    UpdateChannel,
    ban_key,
    touched_by,
)
from chatroom.server.store.postgres.schema import STORE, connect, connect_kwargs, migrate
from chatroom.server.store.sqlite import COUNTED_TABLES, nested, presences

__all__ = ["CHANNEL", "PostgresStore"]

log = logging.getLogger("chatroom.store")

CHANNEL = "chatroom_store"
MAX_PAYLOAD = 7900  # NOTIFY payloads stop at 8000 bytes; past this, say "reload all"
RECONNECT_SECONDS = 1.0
Conn = psycopg.Connection[Any]


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
        )
        self._pool.open(wait=True, timeout=30)

    # ------------------------------------------------------------------ reads

    def load(self) -> Snapshot:
        with self._read() as conn:
            generation = conn.execute("SELECT generation FROM store_meta WHERE id = 1").fetchone()
            return Snapshot(
                accounts=_accounts(conn, None),
                bans=sorted(_bans(conn, None).values(), key=lambda b: b.id or 0),
                version=int(generation[0]) if generation else 0,
                mutes=_mutes(conn, None),
                channels=_channels(conn, None),
                metadata=_per_account(conn, "account_metadata", "key, value", None),
                options=_per_account(conn, "account_options", "name, value", None),
                read_markers=_per_account(conn, "read_markers", "target, at", None),
                presence=_presence(conn),
            )

    def read_touched(self, touched: Touched) -> StoreDelta:
        with self._read() as conn:
            accounts = _accounts(conn, sorted(touched.accounts))
            bans = _bans(conn, sorted(touched.bans))
            mutes = _mutes(conn, sorted(touched.mutes))
            channels = _channels(conn, sorted(touched.channels))
            keys = sorted(touched.accounts)
            metadata = _per_account(conn, "account_metadata", "key, value", keys)
            options = _per_account(conn, "account_options", "name, value", keys)
        return StoreDelta(
            accounts={key: accounts.get(key) for key in touched.accounts},
            metadata={key: metadata.get(key, {}) for key in touched.accounts},
            options={key: options.get(key, {}) for key in touched.accounts},
            bans={key: bans.get(key) for key in touched.bans},
            mutes={key: mutes.get(key) for key in touched.mutes},
            channels={key: channels.get(key) for key in touched.channels},
        )

    def audit(self, since: float | None = None) -> list[AuditEntry]:
        with self._pool.connection() as conn:
            rows = conn.execute(
                "SELECT id, at, actor, action, target, reason FROM audit_log"
                " WHERE %s::float8 IS NULL OR at >= %s ORDER BY id",
                (since, since),
            ).fetchall()
        return [AuditEntry(*row) for row in rows]

    def counts(self) -> dict[str, int]:
        """Rows per table, for ``chatroom admin migrate`` to verify a copy."""
        with self._read() as conn:
            return {table: _count(conn, table) for table in COUNTED_TABLES}

    # ------------------------------------------------------------------ writes

    def apply(self, changes: Sequence[Change]) -> list[int]:
        try:
            with self._pool.connection() as conn, conn.transaction():
                conn.execute("UPDATE store_meta SET generation = generation + 1 WHERE id = 1")
                ban_ids: list[int] = []
                touched = touched_by(changes)
                extra: set[str] = set()
                for change in changes:
                    ban_id = _apply_one(conn, change, extra)
                    if ban_id is not None:
                        ban_ids.append(ban_id)
                touched = touched | Touched(bans=frozenset(extra))
                if touched:
                    conn.execute("SELECT pg_notify(%s, %s)", (CHANNEL, self._payload(touched)))
                return ban_ids
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
        """LISTEN for other writers' commits; None after every (re)connect, since
        notifications sent while nobody listened are lost."""
        while True:
            try:
                conn = await psycopg.AsyncConnection.connect(
                    self.conninfo, autocommit=True, **connect_kwargs(self.conninfo)
                )
            except psycopg.Error as exc:
                log.warning("cannot listen for store changes; retrying", extra={"error": str(exc)})
                await asyncio.sleep(RECONNECT_SECONDS)
                continue
            try:
                async with conn:
                    await conn.execute(f"LISTEN {CHANNEL}")
                    yield None
                    async for notify in conn.notifies():
                        own, touched = self._parse(notify.payload)
                        if not own:
                            yield touched
            except psycopg.Error as exc:
                log.warning("store listener lost its connection", extra={"error": str(exc)})
                await asyncio.sleep(RECONNECT_SECONDS)

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

    def _read(self) -> _ReadTransaction:
        return _ReadTransaction(self._pool)


class _ReadTransaction:
    """A pooled connection in one REPEATABLE READ, READ ONLY transaction: the tables read
    inside agree with each other, as in one SQLite read transaction."""

    def __init__(self, pool: ConnectionPool[Conn]) -> None:
        self._pool = pool
        self._context: Any = None
        self._tx: Any = None

    def __enter__(self) -> Conn:
        self._context = self._pool.connection()
        conn = cast(Conn, self._context.__enter__())
        self._tx = conn.transaction()
        self._tx.__enter__()
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        return conn

    def __exit__(self, *exc: object) -> None:
        try:
            self._tx.__exit__(*exc)
        finally:
            self._context.__exit__(*exc)


def _count(conn: Conn, table: str) -> int:
    row = conn.execute(f"SELECT count(*) FROM {table}").fetchone()
    return int(row[0]) if row else 0


# ---------------------------------------------------------------------- one change


def _apply_one(conn: Conn, change: Change, bans: set[str]) -> int | None:
    """Apply one change in the open transaction; the id for a ``PutBan``. Bans found
    only by id (``DeleteBan``, a ``PutBan`` that moves an id) add their key to ``bans``."""
    match change:
        case PutAccount(a):
            conn.execute(
                "INSERT INTO accounts"
                " (key, name, password_hash, scram, email, created_at, oper_role)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s)"
                " ON CONFLICT (key) DO UPDATE SET name = excluded.name,"
                " password_hash = excluded.password_hash, scram = excluded.scram,"
                " email = excluded.email, created_at = excluded.created_at,"
                " oper_role = excluded.oper_role",
                (a.key, a.name, a.password_hash, a.scram, a.email, a.created_at, a.oper_role),
            )
            _put_certfps(conn, a.key, a.certfps)
        case CreateAccount(a):
            created = conn.execute(
                "INSERT INTO accounts"
                " (key, name, password_hash, scram, email, created_at, oper_role)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT (key) DO NOTHING RETURNING key",
                (a.key, a.name, a.password_hash, a.scram, a.email, a.created_at, a.oper_role),
            ).fetchone()
            if created is None:
                raise AlreadyExistsError(f"account {a.key!r} already exists")
            _put_certfps(conn, a.key, a.certfps)
        case SetAccountOperRole(key, oper_role):
            conn.execute("UPDATE accounts SET oper_role = %s WHERE key = %s", (oper_role, key))
        case SetAccountPassword(key, password_hash, scram):
            conn.execute(
                "UPDATE accounts SET password_hash = %s, scram = %s WHERE key = %s",
                (password_hash, scram, key),
            )
        case SetAccountCertfps(key, certfps):
            if conn.execute("SELECT 1 FROM accounts WHERE key = %s FOR UPDATE", (key,)).fetchone():
                _put_certfps(conn, key, certfps)
        case DeleteAccount(key):
            conn.execute("DELETE FROM accounts WHERE key = %s", (key,))
        case PutBan(b):
            return _put_ban(conn, b, bans)
        case DeleteBan(ban_id):
            gone = conn.execute(
                "DELETE FROM server_bans WHERE id = %s RETURNING kind, mask", (ban_id,)
            ).fetchone()
            if gone is not None:
                bans.add(ban_key(gone[0], gone[1]))
        case DeleteBanTarget(kind, mask):
            conn.execute("DELETE FROM server_bans WHERE kind = %s AND mask = %s", (kind, mask))
        case AppendAudit(e):
            conn.execute(
                "INSERT INTO audit_log (at, actor, action, target, reason)"
                " VALUES (%s, %s, %s, %s, %s)",
                (e.at, e.actor, e.action, e.target, e.reason),
            )
        case PutMute(m):
            conn.execute(
                "INSERT INTO account_mutes"
                " (account_key, account_name, reason, set_by, set_at, expires_at)"
                " VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (account_key) DO UPDATE SET"
                " account_name = excluded.account_name, reason = excluded.reason,"
                " set_by = excluded.set_by, set_at = excluded.set_at,"
                " expires_at = excluded.expires_at",
                (m.account_key, m.account_name, m.reason, m.set_by, m.set_at, m.expires_at),
            )
        case DeleteMute(key):
            conn.execute("DELETE FROM account_mutes WHERE account_key = %s", (key,))
        case PutChannel(c):
            _put_channel(conn, c, replace=True)
        case RegisterChannel(c):
            if not _put_channel(conn, c, replace=False):
                raise AlreadyExistsError(f"room {c.key!r} is already registered")
        case UpdateChannel(c):
            updated = conn.execute(
                "UPDATE channels SET name = %s, topic = %s, topic_set_by = %s,"
                " topic_set_at = %s, modes = %s, channel_key = %s, user_limit = %s"
                " WHERE key = %s",
                (
                    c.name,
                    c.topic,
                    c.topic_set_by,
                    c.topic_set_at,
                    c.modes,
                    c.channel_key,
                    c.limit,
                    c.key,
                ),
            )
            if updated.rowcount:
                _put_channel_lists(conn, c)
        case SetChannelFounder(key, founder):
            conn.execute("UPDATE channels SET founder = %s WHERE key = %s", (founder, key))
        case DeleteChannel(key):
            conn.execute("DELETE FROM channels WHERE key = %s", (key,))
        case RenameChannel(key, new_key, new_name):
            _rename_channel(conn, key, new_key, new_name)
        case PutMetadata(account_key, key, value):
            # The account must exist: the foreign key refuses it (ConflictError) otherwise.
            conn.execute(
                "INSERT INTO account_metadata (account_key, key, value) VALUES (%s, %s, %s)"
                " ON CONFLICT (account_key, key) DO UPDATE SET value = excluded.value",
                (account_key, key, value),
            )
        case DeleteMetadata(account_key, None):
            conn.execute("DELETE FROM account_metadata WHERE account_key = %s", (account_key,))
        case DeleteMetadata(account_key, key):
            conn.execute(
                "DELETE FROM account_metadata WHERE account_key = %s AND key = %s",
                (account_key, key),
            )
        case PutAccountOption(account_key, name, None):
            if not conn.execute("SELECT 1 FROM accounts WHERE key = %s", (account_key,)).fetchone():
                raise ConflictError(f"no account {account_key!r} for its option")
            conn.execute(
                "DELETE FROM account_options WHERE account_key = %s AND name = %s",
                (account_key, name),
            )
        case PutAccountOption(account_key, name, value):
            # A missing account: the foreign key refuses it (ConflictError), as below.
            conn.execute(
                "INSERT INTO account_options (account_key, name, value) VALUES (%s, %s, %s)"
                " ON CONFLICT (account_key, name) DO UPDATE SET value = excluded.value",
                (account_key, name, value),
            )
        case PutReadMarker(account_key, target, at):
            conn.execute(
                "INSERT INTO read_markers (account_key, target, at) VALUES (%s, %s, %s)"
                " ON CONFLICT (account_key, target) DO UPDATE SET at = excluded.at",
                (account_key, target, at),
            )
        case PutPresence(p):
            _put_presence(conn, p)
        case DeletePresence(account_key):
            conn.execute("DELETE FROM account_presence WHERE account_key = %s", (account_key,))
        case _:
            assert_never(change)
    return None


def _put_presence(conn: Conn, p: Presence) -> None:
    """Replace an always-on user's kept presence whole: its row, then its rooms in order."""
    conn.execute(
        "INSERT INTO account_presence (account_key, nick, away, last_seen, modes)"
        " VALUES (%s, %s, %s, %s, %s) ON CONFLICT (account_key) DO UPDATE SET"
        " nick = excluded.nick, away = excluded.away, last_seen = excluded.last_seen,"
        " modes = excluded.modes",
        (p.account_key, p.nick, p.away, p.last_seen, p.modes),
    )
    conn.execute("DELETE FROM presence_channels WHERE account_key = %s", (p.account_key,))
    if p.channels:
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO presence_channels (account_key, position, channel)"
                " VALUES (%s, %s, %s)",
                [(p.account_key, i, name) for i, name in enumerate(p.channels)],
            )


def _rename_channel(conn: Conn, key: str, new_key: str, new_name: str) -> None:
    """Move a room row and its ops and list entries to the new key, in this transaction.

    The child tables reference the key without ON UPDATE CASCADE, so the row is copied
    under its new key first, the children follow, and the old row goes last; a new key
    already registered is refused by the primary key (ConflictError), the whole change
    rolled back.
    """
    if new_key == key:
        conn.execute("UPDATE channels SET name = %s WHERE key = %s", (new_name, key))
        return
    copied = conn.execute(
        "INSERT INTO channels (key, name, founder, registered_at, topic, topic_set_by,"
        " topic_set_at, modes, channel_key, user_limit)"
        " SELECT %s, %s, founder, registered_at, topic, topic_set_by, topic_set_at, modes,"
        " channel_key, user_limit FROM channels WHERE key = %s",
        (new_key, new_name, key),
    )
    if not copied.rowcount:
        return  # not registered: nothing to move
    for table in ("channel_ops", "channel_list_entries"):
        conn.execute(f"UPDATE {table} SET channel_key = %s WHERE channel_key = %s", (new_key, key))
    conn.execute("DELETE FROM channels WHERE key = %s", (key,))


def _put_ban(conn: Conn, b: ServerBan, bans: set[str]) -> int:
    values = (b.kind, b.mask, b.reason, b.set_by, b.set_at, b.expires_at)
    if b.id is None:
        row = conn.execute(
            "INSERT INTO server_bans (kind, mask, reason, set_by, set_at, expires_at)"
            " VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (kind, mask) DO UPDATE SET"
            " reason = excluded.reason, set_by = excluded.set_by,"
            " set_at = excluded.set_at, expires_at = excluded.expires_at RETURNING id",
            values,
        ).fetchone()
    else:
        before = conn.execute(
            "SELECT kind, mask FROM server_bans WHERE id = %s", (b.id,)
        ).fetchone()
        if before is not None:
            bans.add(ban_key(before[0], before[1]))
        row = conn.execute(
            "INSERT INTO server_bans (id, kind, mask, reason, set_by, set_at, expires_at)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT (id) DO UPDATE SET"
            " kind = excluded.kind, mask = excluded.mask, reason = excluded.reason,"
            " set_by = excluded.set_by, set_at = excluded.set_at,"
            " expires_at = excluded.expires_at RETURNING id",
            (b.id, *values),
        ).fetchone()
        # An id chosen by the caller (a migration) must not be handed out again later.
        conn.execute(
            "SELECT setval(pg_get_serial_sequence('server_bans', 'id'),"
            " GREATEST((SELECT max(id) FROM server_bans), 1))"
        )
    assert row is not None
    return int(row[0])


def _put_certfps(conn: Conn, key: str, certfps: tuple[str, ...]) -> None:
    conn.execute("DELETE FROM account_certfps WHERE account_key = %s", (key,))
    if certfps:
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO account_certfps (fingerprint, account_key, position)"
                " VALUES (%s, %s, %s)",
                [(fp, key, i) for i, fp in enumerate(certfps)],
            )


def _put_channel(conn: Conn, c: RegisteredChannel, *, replace: bool) -> bool:
    """Write one room whole; with ``replace`` False only if it is not registered yet."""
    on_conflict = (
        "DO UPDATE SET name = excluded.name, founder = excluded.founder,"
        " registered_at = excluded.registered_at, topic = excluded.topic,"
        " topic_set_by = excluded.topic_set_by, topic_set_at = excluded.topic_set_at,"
        " modes = excluded.modes, channel_key = excluded.channel_key,"
        " user_limit = excluded.user_limit"
        if replace
        else "DO NOTHING"
    )
    written = conn.execute(
        "INSERT INTO channels (key, name, founder, registered_at, topic, topic_set_by,"
        " topic_set_at, modes, channel_key, user_limit)"
        f" VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (key) {on_conflict}"
        " RETURNING key",
        (
            c.key,
            c.name,
            c.founder,
            c.registered_at,
            c.topic,
            c.topic_set_by,
            c.topic_set_at,
            c.modes,
            c.channel_key,
            c.limit,
        ),
    ).fetchone()
    if written is None:
        return False
    _put_channel_lists(conn, c)
    return True


def _put_channel_lists(conn: Conn, c: RegisteredChannel) -> None:
    conn.execute("DELETE FROM channel_ops WHERE channel_key = %s", (c.key,))
    conn.execute("DELETE FROM channel_list_entries WHERE channel_key = %s", (c.key,))
    with conn.cursor() as cur:
        if c.ops:
            cur.executemany(
                "INSERT INTO channel_ops (channel_key, position, account) VALUES (%s, %s, %s)",
                [(c.key, i, name) for i, name in enumerate(c.ops)],
            )
        if c.lists:
            cur.executemany(
                "INSERT INTO channel_list_entries"
                " (channel_key, position, letter, mask, set_by, set_at, expires_at)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s)",
                [
                    (c.key, i, e.letter, e.mask, e.set_by, e.set_at, e.expires_at)
                    for i, e in enumerate(c.lists)
                ],
            )


# ---------------------------------------------------------------------- rows to records
# Each reader takes ``keys``: None for every row (a load), else only those keys (a
# change applied by key), so both paths share one translation.


def _where(column: str, keys: list[str] | None) -> tuple[str, tuple[object, ...]]:
    if keys is None:
        return "", ()
    return f" WHERE {column} = ANY(%s)", (keys,)


def _accounts(conn: Conn, keys: list[str] | None) -> dict[str, Account]:
    if keys == []:
        return {}
    where, params = _where("account_key", keys)
    certfps: dict[str, list[str]] = {}
    for key, fingerprint in conn.execute(
        f"SELECT account_key, fingerprint FROM account_certfps{where}"
        " ORDER BY account_key, position",
        params,
    ):
        certfps.setdefault(key, []).append(fingerprint)
    where, params = _where("key", keys)
    return {
        row[0]: Account(
            key=row[0],
            name=row[1],
            password_hash=row[2],
            scram=row[3],
            email=row[4],
            created_at=row[5],
            oper_role=row[6],
            certfps=tuple(certfps.get(row[0], ())),
        )
        for row in conn.execute(
            "SELECT key, name, password_hash, scram, email, created_at, oper_role"
            f" FROM accounts{where}",
            params,
        )
    }


def _bans(conn: Conn, keys: list[str] | None) -> dict[str, ServerBan]:
    if keys == []:
        return {}
    query = "SELECT id, kind, mask, reason, set_by, set_at, expires_at FROM server_bans"
    params: tuple[object, ...] = ()
    if keys is not None:
        pairs = [key.partition(":") for key in keys]
        query += " WHERE (kind, mask) IN (SELECT * FROM unnest(%s::text[], %s::text[]))"
        params = ([kind for kind, _, _ in pairs], [mask for _, _, mask in pairs])
    bans = [
        ServerBan(int(row[0]), _ban_kind(row[1]), row[2], row[3], row[4], row[5], row[6])
        for row in conn.execute(query, params)
    ]
    return {ban_key(b.kind, b.mask): b for b in bans}


def _mutes(conn: Conn, keys: list[str] | None) -> dict[str, AccountMute]:
    if keys == []:
        return {}
    where, params = _where("account_key", keys)
    return {
        row[0]: AccountMute(*row)
        for row in conn.execute(
            "SELECT account_key, account_name, reason, set_by, set_at, expires_at"
            f" FROM account_mutes{where}",
            params,
        )
    }


def _channels(conn: Conn, keys: list[str] | None) -> dict[str, RegisteredChannel]:
    if keys == []:
        return {}
    where, params = _where("channel_key", keys)
    ops: dict[str, list[str]] = {}
    for key, name in conn.execute(
        f"SELECT channel_key, account FROM channel_ops{where} ORDER BY channel_key, position",
        params,
    ):
        ops.setdefault(key, []).append(name)
    lists: dict[str, list[ChannelListEntry]] = {}
    for row in conn.execute(
        "SELECT channel_key, letter, mask, set_by, set_at, expires_at"
        f" FROM channel_list_entries{where} ORDER BY channel_key, position",
        params,
    ):
        lists.setdefault(row[0], []).append(ChannelListEntry(*row[1:]))
    where, params = _where("key", keys)
    return {
        row[0]: RegisteredChannel(
            key=row[0],
            name=row[1],
            founder=row[2],
            registered_at=row[3],
            topic=row[4],
            topic_set_by=row[5],
            topic_set_at=row[6],
            modes=row[7],
            channel_key=row[8],
            limit=row[9],
            ops=tuple(ops.get(row[0], ())),
            lists=tuple(lists.get(row[0], ())),
        )
        for row in conn.execute(
            "SELECT key, name, founder, registered_at, topic, topic_set_by, topic_set_at,"
            f" modes, channel_key, user_limit FROM channels{where}",
            params,
        )
    }


def _per_account(
    conn: Conn, table: str, columns: str, keys: list[str] | None
) -> dict[str, dict[str, Any]]:
    """Metadata, options or read markers: ``columns`` names the (name, value) pair."""
    if keys == []:
        return {}
    where, params = _where("account_key", keys)
    return nested(conn.execute(f"SELECT account_key, {columns} FROM {table}{where}", params))


def _presence(conn: Conn) -> dict[str, Presence]:
    return presences(
        conn.execute("SELECT account_key, nick, away, last_seen, modes FROM account_presence"),
        conn.execute(
            "SELECT account_key, channel FROM presence_channels ORDER BY account_key, position"
        ),
    )


def _ban_kind(value: str) -> BanKind:
    if value not in BAN_KINDS:
        raise ValueError(f"unknown ban kind in database: {value!r}")
    return cast(BanKind, value)
