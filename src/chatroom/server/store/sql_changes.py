"""Every ``Change`` as SQL, written once for the SQLite and the PostgreSQL store.

A backend opens the transaction, calls ``apply_changes`` with its connection as a
``SqlSession`` (``sql_tables.py``) and its ``Dialect``, and maps its driver's errors:
a broken constraint becomes ``ConflictError`` there, so the whole batch rolls back.
What the backends do alike is here: a key taken on create (``AlreadyExistsError``)
is found by ``INSERT … ON CONFLICT DO NOTHING`` returning no row, so a name is never
overwritten, and rows with ordered children (fingerprints, a room's ops and lists, a
kept presence's rooms) are rewritten whole.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple, assert_never

from chatroom.server.store import base
from chatroom.server.store.base import (
    Account,
    AlreadyExistsError,
    AppendAudit,
    Change,
    ConflictError,
    CreateAccount,
    DeleteAccount,
    DeleteBan,
    DeleteBanTarget,
    DeleteChannel,
    DeleteMetadata,
    DeleteMute,
    DeletePresence,
    DeleteReadMarkers,
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
    UpdateChannel,
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
)

__all__ = ["Applied", "Dialect", "apply_changes"]


@dataclass(frozen=True, slots=True)
class Dialect:
    """The two statements the backends cannot share; each store defines its own.

    ``lock_row`` ends a ``SELECT`` that checks a row before rewriting what hangs off it
    (PostgreSQL: `` FOR UPDATE``). ``sync_ban_ids`` runs after a ban is written with an
    id its caller chose (a migration), so the database never hands that id out again
    (PostgreSQL moves its identity sequence; empty: nothing to run).
    """

    lock_row: str
    sync_ban_ids: str


class Applied(NamedTuple):
    """What ``apply_changes`` learnt: the id of each ``PutBan``, in order, and the keys of
    bans it found only by id (``DeleteBan``, a ``PutBan`` moving an id), which
    ``touched_by`` cannot know from the changes alone."""

    ban_ids: list[int]
    bans_found_by_id: frozenset[str]


def apply_changes(db: SqlSession, changes: Iterable[Change], dialect: Dialect) -> Applied:
    """Apply ``changes`` in order inside the transaction ``db`` has open."""
    found: set[str] = set()
    ban_ids = [i for change in changes if (i := _apply_one(db, change, dialect, found)) is not None]
    return Applied(ban_ids, frozenset(found))


_PUT_ACCOUNT = ACCOUNTS.upsert("key")
_CREATE_ACCOUNT = ACCOUNTS.insert_new("key")
_NEW_BAN = BANS.without("id").upsert("kind", "mask") + " RETURNING id"
_BAN_WITH_ID = BANS.upsert("id") + " RETURNING id"
_PUT_CHANNEL = CHANNELS.upsert("key")
_REGISTER_CHANNEL = CHANNELS.insert_new("key")
_UPDATE_CHANNEL = (
    "UPDATE channels SET name = ?, topic = ?, topic_set_by = ?, topic_set_at = ?,"
    " modes = ?, channel_key = ?, user_limit = ? WHERE key = ?"
)
_ACCOUNT_EXISTS = "SELECT 1 FROM accounts WHERE key = ?"
_APPEND_AUDIT = AUDIT.without("id").insert()
# Entries any user makes that are no longer among the newest N of the log (ids only grow),
# looked for only among the last ``USER_AUDIT_STEP`` ids to leave the newest N.
_DROP_OLD_USER_AUDIT = (
    "DELETE FROM audit_log WHERE id <= (SELECT max(id) FROM audit_log) - ?"
    " AND id > (SELECT max(id) FROM audit_log) - ?"
    f" AND {base.USER_AUDIT_SQL}"
)
_PUT_MUTE = MUTES.upsert("account_key")
_PUT_METADATA = METADATA.upsert("account_key", "key")
_PUT_OPTION = OPTIONS.upsert("account_key", "name")
_PUT_READ_MARKER = READ_MARKERS.upsert("account_key", "target")
_PUT_PRESENCE = PRESENCE.upsert("account_key")


def _apply_one(db: SqlSession, change: Change, dialect: Dialect, found: set[str]) -> int | None:
    """Apply one change; the id for a ``PutBan``, None for every other change."""
    match change:
        case PutAccount(a):
            db.execute(_PUT_ACCOUNT, _account_row(a))
            _replace_children(db, CERTFPS, a.key, [(fp,) for fp in a.certfps])
        case CreateAccount(a):
            if db.execute(_CREATE_ACCOUNT, _account_row(a)).fetchone() is None:
                raise AlreadyExistsError(f"account {a.key!r} already exists")
            _replace_children(db, CERTFPS, a.key, [(fp,) for fp in a.certfps])
        case SetAccountOperRole(key, oper_role):
            db.execute("UPDATE accounts SET oper_role = ? WHERE key = ?", (oper_role, key))
        case SetAccountPassword(key, password_hash, scram):
            db.execute(
                "UPDATE accounts SET password_hash = ?, scram = ? WHERE key = ?",
                (password_hash, scram, key),
            )
        case SetAccountCertfps(key, certfps):
            if db.execute(_ACCOUNT_EXISTS + dialect.lock_row, (key,)).fetchone():
                _replace_children(db, CERTFPS, key, [(fp,) for fp in certfps])
        case DeleteAccount(key):
            db.execute("DELETE FROM accounts WHERE key = ?", (key,))
        case PutBan(b):
            return _put_ban(db, b, dialect, found)
        case DeleteBan(ban_id):
            gone = db.execute(
                "DELETE FROM server_bans WHERE id = ? RETURNING kind, mask", (ban_id,)
            ).fetchone()
            if gone is not None:
                found.add(ban_key(gone[0], gone[1]))
        case DeleteBanTarget(kind, mask):
            db.execute("DELETE FROM server_bans WHERE kind = ? AND mask = ?", (kind, mask))
        case AppendAudit(e):
            db.execute(_APPEND_AUDIT, (e.at, e.actor, e.action, e.target, e.reason))
            if base.made_by_any_user(e):
                keep = base.USER_AUDIT_ENTRIES
                db.execute(_DROP_OLD_USER_AUDIT, (keep, keep + base.USER_AUDIT_STEP))
        case PutMute(m):
            db.execute(
                _PUT_MUTE,
                (m.account_key, m.account_name, m.reason, m.set_by, m.set_at, m.expires_at),
            )
        case DeleteMute(key):
            db.execute("DELETE FROM account_mutes WHERE account_key = ?", (key,))
        case PutChannel(c):
            db.execute(_PUT_CHANNEL, _channel_row(c))
            _put_channel_lists(db, c)
        case RegisterChannel(c):
            if db.execute(_REGISTER_CHANNEL, _channel_row(c)).fetchone() is None:
                raise AlreadyExistsError(f"room {c.key!r} is already registered")
            _put_channel_lists(db, c)
        case UpdateChannel(c):
            # Not the founder; a room no longer registered stays so.
            state = (c.name, c.topic, c.topic_set_by, c.topic_set_at, c.modes, c.channel_key)
            if db.execute(_UPDATE_CHANNEL, (*state, c.limit, c.key)).rowcount:
                _put_channel_lists(db, c)
        case SetChannelFounder(key, founder):
            db.execute("UPDATE channels SET founder = ? WHERE key = ?", (founder, key))
        case DeleteChannel(key):
            db.execute("DELETE FROM channels WHERE key = ?", (key,))
        case RenameChannel(key, new_key, new_name):
            _rename_channel(db, key, new_key, new_name)
        case PutMetadata(account_key, key, value):
            # A missing account: the foreign key refuses it (ConflictError).
            db.execute(_PUT_METADATA, (account_key, key, value))
        case DeleteMetadata(account_key, None):
            db.execute("DELETE FROM account_metadata WHERE account_key = ?", (account_key,))
        case DeleteMetadata(account_key, key):
            db.execute(
                "DELETE FROM account_metadata WHERE account_key = ? AND key = ?",
                (account_key, key),
            )
        case PutAccountOption(account_key, name, None):
            # A delete finds no foreign key to refuse it; a missing account is refused
            # all the same, as a set would be.
            if not db.execute(_ACCOUNT_EXISTS, (account_key,)).fetchone():
                raise ConflictError(f"no account {account_key!r} for its option")
            db.execute(
                "DELETE FROM account_options WHERE account_key = ? AND name = ?",
                (account_key, name),
            )
        case PutAccountOption(account_key, name, value):
            db.execute(_PUT_OPTION, (account_key, name, value))
        case PutReadMarker(account_key, target, at):
            db.execute(_PUT_READ_MARKER, (account_key, target, at))
        case DeleteReadMarkers(target):
            db.execute("DELETE FROM read_markers WHERE target = ?", (target,))
        case PutPresence(p):
            db.execute(_PUT_PRESENCE, (p.account_key, p.nick, p.away, p.last_seen, p.modes))
            _replace_children(db, PRESENCE_CHANNELS, p.account_key, [(c,) for c in p.channels])
        case DeletePresence(account_key):
            db.execute("DELETE FROM account_presence WHERE account_key = ?", (account_key,))
        case _:
            assert_never(change)
    return None


def _account_row(a: Account) -> tuple[object, ...]:
    return (a.name, a.key, a.password_hash, a.scram, a.email, a.created_at, a.oper_role)


def _channel_row(c: RegisteredChannel) -> tuple[object, ...]:
    return (
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
    )


def _put_ban(db: SqlSession, b: ServerBan, dialect: Dialect, found: set[str]) -> int:
    """Write a ban; a new one is found by its (kind, mask), a given id replaces that row."""
    values = (b.kind, b.mask, b.reason, b.set_by, b.set_at, b.expires_at)
    if b.id is None:
        row = db.execute(_NEW_BAN, values).fetchone()
    else:
        before = db.execute("SELECT kind, mask FROM server_bans WHERE id = ?", (b.id,)).fetchone()
        if before is not None:
            found.add(ban_key(before[0], before[1]))
        row = db.execute(_BAN_WITH_ID, (b.id, *values)).fetchone()
        if dialect.sync_ban_ids:
            db.execute(dialect.sync_ban_ids)
    assert row is not None  # DO UPDATE always returns the row
    return int(row[0])


def _put_channel_lists(db: SqlSession, c: RegisteredChannel) -> None:
    """A room's ops and list entries, replaced whole and kept in order."""
    _replace_children(db, CHANNEL_OPS, c.key, [(name,) for name in c.ops])
    entries = [(e.letter, e.mask, e.set_by, e.set_at, e.expires_at) for e in c.lists]
    _replace_children(db, CHANNEL_LISTS, c.key, entries)


def _replace_children(
    db: SqlSession, table: Table, key: str, rows: Sequence[tuple[object, ...]]
) -> None:
    """Replace the rows of ``table`` under one parent by ``rows``, numbered in order: the
    table's columns are (the parent's key, position, the row's own values)."""
    db.execute(f"DELETE FROM {table.name} WHERE {table.columns[0]} = ?", (key,))
    if rows:
        db.executemany(table.insert(), [(key, i, *row) for i, row in enumerate(rows)])


def _rename_channel(db: SqlSession, key: str, new_key: str, new_name: str) -> None:
    """Move a room row and its ops and list entries to the new key.

    The child tables reference the key without ON UPDATE CASCADE, so the row is copied
    under its new key first, the children follow, and the old row goes last: every
    statement leaves the foreign keys whole, on both backends. A new key already
    registered is refused by the primary key (ConflictError), the whole batch rolled back.
    """
    if new_key == key:
        db.execute("UPDATE channels SET name = ? WHERE key = ?", (new_name, key))
        return
    copied = db.execute(
        f"INSERT INTO channels ({', '.join(CHANNELS.columns)})"
        f" SELECT ?, ?, {', '.join(CHANNELS.columns[2:])} FROM channels WHERE key = ?",
        (new_key, new_name, key),
    )
    if not copied.rowcount:
        return  # not registered: nothing to move
    for table in (CHANNEL_OPS, CHANNEL_LISTS):
        db.execute(f"UPDATE {table.name} SET channel_key = ? WHERE channel_key = ?", (new_key, key))
    db.execute("DELETE FROM channels WHERE key = ?", (key,))
