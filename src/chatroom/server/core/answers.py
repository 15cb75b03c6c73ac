"""Answers the core waits for, and the hold they put on the connection that asked.

Rules (docs/architecture.md, "Replies in order"):
- every request that needs an answer (a password check or hash, a commit, a history
  query, a login the throttle holds) gets a token here, tied to the connection whose
  command (or continuation) is running when it is made;
- while a connection waits for any answer, its later lines are held (bounded by the
  flood backlog) and run, in order, once the last answer's continuation ran;
- a labeled command that waits keeps its label and what it replied so far, and the
  continuation's replies join them, so the whole answer is labeled as one;
- every request has a deadline: ``expire`` answers a late one with its failure value.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from chatroom.server.core import labels
from chatroom.server.core.counter import Counter

if TYPE_CHECKING:
    from chatroom.server.core.session import Session
    from chatroom.server.core.world import World

log = logging.getLogger("chatroom.core")

# What ``dispatch`` runs: a parsed Message, or what a shortcut read (dispatch.Shortcut).
_Command = TypeVar("_Command")


@dataclass(frozen=True, slots=True)
class _Waiting:
    """A request that has not been answered yet."""

    then: Callable[..., None]
    session: Session | None  # whose command asked: its later lines wait for the answer
    deadline: float
    on_timeout: tuple[object, ...]  # what ``then`` gets if no answer comes in time


class Answers:
    def __init__(self, world: World) -> None:
        self.world = world
        self._tokens = Counter()
        self._pending: dict[int, _Waiting] = {}
        # The connection whose command (or continuation) is running.
        self._acting: Session | None = None
        self._unheld: list[Session] = []  # freed while another command ran; see resume

    def __len__(self) -> int:
        return len(self._pending)

    # ------------------------------------------------------------------ asking

    def expect(
        self,
        then: Callable[..., None],
        on_timeout: tuple[object, ...],
        session: Session | None = None,
    ) -> int:
        """A token for an answer; ``session`` (default: the one acting) waits for it."""
        token = next(self._tokens)
        session = session or self._acting
        if session is not None:
            session.waiting += 1
        deadline = self.world.clock() + self.world.settings.timeouts.answer
        self._pending[token] = _Waiting(then, session, deadline, on_timeout)
        return token

    def callback(
        self, session: Session, then: Callable[..., None], on_timeout: tuple[object, ...]
    ) -> Callable[..., None]:
        """``expect``, answered by calling the returned function (from inside the core)."""
        token = self.expect(then, on_timeout, session)
        return lambda *result: self.resume(token, *result)

    # ------------------------------------------------------------------ running commands

    def run_command(
        self,
        session: Session,
        dispatch: Callable[[Session, _Command], None],
        msg: _Command,
        label: str | None,
    ) -> None:
        """Run one of ``session``'s commands as the acting connection, labeled if asked."""
        running = self._acting
        self._acting = session
        try:
            if label is None:
                dispatch(session, msg)
            else:
                session.capture = []
                session.label = label
                try:
                    dispatch(session, msg)
                finally:
                    self._end_labeled(session, label)
        finally:
            self._acting = running
        if running is None and self._unheld:
            self._release_later_ones()

    def hold(self, session: Session, line: bytes | None) -> None:
        """Keep a line of a waiting connection (None: one that was too long)."""
        world = self.world
        held = session.held
        if held is None:
            held = session.held = deque()
        if len(held) >= world.settings.limits.flood_backlog:
            held.clear()
            world.stats.flood_drops += 1
            world.close(session, "Excess Flood")
            return
        session.last_active = world.clock()
        held.append(line)

    # ------------------------------------------------------------------ answering

    def resume(self, token: int, *result: object) -> None:
        waiting = self._pending.pop(token, None)
        if waiting is None:
            return  # answered after its timeout, or for a connection that is gone
        session = waiting.session
        if session is None:
            self._run(waiting.then, token, result)
            return
        session.waiting -= 1
        held_label = session.held_label
        session.held_label = None
        if held_label is not None and not session.closed:
            session.capture = held_label[1]
            session.label = held_label[0]
        # Answered at once from inside the session's own command (the throttle decided
        # without holding): that command is still running, and so are its held lines.
        running = self._acting
        self._acting = session
        try:
            self._run(waiting.then, token, result)
        finally:
            self._acting = running
            if held_label is not None and session.capture is not None:
                self._end_labeled(session, held_label[0])
        if session.waiting or running is session:
            return
        if running is None:
            self._release(session)
            self._release_later_ones()
        else:
            # Another connection's command is running (its answer freed this one's login
            # in the throttle): this connection's held lines run once that one is done.
            self._unheld.append(session)

    def expire(self, now: float) -> None:
        """Answer every request left unanswered too long with its failure value, so a
        stuck worker or store costs one command a clear error, not the connection."""
        if not self._pending:
            return
        late = [token for token, w in self._pending.items() if w.deadline <= now]
        for token in late:
            waiting = self._pending.get(token)
            if waiting is not None:
                log.warning("no answer in time", extra={"token": token})
                self.resume(token, *waiting.on_timeout)

    # ------------------------------------------------------------------ inside

    def _end_labeled(self, session: Session, label: str) -> None:
        """A labeled command ran: label its replies now, or keep them for its answer."""
        taken = session.label is None
        session.label = None
        if taken:  # it answers with a later line of its own (labels.take_label)
            labels.release_capture(session)
        elif session.waiting:
            session.held_label = (label, session.capture or [])
            session.capture = None
        else:
            labels.finish_labeled(self.world, session, label)

    def _release(self, session: Session) -> None:
        """The connection's command has its whole answer: run the lines held behind it."""
        world = self.world
        held = session.held
        while held and not session.waiting and not session.closed:
            line = held.popleft()
            if line is None:
                world.receive_too_long(session)
            else:
                world.receive(session, line)
        if not held:
            session.held = None
        hangup = session.hangup
        if hangup is not None and not session.waiting:
            session.hangup = None
            world.disconnect(session, hangup)

    def _release_later_ones(self) -> None:
        while self._unheld:
            self._release(self._unheld.pop(0))

    @staticmethod
    def _run(then: Callable[..., None], token: int, result: tuple[object, ...]) -> None:
        try:
            then(*result)
        except Exception:
            log.exception("continuation failed for token %d", token)
