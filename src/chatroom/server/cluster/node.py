"""This process as one node of a network: joining it, leaving it, and the shell's inputs.

``ClusterNode`` is what the shell (``server/net/shell.py``) talks to when ``cluster.url``
is set, in place of the ``World``: every input it gets becomes an entry of the network's
log instead of running here at once. Its parts, one job each:

- ``keys.py``: the Redis keys and scripts, and ``list_nodes`` for ``chatroom admin nodes``;
- ``node_state.py``: the fields the parts share, and the outbox;
- ``relay.py``: entries to the log and back, applied to this node's ``World``;
- ``upkeep.py``: the heartbeat, and the lease holder's ticks, "node lost" and snapshots;
- this module: joining (or founding) the network and catching up before serving anyone,
  leaving it cleanly, and the ``Inputs`` the shell calls.

Redis must keep its data across restarts (``appendonly yes``): the log is the network's
memory (docs/cluster.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
import pickle
import time
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from chatroom.server.cluster.codec import encode
from chatroom.server.cluster.keys import (
    INFO,
    JOIN_SCRIPT,
    LEASE,
    LEAVE_SECONDS,
    LOG,
    NODES,
    READ_BATCH,
    SNAPSHOT,
    ClusterError,
    entries_of,
    list_nodes,
    names_of,
    redis_ms,
)
from chatroom.server.cluster.liveness import NODE_TTL_MS
from chatroom.server.cluster.relay import Relay
from chatroom.server.cluster.replica import settings_digest
from chatroom.server.cluster.upkeep import CUT_OFF_REASON, Upkeep
from chatroom.server.core import admission
from chatroom.server.core.connections import closing_link
from chatroom.server.core.history import HistoryRecord
from chatroom.server.core.reconfigure import Reloaded
from chatroom.server.core.session import Session
from chatroom.server.store.base import Snapshot, StoreDelta

if TYPE_CHECKING:
    from chatroom.server.net.connection import Connection

__all__ = ["INFO", "LOG", "ClusterError", "ClusterNode", "list_nodes"]

log = logging.getLogger("chatroom.cluster")


def scram_secret(key: bytes) -> bytes:
    """The secret of SCRAM's made-up salts (server/auth/server_secret.py) for a network:
    derived from ``cluster.secret``, so that a network founded again (every node
    restarted) answers a name without an account with the same salt as before, as a
    real account's stays the same; a new random one would tell the two apart."""
    return hmac.new(key, b"scram salts of names without an account", hashlib.sha256).digest()


class ClusterNode(Relay, Upkeep):
    """The shell's ``Inputs`` on a cluster node, and the tasks that keep it in the network."""

    async def start(self, snapshot: Snapshot, recent: list[HistoryRecord]) -> None:
        """Join (or found) the network and catch up with its log before serving anyone."""
        client = self._client = aioredis.Redis.from_url(self.url)
        self._reader = aioredis.Redis.from_url(self.url)
        try:
            now = await redis_ms(client)
        except (RedisError, OSError) as err:
            raise ClusterError(f"cannot reach Redis at cluster.url {self.url}: {err}") from None
        genesis = encode(
            [
                (
                    "genesis",
                    self.me,
                    1,
                    time.time(),
                    {
                        "snapshot": snapshot,
                        "recent": recent,
                        "scram_secret": scram_secret(self.key),
                        "settings": settings_digest(self.world.settings),
                    },
                )
            ],
            self.key,
        )
        join = client.register_script(JOIN_SCRIPT)
        founded = await join(keys=[NODES, LOG, SNAPSHOT], args=[now, self.me, genesis, NODE_TTL_MS])
        await self._heartbeat(client)
        if not founded:
            await self._warn_of_namesakes(client, now)
            await self._start_from_snapshot(client)
        await self._catch_up()
        if not self.replica.founded:
            await self._unregister(client)
            if self.replica.refused:
                raise ClusterError(
                    "the network's log is not signed with this node's cluster.secret: give"
                    " every node the same secret"
                )
            raise ClusterError(
                "the network's log in Redis has no start (was Redis restarted without"
                " appendonly?): stop every node, then start them again to found a new one"
            )
        differ = self.replica.settings_differ()
        if differ:
            await self._unregister(client)
            raise ClusterError(
                "this node's settings differ from the network's in "
                + ", ".join(differ)
                + ": every node of a network needs the same server settings; to change"
                " them, change the file on every node, then send REHASH as an operator on a"
                " running node (keys that wait for a restart: stop every node and start them"
                " again; docs/cluster.md)"
            )
        # Said once it is so: a node refused above never joined, whatever it read.
        log.info(
            "joined the network" if not founded else "founded the network",
            extra={"node": self.name, "incarnation": self.me},
        )
        self._tasks = [
            asyncio.create_task(self._follow()),
            asyncio.create_task(self._publish_forever()),
            asyncio.create_task(self._keep_alive()),
            asyncio.create_task(self._watch_link()),
        ]

    async def _warn_of_namesakes(self, client: aioredis.Redis, now: int) -> None:
        """Another live node with this node's name is either its own previous run (killed,
        not yet noticed lost: normal after a crash) or a second node given the same
        ``--node`` by mistake, which ``chatroom admin nodes`` could not tell apart."""
        prefix = self.name + "~"
        for other in names_of(await client.zrangebyscore(NODES, now, "+inf")):
            if other != self.me and other.startswith(prefix):
                log.warning(
                    "another live node has this node's name: if it is not this node's"
                    " previous run, give each node its own --node (cluster.node)",
                    extra={"node": self.name, "other": other},
                )

    async def _unregister(self, client: aioredis.Redis) -> None:
        """Out of the live list at once (a node that cannot join, or leaves)."""
        pipe = client.pipeline(transaction=False)
        pipe.zrem(NODES, self.me)
        pipe.hdel(INFO, self.me)
        await pipe.execute()

    async def _start_from_snapshot(self, client: aioredis.Redis) -> None:
        """A joining node starts from the newest snapshot, if there is one (the log
        before it may be trimmed already)."""
        data = await client.get(SNAPSHOT)
        if not isinstance(data, bytes) or not data:
            return
        try:
            self.replica.restore(data)
        except (pickle.UnpicklingError, ValueError, EOFError, KeyError) as err:
            await self._unregister(client)
            raise ClusterError(
                f"the network's snapshot cannot be read ({err}); is cluster.secret the same"
                " on every node?"
            ) from None
        self._snapshot_at = self.replica.applied
        log.info("started from a snapshot", extra={"at": self.replica.last_id.decode()})

    async def _catch_up(self) -> None:
        """Apply the log up to its end as it is now (a joining node replays it all)."""
        assert self._reader is not None
        last = await self._reader.xrevrange(LOG, count=1)
        if not last:
            return
        end = last[0][0]
        while self.replica.last_id != end:
            entries = entries_of(
                await self._reader.xread({LOG: self.replica.last_id}, count=READ_BATCH)
            )
            if not entries:
                break
            self._apply(entries)

    async def leave(self, reason: str) -> None:
        """A clean stop: our users quit for everyone (with ``reason``), then we go."""
        if not self._tasks:
            return
        self._leaving = True
        self.publish("lost", self.me, reason)
        deadline = time.monotonic() + 3.0
        while not self.replica.lost_me and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        # The loops also stop on ``_stopping``: a cancel that lands while redis-py times
        # out a read (after a long pause) can be swallowed, and the loop would go on.
        self._stopping = True
        for task in self._tasks:
            task.cancel()
        await asyncio.wait(self._tasks, timeout=LEAVE_SECONDS)
        self._tasks = []
        client = self._client
        if client is not None:
            with contextlib.suppress(RedisError, OSError):
                await self._unregister(client)
                if self.lease_held and await client.get(LEASE) == self.me.encode():
                    await client.delete(LEASE)
        for conn in (self._client, self._reader):
            if conn is not None:
                with contextlib.suppress(RedisError, OSError):
                    await conn.aclose()

    # ------------------------------------------------------------------ Inputs

    def connect(self, conn: Connection, ip: str, secure: bool, certfp: str | None) -> None:
        if self.link_lost():  # the network may have declared this node lost
            conn.write_lines([closing_link(ip, CUT_OFF_REASON)])
            conn.close()
            return
        refusal = admission.local_refusal(self.world, ip, len(self.shell.connections))
        if refusal is not None:  # this process's limits: the network never hears of it
            conn.write_lines([closing_link(ip, refusal)])
            conn.close()
            return
        token = next(self._tokens)
        self.waiting[token] = conn
        self.publish("connect", token, ip, secure, certfp)

    def forget(self, conn: Connection) -> None:
        """A connection closed before it was attached: ``_attach_bound`` runs what it had
        sent (a bot that connects, speaks and closes at once) and says it is gone."""
        if any(waiting is conn for waiting in self.waiting.values()):
            self._closed_early.add(conn)

    def close(self, session: Session, reason: str) -> None:
        self.publish("close", session.id, reason)

    def disconnect(self, session: Session, reason: str = "Connection closed") -> None:
        self.publish("gone", session.id, reason)

    def _answer(self, method: str, *args: object) -> None:
        self.publish("answer", method, args)

    def password_checked(self, token: int, ok: bool, rehashed: tuple[str, str] | None) -> None:
        self._answer("password_checked", token, ok, rehashed)

    def password_hashed(self, token: int, password_hash: str, scram: str) -> None:
        self._answer("password_hashed", token, password_hash, scram)

    def persisted(self, token: int, error: str | None) -> None:
        self._answer("persisted", token, error)

    def history_loaded(self, token: int, rows: Sequence[object] | None) -> None:
        self._answer("history_loaded", token, None if rows is None else list(rows))

    def history_redacted(self, token: int, outcome: str | None) -> None:
        self._answer("history_redacted", token, outcome)

    def config_reloaded(self, token: int, reloaded: Reloaded) -> None:
        self._answer("config_reloaded", token, reloaded)

    # Changes another process (``chatroom admin``) made to the store. The nodes' own
    # commits carry the network's origin (``network_origin``), so these are only truly
    # outside changes; every node that hears one puts it in the log (applying one twice
    # changes nothing), so none is lost while no node holds the lease.

    def load_snapshot(self, snapshot: Snapshot) -> None:
        """The store's watch (re)connected and cannot say what changed meanwhile."""
        if not self._watching:
            self._watching = True  # its first connect: the log is already current
            return
        self._answer("load_snapshot", snapshot)

    def load_changes(self, delta: StoreDelta) -> None:
        self._answer("load_changes", delta)

    def load_history(self, records: Iterable[HistoryRecord]) -> None:
        self._answer("load_history", list(records))
