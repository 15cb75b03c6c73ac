"""Entries to and from the network's log: the two loops that carry them.

``_publish_forever`` sends the outbox to the log (``chatroom:log``, a Redis Stream) in
order, as few entries as it can (up to ``ENTRY_INPUTS`` inputs per entry: one XADD, one
pickle, one signature); ``_follow`` reads the log and applies every node's entries, ours
included, in stream order (``Replica.apply``). A node does not run its own clients' lines
directly: they take effect when they come back, so that every node runs them at the same
point of the one order.

If Redis goes away, both loops retry every ``RETRY_SECONDS``; lines read meanwhile wait in
the outbox (bounded: connections are held while it is full). Entries carry a sequence
number per incarnation, so a publish that is retried after Redis already stored it is
applied once.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from typing import TYPE_CHECKING

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from chatroom.irc.framing import LineTooLong
from chatroom.server.cluster.codec import encode
from chatroom.server.cluster.keys import (
    ENTRY_INPUTS,
    LOG,
    READ_BATCH,
    RETRY_SECONDS,
    Entries,
    entries_of,
    stream_order,
)
from chatroom.server.cluster.node_state import NodeState
from chatroom.server.core.effect_dispatch import EffectHandler, dispatch_effect
from chatroom.server.core.effects import Effect
from chatroom.server.core.session import Session

if TYPE_CHECKING:
    from chatroom.server.net.connection import Connection

log = logging.getLogger("chatroom.cluster")


class Relay(NodeState):
    """The outbox's way to the log and the log's way back into this node's ``World``."""

    async def _publish_forever(self) -> None:
        client = self._client
        assert client is not None
        while not self._stopping:
            await self._wake.wait()
            self._wake.clear()
            batch, self._outbox = self._outbox, []
            # What queued up meanwhile goes as few entries: one XADD, one signature and
            # one pickle per ENTRY_INPUTS inputs, not per input.
            entries = [
                encode(batch[i : i + ENTRY_INPUTS], self.key)
                for i in range(0, len(batch), ENTRY_INPUTS)
            ]
            while entries and not self._stopping:
                if self.link_lost():  # maybe declared lost: our entries could be void
                    await asyncio.sleep(RETRY_SECONDS)
                    continue
                try:
                    pipe = client.pipeline(transaction=False)
                    for data in entries:
                        pipe.xadd(LOG, {"e": data})
                    await pipe.execute()
                    entries = []
                    self._publishing.ok()
                except (RedisError, OSError) as err:
                    self._liveness.redis_failed()
                    self._publishing.failed(err)
                    await asyncio.sleep(RETRY_SECONDS)
            if self._held and not self.full():
                held, self._held = self._held, set()
                for conn in held:
                    conn.release_reading()

    async def _follow(self) -> None:
        reader = self._reader
        assert reader is not None
        while not self._stopping:
            try:
                reply = await reader.xread(
                    {LOG: self.replica.last_id}, count=READ_BATCH, block=1000
                )
                entries = entries_of(reply)
                gap = bool(entries) and self.link_lost() and await self._trimmed_past(reader)
                self._reading.ok()
            except (RedisError, OSError) as err:
                self._liveness.redis_failed()
                self._reading.failed(err)
                await asyncio.sleep(RETRY_SECONDS)
                continue
            if gap:
                log.error(
                    "the log was trimmed past what this node had applied while it was out"
                    " of touch; stopping",
                    extra={"node": self.me, "at": self.replica.last_id.decode()},
                )
                self.expelled.set()
                return
            if entries:
                self._apply(entries)

    async def _trimmed_past(self, reader: aioredis.Redis) -> bool:
        """Asked after a read while this node is out of touch (its heartbeat too old to
        hold back the lease holder's trimming): does the log still reach back to what
        it applied? If not, the entries between are gone (its own "lost" among them,
        maybe), and applying what follows would make a state unlike everyone's. Asked
        after the read, so a trim before the read cannot pass unseen."""
        first = entries_of([(LOG, await reader.xrange(LOG, count=1))])
        return bool(first) and stream_order(first[0][0]) > stream_order(self.replica.last_id)

    def _apply(self, entries: Entries) -> None:
        """Apply a batch, write what it queued for our sockets, then do its effects: in
        that order, as a single server's flush does, so a ``Close`` never cuts off the
        ERROR line queued before it."""
        replica = self.replica
        effects: list[Effect] = []
        for entry_id, fields in entries:
            effects += replica.apply(entry_id, fields.get(b"e", b""))
            if replica.bound:
                self._attach_bound()
        self.shell.flush()
        if replica.lost_me and not self._leaving and not self.expelled.is_set():
            log.error("the network declared this node lost; stopping", extra={"node": self.me})
            self.expelled.set()
        if self._rejoin_at is not None:
            self._rejoined()
        backends: EffectHandler | None = self.shell.backends
        if backends is not None:
            for effect in effects:
                dispatch_effect(effect, backends)

    def _attach_bound(self) -> None:
        """Our connections whose connect entry was just applied get their session."""
        for token, session in self.replica.bound:
            conn = self.waiting.pop(token, None)
            if conn is None or conn in self._closed_early:  # closed before the network knew it
                if conn is not None:
                    self._closed_early.discard(conn)
                    self._run_what_it_sent(conn, session)
                self.publish("gone", session.id, "Connection closed")
                continue
            self.shell.connections[session.id] = conn
            conn.attach(session)
        self.replica.bound.clear()

    def _run_what_it_sent(self, conn: Connection, session: Session) -> None:
        """The lines a connection sent before it closed, as far as flood control lets them
        through at once: what a single server runs of a client that hangs up."""
        backlog = conn.backlog
        conn.backlog = None
        world = self.world
        while backlog and world.flood_wait(session) <= 0.0:
            line = backlog.popleft()
            if isinstance(line, LineTooLong):
                self.receive_too_long(session)
            else:
                self.receive(session, line)

    def receive(self, session: Session, line: bytes) -> None:
        seed = secrets.token_bytes(16) if b"AUTHENTICATE" in line else None
        self.publish("line", session.id, line, seed)

    def receive_too_long(self, session: Session) -> None:
        self.publish("long", session.id)
