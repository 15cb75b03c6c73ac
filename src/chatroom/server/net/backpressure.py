"""Backpressure from the history writer: a flood slows its senders instead of filling memory.

Every line said in a room becomes a record the history writer thread commits. Without a
bound, a flood faster than the disk would let the queue (and the server's memory) grow
without end. So the queue has a bound, ``history.queue_limit`` records, and the shell
keeps to it without dropping a record or blocking the loop:

- after each input a connection hands to the core, ``Connection._drain`` asks ``full``
  whether the records waiting (the writer's ``backlog`` plus the batch the core is still
  filling) reached the limit; if that input added records, the connection is *held*: it
  stops reading (``pause_reading`` on TCP and TLS, no more frames on a WebSocket) and the
  lines it already read wait in its backlog. The kernel's buffers then push back on the
  client, as with flood control;
- connections that add no records (readers, PING, WHO...) are never held, so the server
  stays responsive to them;
- after each flush (when the core's batch has gone to the writer) the shell calls
  ``after_flush``: while connections are held, it asks the writer to call back on the loop
  once it is down to the low-water mark (half the limit); then every held connection
  reads again. The callback always comes as a callback of its own, never from inside a
  drain, so a release cannot recurse into a hold.

The core is not involved: it stays sans-I/O and keeps producing one ``StoreMessages`` per
flush; only the shell decides whose socket to read. The bound is soft by at most one
input's records per connection that was reading when the limit was reached (each is
held right after that input), plus records no connection can be held for (QUITs of
closing connections, timeouts), which the connection limits bound.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from chatroom.server.store.history import HistoryWriter

if TYPE_CHECKING:
    from chatroom.server.net.connection import Connection

__all__ = ["HistoryBackpressure"]

log = logging.getLogger("chatroom.net")


class HistoryBackpressure:
    """Holds the connections that produce history records while the writer is behind."""

    def __init__(self, writer: HistoryWriter, limit: int) -> None:
        self.writer = writer
        self.limit = max(1, limit)
        self.low_water = self.limit // 2
        self.held: set[Connection] = set()
        self.holds = 0  # how many times a connection was held (metrics, tests)
        self._armed = False

    def full(self, pending: int) -> bool:
        """True when the writer's backlog plus ``pending`` (the core's open batch) reached
        the limit: the connection that just added records must stop reading."""
        return self.writer.backlog + pending >= self.limit

    def hold(self, conn: Connection) -> None:
        """Stop reading ``conn`` until the writer caught up."""
        if conn in self.held:
            return
        if not self.held:
            log.info(
                "history writer behind: pausing senders",
                extra={"backlog": self.writer.backlog, "limit": self.limit},
            )
        self.held.add(conn)
        self.holds += 1
        conn.hold_reading()

    def after_flush(self) -> None:
        """The core's records went to the writer: if anyone is held, wait for the
        low-water mark (once; the writer calls back on the loop)."""
        if self.held and not self._armed:
            self._armed = True
            self.writer.when_below(self.low_water, self._caught_up)

    def forget(self, conn: Connection) -> None:
        """``conn`` is gone: nothing to resume."""
        self.held.discard(conn)

    def _caught_up(self) -> None:
        """The writer is at the low-water mark: every held connection reads again."""
        self._armed = False
        held, self.held = self.held, set()
        for conn in held:
            conn.release_reading()
