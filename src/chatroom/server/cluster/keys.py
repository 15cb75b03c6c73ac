"""The Redis side of a network: its keys, the Lua scripts that change several at once,
and small readers of Redis's replies. Kept apart from the node's loops so that what lives
in Redis is described in one place, and so that ``chatroom admin nodes`` (``list_nodes``)
and the benchmarks can read a network without starting a node.

What each key is for (all under ``chatroom:``):

- ``log``: the network's log, a Redis Stream. Every input of every node is one entry,
  published by the node that has it and applied by every node in stream order
  (``relay.py``). Redis gives the total order, so two nodes racing for one nick are
  decided by which entry comes first, the same way everywhere. The first entry (id
  ``0-1``, "genesis") holds the durable state read from PostgreSQL when the network
  started; a node that joins later replays the log from there (or from ``snapshot``).
- ``nodes``: a sorted set of live incarnations (a node's name plus a random suffix per
  process), scored by when their heartbeat expires; ``node-info`` holds what ``chatroom
  admin nodes`` shows. The first node to find no live incarnation founds a new log.
- ``lease``: held by one node at a time (``SET NX PX``, renewed each second): the
  holder's duties are in ``upkeep.py``.
- ``snapshot``: the network's state at one log position, written by the lease holder.
"""

from __future__ import annotations

import json
from typing import Any, cast

import redis.asyncio as aioredis

__all__ = ["ClusterError", "list_nodes"]

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
JOIN_SCRIPT = """
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
LEASE_SCRIPT = """
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


def entries_of(reply: Any) -> Entries:
    """The entries of an XREAD reply for our one stream (redis-py types it loosely)."""
    return cast(Entries, reply[0][1]) if reply else []


def names_of(members: Any) -> list[str]:
    return [member.decode() if isinstance(member, bytes) else str(member) for member in members]


def stream_order(entry_id: bytes) -> tuple[int, int]:
    ms, _, n = entry_id.partition(b"-")
    return int(ms), int(n or 0)


async def redis_ms(client: aioredis.Redis) -> int:
    """Redis's clock in ms: one clock for every node's heartbeat scores."""
    seconds, micros = await client.time()
    return int(seconds) * 1000 + int(micros) // 1000


async def list_nodes(url: str) -> list[tuple[str, str, dict[str, Any]]]:
    """(name, incarnation, info) of every live node, for ``chatroom admin nodes``."""
    client = aioredis.Redis.from_url(url)
    try:
        now = await redis_ms(client)
        live = names_of(await client.zrangebyscore(NODES, now, "+inf"))
        found = []
        for incarnation in sorted(live):
            raw = await client.hget(INFO, incarnation)
            info = json.loads(raw) if raw else {}
            found.append((str(info.get("name", incarnation)), incarnation, info))
        return found
    finally:
        await client.aclose()
