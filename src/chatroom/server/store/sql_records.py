"""Rows back into records, written once for the SQLite and the PostgreSQL store.

Each reader takes ``keys``: None for every row (a whole ``load``), else only the rows of
those keys (``read_touched``: a change another process made, applied by key), so a load
and a keyed read share one translation. Keys are matched with ``IN (?, …)`` lists, which
both backends understand. The caller opens one read transaction around a whole
snapshot or delta so that the tables read agree with each other.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any, cast

from chatroom.server.store.base import (
    BAN_KINDS,
    Account,
    AccountMute,
    AuditEntry,
    BanKind,
    ChannelListEntry,
    Presence,
    RegisteredChannel,
    ServerBan,
    Snapshot,
    StoreDelta,
    Touched,
    ban_key,
)
from chatroom.server.store.sql_tables import (
    ACCOUNTS,
    AUDIT,
    BANS,
    CERTFPS,
    CHANNEL_LISTS,
    CHANNEL_OPS,
    CHANNELS,
    METADATA,
    MUTES,
    OPTIONS,
    PRESENCE,
    PRESENCE_CHANNELS,
    READ_MARKERS,
    SqlSession,
    Table,
    marks,
)

__all__ = ["COUNTED_TABLES", "count_rows", "read_audit", "read_delta", "read_snapshot"]

# What ``count_rows`` reports: every table that holds records (not the bookkeeping).
COUNTED_TABLES = tuple(
    table.name
    for table in (
        ACCOUNTS,
        CERTFPS,
        BANS,
        MUTES,
        CHANNELS,
        CHANNEL_OPS,
        CHANNEL_LISTS,
        METADATA,
        OPTIONS,
        READ_MARKERS,
        PRESENCE,
        PRESENCE_CHANNELS,
        AUDIT,
    )
)
Keys = Collection[str] | None


def read_snapshot(db: SqlSession) -> Snapshot:
    """Every record: what the server loads at start."""
    generation = db.execute("SELECT generation FROM store_meta WHERE id = 1").fetchone()
    return Snapshot(
        accounts=_accounts(db, None),
        bans=list(_bans(db, None).values()),  # in id order
        version=int(generation[0]) if generation else 0,
        mutes=_mutes(db, None),
        channels=_channels(db, None),
        metadata=_per_account(db, METADATA, None),
        options=_per_account(db, OPTIONS, None),
        read_markers=_per_account(db, READ_MARKERS, None),
        presence=_presence(db),
    )


def read_delta(db: SqlSession, touched: Touched) -> StoreDelta:
    """The rows ``touched`` names as stored now (None: gone)."""
    named = touched.accounts  # each read below is skipped when it names no key
    accounts = _accounts(db, named) if named else {}
    metadata = _per_account(db, METADATA, named) if named else {}
    options = _per_account(db, OPTIONS, named) if named else {}
    bans = _bans(db, touched.bans) if touched.bans else {}
    mutes = _mutes(db, touched.mutes) if touched.mutes else {}
    channels = _channels(db, touched.channels) if touched.channels else {}
    return StoreDelta(
        accounts={key: accounts.get(key) for key in touched.accounts},
        metadata={key: metadata.get(key, {}) for key in touched.accounts},
        options={key: options.get(key, {}) for key in touched.accounts},
        bans={key: bans.get(key) for key in touched.bans},
        mutes={key: mutes.get(key) for key in touched.mutes},
        channels={key: channels.get(key) for key in touched.channels},
    )


def read_audit(db: SqlSession, since: float | None) -> list[AuditEntry]:
    """The audit log in order, from ``since`` (unix time) on if given."""
    if since is None:
        rows = db.execute(AUDIT.select() + " ORDER BY id")
    else:
        rows = db.execute(AUDIT.select() + " WHERE at >= ? ORDER BY id", (since,))
    return [AuditEntry(*row) for row in rows]


def count_rows(db: SqlSession) -> dict[str, int]:
    """Rows per table, for ``chatroom admin migrate`` to verify a copy."""
    counts: dict[str, int] = {}
    for table in COUNTED_TABLES:
        row = db.execute(f"SELECT count(*) FROM {table}").fetchone()
        counts[table] = int(row[0]) if row else 0
    return counts


def _where(column: str, keys: Keys) -> tuple[str, tuple[str, ...]]:
    if keys is None:
        return "", ()
    return f" WHERE {column} IN ({marks(len(keys))})", tuple(keys)


def _children(db: SqlSession, table: Table, keys: Keys) -> dict[str, list[tuple[Any, ...]]]:
    """The rows of a child table (parent key, position, values…) per parent key, in
    position order, without the key and position."""
    where, params = _where(table.columns[0], keys)
    grouped: dict[str, list[tuple[Any, ...]]] = {}
    for key, *values in db.execute(
        f"{table.select()}{where} ORDER BY {table.columns[0]}, position", params
    ):
        grouped.setdefault(key, []).append(tuple(values[1:]))
    return grouped


def _accounts(db: SqlSession, keys: Keys) -> dict[str, Account]:
    certfps = _children(db, CERTFPS, keys)
    where, params = _where("key", keys)
    return {
        key: Account(
            name=name,
            key=key,
            password_hash=password_hash,
            scram=scram,
            email=email,
            created_at=created_at,
            oper_role=oper_role,
            certfps=tuple(fp for (fp,) in certfps.get(key, ())),
        )
        for name, key, password_hash, scram, email, created_at, oper_role in db.execute(
            ACCOUNTS.select() + where, params
        )
    }


def _bans(db: SqlSession, keys: Keys) -> dict[str, ServerBan]:
    """Bans by ``ban_key``, in id order; ``keys`` are ban keys ("kind:mask")."""
    query, params = BANS.select(), tuple[str, ...]()
    if keys is not None:
        pairs = [key.partition(":") for key in keys]
        rows = ", ".join("(?, ?)" for _ in pairs)
        query += f" WHERE (kind, mask) IN (VALUES {rows})"
        params = tuple(part for kind, _, mask in pairs for part in (kind, mask))
    return {
        ban_key(kind, mask): ServerBan(int(ban_id), _ban_kind(kind), mask, *rest)
        for ban_id, kind, mask, *rest in db.execute(query + " ORDER BY id", params)
    }


def _mutes(db: SqlSession, keys: Keys) -> dict[str, AccountMute]:
    where, params = _where("account_key", keys)
    return {row[0]: AccountMute(*row) for row in db.execute(MUTES.select() + where, params)}


def _channels(db: SqlSession, keys: Keys) -> dict[str, RegisteredChannel]:
    ops = _children(db, CHANNEL_OPS, keys)
    lists = _children(db, CHANNEL_LISTS, keys)
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
            ops=tuple(name for (name,) in ops.get(row[0], ())),
            lists=tuple(ChannelListEntry(*entry) for entry in lists.get(row[0], ())),
        )
        for row in db.execute(CHANNELS.select() + where, params)
    }


def _per_account(db: SqlSession, table: Table, keys: Keys) -> dict[str, dict[str, Any]]:
    """Metadata, options or read markers: (account key, name, value) rows as
    {account key: {name: value}}."""
    where, params = _where("account_key", keys)
    grouped: dict[str, dict[str, Any]] = {}
    for account_key, name, value in db.execute(table.select() + where, params):
        grouped.setdefault(account_key, {})[name] = value
    return grouped


def _presence(db: SqlSession) -> dict[str, Presence]:
    """Kept presences of always-on users with their rooms in order (only ever loaded
    whole: no other process changes them)."""
    channels = _children(db, PRESENCE_CHANNELS, None)
    return {
        key: Presence(key, nick, tuple(c for (c,) in channels.get(key, ())), away, seen, modes)
        for key, nick, away, seen, modes in db.execute(PRESENCE.select())
    }


def _ban_kind(value: str) -> BanKind:
    if value not in BAN_KINDS:
        raise ValueError(f"unknown ban kind in database: {value!r}")
    return cast(BanKind, value)
