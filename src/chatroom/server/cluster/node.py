"""This process as one node of a network: the log in Redis, heartbeats, the lease.

What each Redis key is for (all under ``chatroom:``):

- ``log``: the network's log, a Redis Stream. Every input of every node is one entry,
  published by the node that has it (``publish``) and applied by every node in stream
  order (``_follow`` -> ``Replica.apply``). Redis gives the total order, so two nodes
  racing for one nick are decided by which entry comes first, the same way everywhere.
  The first entry (id ``0-1``, "genesis") holds the durable state read from PostgreSQL
  when the network started; a node that joins later replays the log from there.
- ``nodes``: a sorted set of live incarnations (a node's name plus a random suffix per
  process), scored by when their heartbeat expires; ``node-info`` holds what ``chatroom
  admin nodes`` shows. The first node to find no live incarnation founds a new log.
- ``lease``: held by one node at a time (``SET NX PX``, renewed each second). The holder
  publishes the network's ticks (timeouts, expiries: once per network, not per node),
  declares incarnations whose heartbeat stopped lost (their users QUIT, "node lost"),
  and forwards changes other processes made to the store (LISTEN/NOTIFY) into the log.

If Redis goes away, publishing and following retry every 0.2 s; lines read meanwhile wait
in the outbox (bounded: connections are held while it is full). Nobody could beat while
Redis was away, so no node declares another lost until it has itself been in touch with
Redis for a whole ``NODE_TTL_MS`` again (every live node has beaten by then). Entries
carry a sequence number per incarnation, so a publish that is retried after Redis
already stored it is applied once. Redis must keep its data across restarts
(``appendonly yes``): the log is the network's memory (docs/cluster.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import itertools
import json
import logging
import pickle
import secrets
import time
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, cast

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from chatroom.config import Config
from chatroom.irc.framing import LineTooLong
from chatroom.server.cluster.codec import encode, mac_key
from chatroom.server.cluster.liveness import NODE_TTL_MS, Liveness
from chatroom.server.cluster.outage import Outage
from chatroom.server.cluster.replica import NetworkClock, Replica, settings_digest
from chatroom.server.core import admission
from chatroom.server.core.effect_dispatch import EffectHandler, dispatch_effect
from chatroom.server.core.effects import Effect
from chatroom.server.core.history import HistoryRecord
from chatroom.server.core.reconfigure import Reloaded
from chatroom.server.core.session import Session
from chatroom.server.core.world import World, closing_link
from chatroom.server.store.base import Snapshot, StoreDelta

if TYPE_CHECKING:
    from chatroom.server.net.connection import Connection

__all__ = ["ClusterError", "ClusterNode", "list_nodes"]

log = logging.getLogger("chatroom.cluster")

LOG = "chatroom:log"
NODES = "chatroom:nodes"
INFO = "chatroom:node-info"
LEASE = "chatroom:lease"
SNAPSHOT = "chatroom:snapshot"
HEARTBEAT_SECONDS = 1.0
LEASE_TTL_MS = 3_000
RETRY_SECONDS = 0.2
READ_BATCH = 512
ENTRY_INPUTS = 256  # inputs of one node per log entry, at most
LEAVE_SECONDS = 3.0  # for the node's own loops to end when it stops
OUTBOX_LIMIT = 20_000  # entries waiting for Redis before connections are held

# Found the network if no incarnation is alive, and register this one, atomically: two
# nodes starting together cannot both found a log.
_JOIN = """
local now = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local founded = 0
if redis.call('ZCARD', KEYS[1]) == 0 then
  redis.call('DEL', KEYS[2], KEYS[3])
  redis.call('XADD', KEYS[2], '0-1', 'e', ARGV[3])
  founded = 1
end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[4]), ARGV[2])
return founded
"""

# Keep the lease if it is ours, or take it if nobody has it.
_LEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return 1
end
return 0
"""


class ClusterError(Exception):
    """The network cannot be joined (Redis unreachable, its log lost)."""


Entries = list[tuple[bytes, dict[bytes, bytes]]]


def _entries(reply: Any) -> Entries:
    """The entries of an XREAD reply for our one stream (redis-py types it loosely)."""
    return cast(Entries, reply[0][1]) if reply else []


def _names(members: Any) -> list[str]:
    return [member.decode() if isinstance(member, bytes) else str(member) for member in members]


def _stream_order(entry_id: bytes) -> tuple[int, int]:
    ms, _, n = entry_id.partition(b"-")
    return int(ms), int(n or 0)


async def _redis_ms(client: aioredis.Redis) -> int:
    """Redis's clock in ms: one clock for every node's heartbeat scores."""
    seconds, micros = await client.time()
    return int(seconds) * 1000 + int(micros) // 1000


class ClusterNode:
    """The shell's ``Inputs`` on a cluster node, and the tasks that keep it in the network.

    ``shell`` is duck-typed (connections, flush, backends) to keep this module free of
    the shell's imports; ``server/net/shell.py`` builds one when ``cluster.url`` is set.
    """

    def __init__(self, shell: Any, world: World, clock: NetworkClock, config: Config) -> None:
        self.shell = shell
        self.world = world
        self.url = config.cluster_url
        self.name = config.node
        self.me = f"{self.name}~{secrets.token_hex(4)}"
        self.key = mac_key(config.cluster_secret)
        self.snapshot_every = config.snapshot_every
        self._snapshot_at = 0  # replica.applied when the last snapshot was written
        self._snapshot_id: bytes | None = None  # the log position of the one we wrote
        self.replica = Replica(world, clock, self.me, self.key)
        self.started_at = time.time()
        self.lease_held = False
        self.waiting: dict[int, Connection] = {}  # connect token -> connection to attach
        self._closed_early: set[Connection] = set()  # of those, the ones already closed
        self._tokens = itertools.count(1)
        self._seq = itertools.count(2)  # 1 is the genesis this node may have written
        self._outbox: list[tuple[Any, ...]] = []
        self._wake = asyncio.Event()
        self._liveness = Liveness()  # whom the lease holder declares lost
        self._tasks: list[asyncio.Task[None]] = []
        self._client: aioredis.Redis | None = None
        self._reader: aioredis.Redis | None = None
        self._held: set[Connection] = set()
        self._publishing = Outage("publishing to Redis")
        self._reading = Outage("reading the log from Redis")
        self._beating = Outage("the heartbeat to Redis")
        self._watching = False  # the store's watch connected once (load_snapshot)
        # Set when this node applies its own "node lost" that it did not publish (a pause
        # longer than NODE_TTL_MS): its entries are void from then on, so it must stop and
        # be started again as a new incarnation (``serve`` exits; systemd restarts it).
        self.expelled = asyncio.Event()
        self._leaving = False  # leave() began: our own "lost" is on its way
        self._stopping = False  # leave() ends the loops below
        # What the nodes' own store commits are signed with, so no node takes another's
        # commit for a change from outside (see load_changes).
        self.network_origin = hashlib.sha256(
            b"chatroom network origin\0" + config.cluster_secret.encode()
        ).hexdigest()[:16]

    # ------------------------------------------------------------------ lifecycle

    async def start(self, snapshot: Snapshot, recent: list[HistoryRecord]) -> None:
        """Join (or found) the network and catch up with its log before serving anyone."""
        client = self._client = aioredis.Redis.from_url(self.url)
        self._reader = aioredis.Redis.from_url(self.url)
        try:
            now = await _redis_ms(client)
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
                        "scram_secret": secrets.token_bytes(32),
                        "settings": settings_digest(self.world.settings),
                    },
                )
            ],
            self.key,
        )
        join = client.register_script(_JOIN)
        founded = await join(keys=[NODES, LOG, SNAPSHOT], args=[now, self.me, genesis, NODE_TTL_MS])
        await self._heartbeat(client)
        log.info(
            "joined the network" if not founded else "founded the network",
            extra={"node": self.name, "incarnation": self.me},
        )
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
                + ": every node of a network needs the same server settings (docs/cluster.md)"
            )
        self._tasks = [
            asyncio.create_task(self._follow()),
            asyncio.create_task(self._publish_forever()),
            asyncio.create_task(self._keep_alive()),
        ]

    async def _warn_of_namesakes(self, client: aioredis.Redis, now: int) -> None:
        """Another live node with this node's name is either its own previous run (killed,
        not yet noticed lost: normal after a crash) or a second node given the same
        ``--node`` by mistake, which ``chatroom admin nodes`` could not tell apart."""
        prefix = self.name + "~"
        for other in _names(await client.zrangebyscore(NODES, now, "+inf")):
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
            entries = _entries(
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
        while self.me not in self.replica.dead and time.monotonic() < deadline:
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

    # ------------------------------------------------------------------ publishing

    def publish(self, kind: str, *args: object) -> None:
        """Queue one entry for the log (in order); it takes effect when it comes back."""
        self._outbox.append((kind, self.me, next(self._seq), *args))
        self._wake.set()

    @property
    def outbox_length(self) -> int:
        return len(self._outbox)

    def full(self) -> bool:
        """Too many entries wait for Redis: the connection that added one must pause."""
        return len(self._outbox) >= OUTBOX_LIMIT

    def hold(self, conn: Connection) -> None:
        self._held.add(conn)
        conn.hold_reading()

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

    # ------------------------------------------------------------------ following

    async def _follow(self) -> None:
        reader = self._reader
        assert reader is not None
        while not self._stopping:
            try:
                reply = await reader.xread(
                    {LOG: self.replica.last_id}, count=READ_BATCH, block=1000
                )
                entries = _entries(reply)
                self._reading.ok()
            except (RedisError, OSError) as err:
                self._liveness.redis_failed()
                self._reading.failed(err)
                await asyncio.sleep(RETRY_SECONDS)
                continue
            if entries:
                self._apply(entries)

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
        if self.me in replica.dead and not self._leaving and not self.expelled.is_set():
            log.error("the network declared this node lost; stopping", extra={"node": self.me})
            self.expelled.set()
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

    # ------------------------------------------------------------------ heartbeat, lease

    async def _keep_alive(self) -> None:
        client = self._client
        assert client is not None
        lease = client.register_script(_LEASE)
        while not self._stopping:
            await asyncio.sleep(HEARTBEAT_SECONDS)
            try:
                await self._heartbeat(client)
                self._beating.ok()
                self._liveness.redis_answered(time.monotonic())
                self.lease_held = bool(await lease(keys=[LEASE], args=[self.me, LEASE_TTL_MS]))
                if self.lease_held:
                    self.publish("tick")
                    await self._declare_lost(client)
                    await self._snapshot_and_trim(client)
            except (RedisError, OSError) as err:
                self._liveness.redis_failed()
                self._beating.failed(err)

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
        now = await _redis_ms(client)
        behind = self._snapshot_id
        for raw in await client.hvals(INFO):
            info = json.loads(raw)
            if info.get("expires", now) >= now and info.get("at"):
                behind = min(behind, info["at"].encode(), key=_stream_order)
        await client.xtrim(LOG, minid=behind.decode(), approximate=False)

    async def _heartbeat(self, client: aioredis.Redis) -> None:
        now = await _redis_ms(client)
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
        now = await _redis_ms(client)
        pairs = cast(list[tuple[bytes, float]], await client.zrange(NODES, 0, -1, withscores=True))
        beats = {_names([member])[0]: float(expires) for member, expires in pairs}
        holding = self.replica.incarnations()
        for incarnation in liveness.lost(beats, now, holding, time.monotonic()):
            log.warning("node lost", extra={"incarnation": incarnation})
            self.publish("lost", incarnation, "node lost")
        await client.zremrangebyscore(NODES, "-inf", now)
        live = {name for name, expires in beats.items() if expires >= now}
        stale = [name for name in _names(await client.hkeys(INFO)) if name not in live]
        if stale:
            await client.hdel(INFO, *stale)

    # ------------------------------------------------------------------ Inputs

    def connect(self, conn: Connection, ip: str, secure: bool, certfp: str | None) -> None:
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


async def list_nodes(url: str) -> list[tuple[str, str, dict[str, Any]]]:
    """(name, incarnation, info) of every live node, for ``chatroom admin nodes``."""
    client = aioredis.Redis.from_url(url)
    try:
        now = await _redis_ms(client)
        live = _names(await client.zrangebyscore(NODES, now, "+inf"))
        found = []
        for incarnation in sorted(live):
            raw = await client.hget(INFO, incarnation)
            info = json.loads(raw) if raw else {}
            found.append((str(info.get("name", incarnation)), incarnation, info))
        return found
    finally:
        await client.aclose()
