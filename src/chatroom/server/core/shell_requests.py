"""What the core asks of the shell, and the inputs that bring the answers back.

The core does no I/O, so a password check, a hash, a store write, a history query or a
config reload leaves as an effect (core/effects.py) on ``World.effects``, which the shell
drains after every input. A request that needs an answer takes a token from
``World.answers`` (core/answers.py), which keeps the continuation and holds the asking
connection's later lines until it runs (docs/architecture.md, "Replies in order"); the
shell's answer comes back as an input here (``password_checked``, ``persisted``, ...).

These are ``World``'s methods (world.py binds them). ``record_message`` runs for every
stored PRIVMSG and NOTICE: it adds the line to the input's single ``StoreMessages`` batch
and does nothing else per message.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING

from chatroom.server.core import reconfigure
from chatroom.server.core.effects import (
    HashPassword,
    Persist,
    QueryHistory,
    RedactHistory,
    ReloadConfig,
    RenameHistory,
    StoreMessages,
    VerifyPassword,
)
from chatroom.server.core.history import number_record

if TYPE_CHECKING:
    from chatroom.server.core.context import Checked, Committed, Hashed, Loaded
    from chatroom.server.core.history import HistoryQuery, HistoryRecord
    from chatroom.server.core.redaction import Redaction
    from chatroom.server.core.session import Session
    from chatroom.server.core.world import World
    from chatroom.server.store.base import Change

# ----------------------------------------------------------------- requests


def busy_checking_passwords(world: World) -> bool:
    """Too many password checks queued: refuse new logins rather than queue without end."""
    return len(world.answers) >= world.settings.accounts.max_pending_checks


def expect_answer(
    world: World, session: Session, then: Callable[..., None], on_timeout: tuple[object, ...]
) -> Callable[..., None]:
    """A callback for an answer that comes from inside the core, later or at once (the
    login throttle holding a try): ``session`` waits for it like for the shell's."""
    return world.answers.callback(session, then, on_timeout)


def verify_password(world: World, password_hash: str, password: str, then: Checked) -> None:
    token = world.answers.expect(then, (False, None))
    world.effects.append(VerifyPassword(token, password_hash, password))


def hash_password(world: World, password: str, then: Hashed) -> None:
    """``then(hash, scram)``; both empty when no hash could be made."""
    token = world.answers.expect(then, ("", ""))
    world.effects.append(HashPassword(token, password))


def query_history(world: World, query: HistoryQuery, then: Loaded) -> None:
    """Ask the store, after every write queued so far; ``then(rows)`` gets the answer."""
    token = world.answers.expect(then, (None,))
    world.effects.append(QueryHistory(token, query))


def record_message(world: World, record: HistoryRecord) -> None:
    """Store one message: appended to this input's single ``StoreMessages`` batch."""
    _batch_record(world, record)
    world.history.remember(record)


def record_event(world: World, record: HistoryRecord) -> None:
    """Store one room event (draft/event-playback) in this input's batch, like a message."""
    _batch_record(world, record)
    world.history.remember_event(record)


def _batch_record(world: World, record: HistoryRecord) -> None:
    if world.ordered_history:
        # Every node computes the same key (replicated state), only the origin writes
        # it; keys grow with time, so they stay above the rows of earlier runs.
        order = max(record.at << 12, world._history_order + 1)
        world._history_order = order
        number_record(record, order)  # frozen, but not yet shared
    pending = world.history.pending
    if pending is None:
        pending = world.history.pending = []
        world.effects.append(StoreMessages(pending))
    pending.append(record)


def reload_config(world: World, then: Callable[[reconfigure.Reloaded], None]) -> None:
    """Ask the shell to read the config file again; ``then(reloaded)`` with the result."""
    token = world.answers.expect(then, (reconfigure.TIMED_OUT,))
    world.effects.append(ReloadConfig(token))


def redact_history(world: World, redaction: Redaction, then: Callable[[str | None], None]) -> None:
    """Ask the store to delete a message; ``then(outcome)`` after every earlier write."""
    token = world.answers.expect(then, (None,))
    world.effects.append(RedactHistory(token, redaction))


def rename_history(world: World, old_key: str, new_key: str, new_name: str) -> None:
    """A renamed room's stored lines follow it, after every line stored before."""
    world.effects.append(RenameHistory(old_key, new_key, new_name))


def persist(world: World, changes: Iterable[Change], then: Committed | None = None) -> None:
    """Write behind, in order; ``then`` runs after the commit for durable replies."""
    token = None
    if then is not None:
        token = world.answers.expect(then, ("no answer from the store in time",))
    world.effects.append(Persist(tuple(changes), token))


# ----------------------------------------------------------------- answers (inputs)


def password_checked(world: World, token: int, ok: bool, rehashed: tuple[str, str] | None) -> None:
    """Answer to ``VerifyPassword``."""
    world.answers.resume(token, ok, rehashed)


def password_hashed(world: World, token: int, password_hash: str, scram: str) -> None:
    """Answer to ``HashPassword``."""
    world.answers.resume(token, password_hash, scram)


def persisted(world: World, token: int, error: str | None) -> None:
    """Answer to a ``Persist`` with a token: the changes committed (or failed)."""
    world.answers.resume(token, error)


def history_loaded(world: World, token: int, rows: Sequence[object] | None) -> None:
    """Answer to ``QueryHistory``: the records (or target listings); None on failure."""
    world.answers.resume(token, rows)


def history_redacted(world: World, token: int, outcome: str | None) -> None:
    """Answer to ``RedactHistory``: what the store did (None if it failed)."""
    world.answers.resume(token, outcome)


def config_reloaded(world: World, token: int, reloaded: reconfigure.Reloaded) -> None:
    """Answer to ``ReloadConfig``: the settings read from the file, or its error."""
    world.answers.resume(token, reloaded)
