"""Effects: what the core asks the outside world to do, besides sending lines.

Lines to send are not effect objects: they sit in each ``Session.out`` (see session.py), so
the hot fan-out path allocates nothing per recipient. Everything else the core wants done,
closing a connection, hashing a password, writing to the store, is an effect here, collected
in ``World.effects`` and carried out in order by the shell and the test harness, both
through ``effect_dispatch.dispatch_effect`` (a new type here needs a case there, and mypy
says so). Effects that need an answer carry a ``token``; the shell answers through the
matching ``World`` input (``password_checked``, ``password_hashed``, ``persisted``).
"""

from __future__ import annotations

from dataclasses import dataclass

from chatroom.server.core.history import HistoryQuery, HistoryRecord
from chatroom.server.core.redaction import Redaction
from chatroom.server.store.base import Change


@dataclass(frozen=True, slots=True)
class Close:
    """Flush what is queued for the connection, then close it."""

    session_id: int
    reason: str


@dataclass(frozen=True, slots=True)
class VerifyPassword:
    """Check ``password`` against an argon2id hash, off the event loop.

    The answer is ``World.password_checked(token, ok, rehashed)``; ``rehashed`` carries a
    new (hash, scram verifier) pair when the stored hash used outdated parameters.
    """

    token: int
    password_hash: str
    password: str


@dataclass(frozen=True, slots=True)
class HashPassword:
    """Make an argon2id hash and a SCRAM-SHA-256 verifier; answer ``password_hashed``."""

    token: int
    password: str


@dataclass(frozen=True, slots=True)
class Persist:
    """Apply ``changes`` in one transaction, in order with every earlier Persist.

    With a token, the shell answers ``World.persisted(token, error)`` after the commit, so
    replies that promise durability are sent only once the data is on disk.
    """

    changes: tuple[Change, ...]
    token: int | None = None


@dataclass(frozen=True, slots=True)
class StoreMessages:
    """Append these history records, behind, in order with every earlier effect.

    One per input at most, whatever the number of messages or recipients: the core fills
    ``records`` (the same list object) until the shell takes the effects.
    """

    records: list[HistoryRecord]


@dataclass(frozen=True, slots=True)
class QueryHistory:
    """Run a CHATHISTORY query after every write queued before it; answer
    ``World.history_loaded(token, rows)`` (``rows`` None if the store failed)."""

    token: int
    query: HistoryQuery


@dataclass(frozen=True, slots=True)
class RedactHistory:
    """Delete one stored message if ``redaction`` allows it, after every write queued
    before it; answer ``World.history_redacted(token, outcome)`` (None if the store
    failed), outcome being one of ``core.redaction``'s REDACTED, UNKNOWN, FORBIDDEN."""

    token: int
    redaction: Redaction


@dataclass(frozen=True, slots=True)
class RenameHistory:
    """A room was renamed: move its stored lines to the new key and name, after every
    line stored before (lines stored after already use the new key)."""

    target: str
    new_target: str
    new_name: str


@dataclass(frozen=True, slots=True)
class ReloadConfig:
    """Read the config file again (REHASH); answer ``World.config_reloaded(token, reloaded)``
    with a ``core.reconfigure.Reloaded``: the new settings, or why the file was refused."""

    token: int


Effect = (
    Close
    | VerifyPassword
    | HashPassword
    | Persist
    | StoreMessages
    | QueryHistory
    | RedactHistory
    | RenameHistory
    | ReloadConfig
)
