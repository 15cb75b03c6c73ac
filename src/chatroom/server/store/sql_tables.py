"""The store's tables as both SQL backends see them, and the connection they write through.

SQLite's ``migrations/`` and PostgreSQL's ``postgres/migrations/`` build the same tables
with the same columns (only the column types differ), so the statements that read and
write them can be written once (``sql_changes.py``, ``sql_records.py``). They use ``?``
placeholders and the SQL both backends understand: ``INSERT … ON CONFLICT … DO UPDATE`` /
``DO NOTHING``, ``RETURNING`` (SQLite >= 3.35), ``INSERT … SELECT``, row values.
A backend hands them a ``SqlSession``: a ``sqlite3.Connection`` is one as it is; the
PostgreSQL store wraps its psycopg connection to turn ``?`` into ``%s``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

__all__ = [
    "ACCOUNTS",
    "AUDIT",
    "BANS",
    "CERTFPS",
    "CHANNELS",
    "CHANNEL_LISTS",
    "CHANNEL_OPS",
    "METADATA",
    "MUTES",
    "OPTIONS",
    "PRESENCE",
    "PRESENCE_CHANNELS",
    "READ_MARKERS",
    "Rows",
    "SqlSession",
    "Table",
    "marks",
]


class Rows(Protocol):
    """What a statement gives back: its rows, and how many rows it changed."""

    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def __iter__(self) -> Iterator[Any]: ...


class SqlSession(Protocol):
    """A connection inside the transaction its backend opened; SQL uses ``?``."""

    def execute(self, sql: str, params: Sequence[Any] = ..., /) -> Rows: ...

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]], /) -> object: ...


def marks(count: int) -> str:
    """``?, ?, ?``: the placeholders of ``count`` values."""
    return ", ".join("?" * count)


@dataclass(frozen=True, slots=True)
class Table:
    """A table and the columns the shared SQL reads and writes: in the order of the
    record a row holds, and for a table of ordered children (a room's ops, an account's
    fingerprints) the parent's key and the position first."""

    name: str
    columns: tuple[str, ...]

    def without(self, column: str) -> Table:
        """The same table written without ``column`` (an id the database assigns)."""
        return Table(self.name, tuple(c for c in self.columns if c != column))

    def select(self) -> str:
        return f"SELECT {', '.join(self.columns)} FROM {self.name}"

    def insert(self) -> str:
        columns = ", ".join(self.columns)
        return f"INSERT INTO {self.name} ({columns}) VALUES ({marks(len(self.columns))})"

    def insert_new(self, *key: str) -> str:
        """Insert unless ``key`` is taken; ``RETURNING`` says which happened."""
        return f"{self.insert()} ON CONFLICT ({', '.join(key)}) DO NOTHING RETURNING {key[0]}"

    def upsert(self, *key: str) -> str:
        """Insert, or overwrite every other column of the row already holding ``key``."""
        updates = ", ".join(f"{c} = excluded.{c}" for c in self.columns if c not in key)
        return f"{self.insert()} ON CONFLICT ({', '.join(key)}) DO UPDATE SET {updates}"


ACCOUNTS = Table(
    "accounts", ("name", "key", "password_hash", "scram", "email", "created_at", "oper_role")
)
CERTFPS = Table("account_certfps", ("account_key", "position", "fingerprint"))
BANS = Table("server_bans", ("id", "kind", "mask", "reason", "set_by", "set_at", "expires_at"))
MUTES = Table(
    "account_mutes", ("account_key", "account_name", "reason", "set_by", "set_at", "expires_at")
)
CHANNELS = Table(
    "channels",
    (
        "key",
        "name",
        "founder",
        "registered_at",
        "topic",
        "topic_set_by",
        "topic_set_at",
        "modes",
        "channel_key",
        "user_limit",
    ),
)
CHANNEL_OPS = Table("channel_ops", ("channel_key", "position", "account"))
CHANNEL_LISTS = Table(
    "channel_list_entries",
    ("channel_key", "position", "letter", "mask", "set_by", "set_at", "expires_at"),
)
METADATA = Table("account_metadata", ("account_key", "key", "value"))
OPTIONS = Table("account_options", ("account_key", "name", "value"))
READ_MARKERS = Table("read_markers", ("account_key", "target", "at"))
PRESENCE = Table("account_presence", ("account_key", "nick", "away", "last_seen", "modes"))
PRESENCE_CHANNELS = Table("presence_channels", ("account_key", "position", "channel"))
AUDIT = Table("audit_log", ("id", "at", "actor", "action", "target", "reason"))
