"""Staying in the network: the heartbeat every node sends, and the lease holder's duties.

Every node beats each second (``chatroom:nodes``, scored by when its beat expires, and
``chatroom:node-info`` for ``chatroom admin nodes``). One node at a time holds the lease
(``SET NX PX``, renewed each second); the holder publishes the network's ticks (timeouts,
expiries: once per network, not per node), declares incarnations whose heartbeat stopped
lost (their users QUIT, "node lost": the rules are in ``liveness.py``), writes snapshots
and trims the log behind them. Nobody could beat while Redis was away, so no node
declares another lost until it has itself been in touch with Redis for a whole
``NODE_TTL_MS`` again (every live node has beaten by then).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import cast

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from chatroom.server.cluster.keys import (
    HEARTBEAT_SECONDS,
    INFO,
    LEASE,
    LEASE_SCRIPT,
    LEASE_TTL_MS,
    LOG,
    NODES,
    SNAPSHOT,
    entries_of,
    names_of,
    redis_ms,
    stream_order,
)
from chatroom.server.cluster.liveness import NODE_TTL_MS
from chatroom.server.cluster.node_state import NodeState
from chatroom.server.core.connections import closing_link

log = logging.getLogger("chatroom.cluster")

WATCH_SECONDS = 0.25
CUT_OFF_REASON = "node lost: this server lost its link to the network, please reconnect"


class Upkeep(NodeState):
    """The heartbeat loop and, while this node holds the lease, the network's chores."""

    async def _keep_alive(self) -> None:
        client = self._client
        assert client is not None
        lease = client.register_script(LEASE_SCRIPT)
        while not self._stopping:
            await asyncio.sleep(HEARTBEAT_SECONDS)
            try:
                began = time.monotonic()
                await self._heartbeat(client)
                self._beat_ok_at = began
                self._beating.ok()
                if self.cut_off:
                    await self._read_to_the_end(client)
                    continue
                self._liveness.redis_answered(time.monotonic())
                self.lease_held = bool(await lease(keys=[LEASE], args=[self.me, LEASE_TTL_MS]))
                if self.lease_held:
                    self.publish("tick")
                    await self._declare_lost(client)
                    await self._snapshot_and_trim(client)
            except (RedisError, OSError) as err:
                self._liveness.redis_failed()
                self._beating.failed(err)

    async def _watch_link(self) -> None:
        """Cut this node off once no heartbeat has reached Redis for as long as a beat
        lives: by then the others may have declared it lost (its users QUIT "node lost"
        for them), so its clients must not go on talking to nobody; they are told, and
        reconnect to another node. A shorter outage (a Redis restart) keeps them."""
        while not self._stopping:
            await asyncio.sleep(WATCH_SECONDS)
            if not self.cut_off and self.link_lost():
                self._cut_off_now()

    def _cut_off_now(self) -> None:
        self.cut_off = True
        self._rejoin_at = None
        self.lease_held = False
        self._liveness.redis_failed()  # a silent link raises nothing: judge nobody from it
        held = list(self.shell.connections.values()) + list(self.waiting.values())
        log.error(
            "no heartbeat reached Redis for %s s: the network may have declared this node"
            " lost; disconnecting its clients until it is back in touch",
            NODE_TTL_MS // 1000,
            extra={"node": self.me, "clients": len(held)},
        )
        for conn in held:
            host = conn.session.host if conn.session is not None else "*"
            conn.write_lines([closing_link(host, CUT_OFF_REASON)])
            conn.close()

    async def _read_to_the_end(self, client: aioredis.Redis) -> None:
        """Redis answers again after a cut-off: publish nothing and welcome nobody until
        the log is applied up to its end as it is now, which shows whether the network
        declared this node lost (it then exits) or only Redis was away for everyone."""
        if self._rejoin_at is None:
            last = entries_of([(LOG, await client.xrevrange(LOG, count=1))])
            self._rejoin_at = last[0][0] if last else b"0-0"
        self._rejoined()

    async def _snapshot_and_trim(self, client: aioredis.Redis) -> None:
        """Every ``snapshot_every`` entries, the lease holder writes the network's state at
        its log position; then (each second) the log before both that position and what
        every live node has applied is trimmed."""
        if self.replica.applied - self._snapshot_at >= self.snapshot_every:
            data = self.replica.snapshot()  # None while an answer is pending: next second
            if data is not None:
                await client.set(SNAPSHOT, data)
                self._snapshot_at = self.replica.applied
                self._snapshot_id = self.replica.last_id
                log.info(
                    "snapshot written",
                    extra={"at": self._snapshot_id.decode(), "bytes": len(data)},
                )
        if self._snapshot_id is None:
            return
        now = await redis_ms(client)
        behind = self._snapshot_id
        for raw in await client.hvals(INFO):
            info = json.loads(raw)
            if info.get("expires", now) >= now and info.get("at"):
                behind = min(behind, info["at"].encode(), key=stream_order)
        await client.xtrim(LOG, minid=behind.decode(), approximate=False)

    async def _heartbeat(self, client: aioredis.Redis) -> None:
        now = await redis_ms(client)
        info = {
            "name": self.name,
            "users": len(self.shell.connections),
            "since": self.started_at,
            "at": self.replica.last_id.decode(),  # how far it applied: trimming waits for it
            "expires": now + NODE_TTL_MS,
        }
        pipe = client.pipeline(transaction=False)
        pipe.zadd(NODES, {self.me: now + NODE_TTL_MS})
        pipe.hset(INFO, self.me, json.dumps(info))
        await pipe.execute()

    async def _declare_lost(self, client: aioredis.Redis) -> None:
        """Incarnations that hold sessions but stopped beating: their users quit (the
        rules, and what does not count as stopping, are in ``liveness.py``)."""
        liveness = self._liveness
        if liveness.in_touch_since is None:
            return
        now = await redis_ms(client)
        pairs = cast(list[tuple[bytes, float]], await client.zrange(NODES, 0, -1, withscores=True))
        beats = {names_of([member])[0]: float(expires) for member, expires in pairs}
        holding = self.replica.incarnations()
        for incarnation in liveness.lost(beats, now, holding, time.monotonic()):
            users = sum(1 for owner in self.replica.owners.values() if owner == incarnation)
            log.warning(
                "node lost: no heartbeat from it; its users quit and may reconnect to"
                " another node; start it again if its service manager does not",
                extra={"incarnation": incarnation, "users": users},
            )
            self.publish("lost", incarnation, "node lost")
        await client.zremrangebyscore(NODES, "-inf", now)
        live = {name for name, expires in beats.items() if expires >= now}
        stale = [name for name in names_of(await client.hkeys(INFO)) if name not in live]
        if stale:
            await client.hdel(INFO, *stale)
