"""What a cluster node holds, shared by its parts: the outbox of entries on their way to
the log, the connections waiting for the network to welcome them, the Redis connections,
and the flags by which its loops stop.

``ClusterNode`` (``node.py``) is assembled from ``Relay`` (``relay.py``: entries to and
from the log) and ``Upkeep`` (``upkeep.py``: heartbeat, lease, snapshots); both build on
this one state, so that each module is about one job and none repeats the fields.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import logging
import secrets
import time
from typing import TYPE_CHECKING, Any

import redis.asyncio as aioredis

from chatroom.config import Config
from chatroom.server.cluster.codec import mac_key
from chatroom.server.cluster.keys import OUTBOX_LIMIT, stream_order
from chatroom.server.cluster.liveness import NODE_TTL_MS, Liveness
from chatroom.server.cluster.replica import NetworkClock, Replica
from chatroom.server.core.world import World
from chatroom.server.outage import Outage

if TYPE_CHECKING:
    from chatroom.server.net.connection import Connection

log = logging.getLogger("chatroom.cluster")


class NodeState:
    """The fields of a node and the outbox; ``shell`` is duck-typed (connections, flush,
    backends) to keep the cluster package free of the shell's imports."""

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
        # When the last heartbeat that Redis took began. Once that is longer ago than a
        # beat lives (NODE_TTL_MS) the others may have declared this node lost: it is
        # "cut off" (``upkeep.py``): its clients are told and closed, new ones refused,
        # and nothing is published until it has read the log to the end again.
        self._beat_ok_at = time.monotonic()
        self.cut_off = False
        self._rejoin_at: bytes | None = None  # the log's end when Redis answered again
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

    def link_lost(self) -> bool:
        """Cut off, or about to be: checked before each publish too, because after a
        pause of the whole process the publisher may run before the watch notices."""
        return self.cut_off or time.monotonic() - self._beat_ok_at > NODE_TTL_MS / 1000

    def _rejoined(self) -> None:
        """After a cut-off, once the log is applied up to where it ended when Redis
        answered again (and it did not declare this node lost): serve as before."""
        target = self._rejoin_at
        if target is None or self.replica.lost_me:
            return
        if stream_order(self.replica.last_id) < stream_order(target):
            return
        self.cut_off = False
        self._rejoin_at = None
        log.warning("back in touch with the network; accepting clients again")
        self._wake.set()

    def hold(self, conn: Connection) -> None:
        self._held.add(conn)
        conn.hold_reading()
