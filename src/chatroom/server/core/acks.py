"""Acknowledged means saved: a reply that reports a durable change waits for its commit.

An operator who reads "Banned ..." must be able to rely on it: if the server is killed
the next instant, the ban is still there after the restart. So every command that makes
a durable change (server bans and mutes, timed room bans, ChanServ registrations and op
lists, and the account changes in ``accounts.py`` and NickServ) persists the change with
its audit entry and answers from the commit's callback (``World.persist(changes, then)``).

Rules:
- a change that restricts someone (a ban, a mute, a timed ban, a registration, an op
  list entry) takes effect at once, so enforcement never waits for the disk; if the store
  refuses it, the handler's ``failed`` takes it back and says so: memory never holds what
  a restart would forget, and nobody is told it holds;
- a change that lifts a restriction (UNBAN, UNMUTE, ChanServ DROP) takes effect in
  ``saved``, once it is on disk, so a refused write leaves nothing to take back;
- ``saved`` and ``failed`` check that the state they change is still the one the command
  left (another command may have changed it while the commit ran), so they never undo or
  lift someone else's newer change;
- the answer to a labeled command (IRCv3 labeled-response) carries its label, although it
  comes after the command returned.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from chatroom.server.core import sanctions
from chatroom.server.store.base import AlreadyExistsText

if TYPE_CHECKING:
    from chatroom.server.core.context import Context
    from chatroom.server.core.session import Session
    from chatroom.server.store.base import Change

log = logging.getLogger("chatroom.core")

NOT_SAVED = "the database refused the write"


def audit_then_answer(
    ctx: Context,
    session: Session,
    action: str,
    target: str,
    changes: Iterable[Change],
    *,
    reason: str = "",
    saved: Callable[[], None],
    failed: Callable[[], None],
    exists: Callable[[], None] | None = None,
) -> None:
    """Persist ``changes`` with their audit entry (actor: ``session``); after the commit
    run ``saved`` (apply what waits for the disk, confirm), or ``failed`` (take back what
    was applied early, say it was not saved), or ``exists`` if given and the store refused
    an insert because its key was taken meanwhile (``AlreadyExistsError``)."""

    def committed(error: str | None) -> None:
        # Run as a continuation of ``session``'s command: a labeled command gets this
        # answer in its labeled reply (World keeps the label while the commit is pending).
        if isinstance(error, AlreadyExistsText) and exists is not None:
            exists()
            return
        if error is not None:
            log.error("change not saved", extra={"action": action, "error": error})
        (saved if error is None else failed)()

    actor = sanctions.actor_name(session)
    sanctions.audit(ctx, actor, action, target, reason, changes, committed)
