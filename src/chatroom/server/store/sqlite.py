"""The SQLite ``Store``: one file, ``<data-dir>/chatroom.db``, in WAL mode.

One connection serves both the writer thread (``apply``) and the event loop (``load``,
``changed_since_load``), guarded by a lock. Sharing it matters: ``PRAGMA data_version``
changes only for commits made by *other* connections, so the server's own writes do not
look like outside edits, while a ``chatroom admin`` command in another process does.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, assert_never, cast

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
    Touched,
    UpdateChannel,
    ban_key,
)
from chatroom.server.store.schema import data_version, open_database

__all__ = ["DB_FILENAME", "SqliteStore", "default_db_path"]

DB_FILENAME = "chatroom.db"
# How often a running server asks SQLite whether another process committed: a
# ``PRAGMA data_version`` costs microseconds, so a change from ``chatroom admin`` is seen
# well within a second.
WATCH_SECONDS = 0.25
# What ``counts`` reports: every table that holds records (not the bookkeeping).
COUNTED_TABLES = (
    "accounts",
    "account_certfps",
    "server_bans",
    "account_mutes",
    "channels",
    "channel_ops",
    "channel_list_entries",
    "account_metadata",
    "account_options",
    "read_markers",
    "account_presence",
    "presence_channels",
    "audit_log",
)


def default_db_path(data_dir: Path) -> Path:
    """Where the server and ``chatroom admin`` both look for the database."""
    return data_dir / DB_FILENAME


class SqliteStore:
    """``Store`` on a SQLite file; safe to call from the writer thread and the loop."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        # FULL, not NORMAL: in WAL mode NORMAL already survives a killed process, but a
        # power cut or kernel crash can drop the last commits; then a user told "account
        # registered" would find it gone. Writes here are rare and batched by the writer
        # thread, so one fsync per transaction is cheap insurance.
        self._conn = open_database(self.path, synchronous="FULL", foreign_keys=True)
        self._seen_data_version = data_version(self._conn)

    def load(self) -> Snapshot:
        with self._lock:
            conn = self._conn
            # One read transaction so accounts, fingerprints and bans agree.
            conn.execute("BEGIN")
            try:
                self._seen_data_version = data_version(self._conn)
                certfps: dict[str, list[str]] = {}
                for key, fingerprint in conn.execute(
                    "SELECT account_key, fingerprint FROM account_certfps"
                    " ORDER BY account_key, position"
                ):
                    certfps.setdefault(key, []).append(fingerprint)
                accounts = {
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
                        " FROM accounts"
                    )
                }
                bans = [
                    ServerBan(
                        id=row[0],
                        kind=_ban_kind(row[1]),
                        mask=row[2],
                        reason=row[3],
                        set_by=row[4],
                        set_at=row[5],
                        expires_at=row[6],
                    )
                    for row in conn.execute(
                        "SELECT id, kind, mask, reason, set_by, set_at, expires_at"
                        " FROM server_bans ORDER BY id"
                    )
                ]
                version = int(
                    conn.execute("SELECT generation FROM store_meta WHERE id = 1").fetchone()[0]
                )
                mutes = {
                    row[0]: AccountMute(*row)
                    for row in conn.execute(
                        "SELECT account_key, account_name, reason, set_by, set_at, expires_at"
                        " FROM account_mutes"
                    )
                }
                channels = _load_channels(conn)
                metadata: dict[str, dict[str, str]] = nested(
                    conn.execute("SELECT account_key, key, value FROM account_metadata")
                )
                options: dict[str, dict[str, str]] = nested(
                    conn.execute("SELECT account_key, name, value FROM account_options")
                )
                markers: dict[str, dict[str, float]] = nested(
                    conn.execute("SELECT account_key, target, at FROM read_markers")
                )
                presence = presences(
                    conn.execute(
                        "SELECT account_key, nick, away, last_seen, modes FROM account_presence"
                    ),
                    conn.execute(
                        "SELECT account_key, channel FROM presence_channels"
                        " ORDER BY account_key, position"
                    ),
                )
            finally:
                conn.execute("COMMIT")
        return Snapshot(
            accounts=accounts,
            bans=bans,
            version=version,
            mutes=mutes,
            channels=channels,
            metadata=metadata,
            options=options,
            read_markers=markers,
            presence=presence,
        )

    def apply(self, changes: Sequence[Change]) -> list[int]:
        with self._lock, self._transaction() as conn:
            ban_ids = [
                ban_id for change in changes if (ban_id := _apply_one(conn, change)) is not None
            ]
            conn.execute("UPDATE store_meta SET generation = generation + 1 WHERE id = 1")
            return ban_ids

    def changed_since_load(self) -> bool:
        with self._lock:
            return data_version(self._conn) != self._seen_data_version

    async def watch(self) -> AsyncIterator[Touched | None]:
        """SQLite cannot say what changed, only that something did: yield None then."""
        while True:
            await asyncio.sleep(WATCH_SECONDS)
            if await asyncio.to_thread(self.changed_since_load):
                yield None

    def read_touched(self, touched: Touched) -> StoreDelta:
        # The server never asks SQLite for keys (``watch`` names none); this serves the
        # contract, and ``chatroom admin migrate``, by filtering a whole load.
        snapshot = self.load()
        bans = {ban_key(b.kind, b.mask): b for b in snapshot.bans}
        return StoreDelta(
            accounts={key: snapshot.accounts.get(key) for key in touched.accounts},
            metadata={key: snapshot.metadata.get(key, {}) for key in touched.accounts},
            options={key: snapshot.options.get(key, {}) for key in touched.accounts},
            bans={key: bans.get(key) for key in touched.bans},
            mutes={key: snapshot.mutes.get(key) for key in touched.mutes},
            channels={key: snapshot.channels.get(key) for key in touched.channels},
        )

    def audit(self, since: float | None = None) -> list[AuditEntry]:
        query = "SELECT id, at, actor, action, target, reason FROM audit_log"
        params: tuple[float, ...] = ()
        if since is not None:
            query += " WHERE at >= ?"
            params = (since,)
        with self._lock:
            rows = self._conn.execute(query + " ORDER BY id", params).fetchall()
        return [AuditEntry(*row) for row in rows]

    def counts(self) -> dict[str, int]:
        """Rows per table, for ``chatroom admin migrate`` to verify a copy."""
        with self._lock:
            return {
                table: int(self._conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
                for table in COUNTED_TABLES
            }

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        conn = self._conn
        # IMMEDIATE takes the write lock up front, so a concurrent admin command makes
        # us wait (busy_timeout) instead of failing half way through.
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except sqlite3.IntegrityError as exc:
            conn.execute("ROLLBACK")
            raise ConflictError(str(exc)) from exc
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")


def _apply_one(conn: sqlite3.Connection, change: Change) -> int | None:
    """Apply one change inside the open transaction; returns the id for a ``PutBan``."""
    match change:
        case PutAccount(a):
            conn.execute(
                "INSERT INTO accounts"
                " (key, name, password_hash, scram, email, created_at, oper_role)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (key) DO UPDATE SET name = excluded.name,"
                " password_hash = excluded.password_hash, scram = excluded.scram,"
                " email = excluded.email, created_at = excluded.created_at,"
                " oper_role = excluded.oper_role",
                (a.key, a.name, a.password_hash, a.scram, a.email, a.created_at, a.oper_role),
            )
            _put_certfps(conn, a.key, a.certfps)
        case CreateAccount(a):
            try:
                conn.execute(
                    "INSERT INTO accounts"
                    " (key, name, password_hash, scram, email, created_at, oper_role)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (a.key, a.name, a.password_hash, a.scram, a.email, a.created_at, a.oper_role),
                )
            except sqlite3.IntegrityError as exc:
                if "UNIQUE" not in str(exc):
                    raise  # a CHECK: a malformed record, not a taken name
                raise AlreadyExistsError(f"account {a.key!r} already exists") from exc
            _put_certfps(conn, a.key, a.certfps)
        case SetAccountOperRole(key, oper_role):
            conn.execute("UPDATE accounts SET oper_role = ? WHERE key = ?", (oper_role, key))
        case SetAccountPassword(key, password_hash, scram):
            conn.execute(
                "UPDATE accounts SET password_hash = ?, scram = ? WHERE key = ?",
                (password_hash, scram, key),
            )
        case SetAccountCertfps(key, certfps):
            if conn.execute("SELECT 1 FROM accounts WHERE key = ?", (key,)).fetchone():
                _put_certfps(conn, key, certfps)
        case DeleteAccount(key):
            conn.execute("DELETE FROM accounts WHERE key = ?", (key,))
        case PutBan(b):
            values = (b.kind, b.mask, b.reason, b.set_by, b.set_at, b.expires_at)
            if b.id is None:
                row = conn.execute(
                    "INSERT INTO server_bans (kind, mask, reason, set_by, set_at, expires_at)"
                    " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (kind, mask) DO UPDATE SET"
                    " reason = excluded.reason, set_by = excluded.set_by,"
                    " set_at = excluded.set_at, expires_at = excluded.expires_at"
                    " RETURNING id",
                    values,
                ).fetchone()
            else:
                row = conn.execute(
                    "INSERT INTO server_bans"
                    " (id, kind, mask, reason, set_by, set_at, expires_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET"
                    " kind = excluded.kind, mask = excluded.mask, reason = excluded.reason,"
                    " set_by = excluded.set_by, set_at = excluded.set_at,"
                    " expires_at = excluded.expires_at RETURNING id",
                    (b.id, *values),
                ).fetchone()
            return int(row[0])
        case DeleteBan(ban_id):
            conn.execute("DELETE FROM server_bans WHERE id = ?", (ban_id,))
        case DeleteBanTarget(kind, mask):
            conn.execute("DELETE FROM server_bans WHERE kind = ? AND mask = ?", (kind, mask))
        case AppendAudit(e):
            conn.execute(
                "INSERT INTO audit_log (at, actor, action, target, reason) VALUES (?, ?, ?, ?, ?)",
                (e.at, e.actor, e.action, e.target, e.reason),
            )
        case PutMute(m):
            conn.execute(
                "INSERT OR REPLACE INTO account_mutes"
                " (account_key, account_name, reason, set_by, set_at, expires_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (m.account_key, m.account_name, m.reason, m.set_by, m.set_at, m.expires_at),
            )
        case DeleteMute(key):
            conn.execute("DELETE FROM account_mutes WHERE account_key = ?", (key,))
        case PutChannel(c):
            _put_channel(conn, c)
        case RegisterChannel(c):
            if conn.execute("SELECT 1 FROM channels WHERE key = ?", (c.key,)).fetchone():
                raise AlreadyExistsError(f"room {c.key!r} is already registered")
            _put_channel(conn, c)
        case UpdateChannel(c):
            _update_channel(conn, c)
        case SetChannelFounder(key, founder):
            conn.execute("UPDATE channels SET founder = ? WHERE key = ?", (founder, key))
        case DeleteChannel(key):
            conn.execute("DELETE FROM channels WHERE key = ?", (key,))
        case RenameChannel(key, new_key, new_name):
            _rename_channel(conn, key, new_key, new_name)
        case PutMetadata(account_key, key, value):
            conn.execute(
                "INSERT INTO account_metadata (account_key, key, value) VALUES (?, ?, ?)"
                " ON CONFLICT (account_key, key) DO UPDATE SET value = excluded.value",
                (account_key, key, value),
            )
        case DeleteMetadata(account_key, None):
            conn.execute("DELETE FROM account_metadata WHERE account_key = ?", (account_key,))
        case DeleteMetadata(account_key, key):
            conn.execute(
                "DELETE FROM account_metadata WHERE account_key = ? AND key = ?",
                (account_key, key),
            )
        case PutAccountOption(account_key, name, None):
            if not conn.execute("SELECT 1 FROM accounts WHERE key = ?", (account_key,)).fetchone():
                raise ConflictError(f"no account {account_key!r} for its option")
            conn.execute(
                "DELETE FROM account_options WHERE account_key = ? AND name = ?",
                (account_key, name),
            )
        case PutAccountOption(account_key, name, value):
            # A missing account: the foreign key refuses it (ConflictError), as below.
            conn.execute(
                "INSERT INTO account_options (account_key, name, value) VALUES (?, ?, ?)"
                " ON CONFLICT (account_key, name) DO UPDATE SET value = excluded.value",
                (account_key, name, value),
            )
        case PutReadMarker(account_key, target, at):
            conn.execute(
                "INSERT INTO read_markers (account_key, target, at) VALUES (?, ?, ?)"
                " ON CONFLICT (account_key, target) DO UPDATE SET at = excluded.at",
                (account_key, target, at),
            )
        case PutPresence(p):
            conn.execute(
                "INSERT INTO account_presence (account_key, nick, away, last_seen, modes)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (account_key) DO UPDATE SET"
                " nick = excluded.nick, away = excluded.away, last_seen = excluded.last_seen,"
                " modes = excluded.modes",
                (p.account_key, p.nick, p.away, p.last_seen, p.modes),
            )
            conn.execute("DELETE FROM presence_channels WHERE account_key = ?", (p.account_key,))
            conn.executemany(
                "INSERT INTO presence_channels (account_key, position, channel) VALUES (?, ?, ?)",
                [(p.account_key, i, name) for i, name in enumerate(p.channels)],
            )
        case DeletePresence(account_key):
            conn.execute("DELETE FROM account_presence WHERE account_key = ?", (account_key,))
        case _:
            assert_never(change)
    return None


def nested(rows: Iterable[Sequence[Any]]) -> dict[str, dict[str, Any]]:
    """``(account key, name, value)`` rows as {account key: {name: value}}; both stores
    read metadata, options and read markers this way."""
    grouped: dict[str, dict[str, Any]] = {}
    for account_key, name, value in rows:
        grouped.setdefault(account_key, {})[name] = value
    return grouped


def presences(
    rows: Iterable[Sequence[Any]], channel_rows: Iterable[Sequence[Any]]
) -> dict[str, Presence]:
    """Kept presences from ``(account key, nick, away, last seen, modes)`` rows and their
    rooms, ``(account key, channel)`` rows in position order; shared by both stores."""
    channels: dict[str, list[str]] = {}
    for account_key, channel in channel_rows:
        channels.setdefault(account_key, []).append(channel)
    return {
        key: Presence(key, nick, tuple(channels.get(key, ())), away, last_seen, modes)
        for key, nick, away, last_seen, modes in rows
    }


def _put_certfps(conn: sqlite3.Connection, key: str, certfps: tuple[str, ...]) -> None:
    conn.execute("DELETE FROM account_certfps WHERE account_key = ?", (key,))
    conn.executemany(
        "INSERT INTO account_certfps (fingerprint, account_key, position) VALUES (?, ?, ?)",
        [(fp, key, i) for i, fp in enumerate(certfps)],
    )


def _rename_channel(conn: sqlite3.Connection, key: str, new_key: str, new_name: str) -> None:
    """Move a room row and its ops and list entries to the new key, in this transaction.

    The child tables reference the key without ON UPDATE CASCADE, so the foreign-key
    check waits for the commit, by which time parent and children agree again.
    """
    conn.execute("PRAGMA defer_foreign_keys = ON")
    moved = conn.execute(
        "UPDATE channels SET key = ?, name = ? WHERE key = ?", (new_key, new_name, key)
    )
    if moved.rowcount and new_key != key:
        for table in ("channel_ops", "channel_list_entries"):
            conn.execute(
                f"UPDATE {table} SET channel_key = ? WHERE channel_key = ?", (new_key, key)
            )


def _put_channel(conn: sqlite3.Connection, c: RegisteredChannel) -> None:
    """Rewrite one room whole: its row, then its ops and list entries in order."""
    conn.execute(
        "INSERT INTO channels (key, name, founder, registered_at, topic, topic_set_by,"
        " topic_set_at, modes, channel_key, user_limit) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (key) DO UPDATE SET name = excluded.name, founder = excluded.founder,"
        " registered_at = excluded.registered_at, topic = excluded.topic,"
        " topic_set_by = excluded.topic_set_by, topic_set_at = excluded.topic_set_at,"
        " modes = excluded.modes, channel_key = excluded.channel_key,"
        " user_limit = excluded.user_limit",
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
    )
    _put_channel_lists(conn, c)


def _update_channel(conn: sqlite3.Connection, c: RegisteredChannel) -> None:
    """Rewrite a room's state but not its founder; a room no longer registered stays so."""
    updated = conn.execute(
        "UPDATE channels SET name = ?, topic = ?, topic_set_by = ?, topic_set_at = ?,"
        " modes = ?, channel_key = ?, user_limit = ? WHERE key = ?",
        (c.name, c.topic, c.topic_set_by, c.topic_set_at, c.modes, c.channel_key, c.limit, c.key),
    )
    if updated.rowcount:
        _put_channel_lists(conn, c)


def _put_channel_lists(conn: sqlite3.Connection, c: RegisteredChannel) -> None:
    """A room's ops and list entries, replaced whole and kept in order."""
    conn.execute("DELETE FROM channel_ops WHERE channel_key = ?", (c.key,))
    conn.executemany(
        "INSERT INTO channel_ops (channel_key, position, account) VALUES (?, ?, ?)",
        [(c.key, i, name) for i, name in enumerate(c.ops)],
    )
    conn.execute("DELETE FROM channel_list_entries WHERE channel_key = ?", (c.key,))
    conn.executemany(
        "INSERT INTO channel_list_entries"
        " (channel_key, position, letter, mask, set_by, set_at, expires_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            (c.key, i, e.letter, e.mask, e.set_by, e.set_at, e.expires_at)
            for i, e in enumerate(c.lists)
        ],
    )


def _load_channels(conn: sqlite3.Connection) -> dict[str, RegisteredChannel]:
    ops: dict[str, list[str]] = {}
    for key, name in conn.execute(
        "SELECT channel_key, account FROM channel_ops ORDER BY channel_key, position"
    ):
        ops.setdefault(key, []).append(name)
    lists: dict[str, list[ChannelListEntry]] = {}
    for row in conn.execute(
        "SELECT channel_key, letter, mask, set_by, set_at, expires_at"
        " FROM channel_list_entries ORDER BY channel_key, position"
    ):
        lists.setdefault(row[0], []).append(ChannelListEntry(*row[1:]))
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
            " modes, channel_key, user_limit FROM channels"
        )
    }


def _ban_kind(value: str) -> BanKind:
    if value not in BAN_KINDS:
        raise ValueError(f"unknown ban kind in database: {value!r}")
    return cast(BanKind, value)
