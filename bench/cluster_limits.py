"""Where one ChatRoom network tops out: the three numbers behind docs/benchmarks.md's estimate.

A network's nodes each apply **every** entry of the one log (docs/cluster.md), so:

1. ``apply``: what one entry costs a node, in-process, with no socket: decode, the core,
   and the shell's drain of the output (``take_ready`` / ``take_output``; a node drops
   the lines of members it has no socket for). Measured for a room message to rooms of
   several sizes whose members are all on *other* nodes: the least every node pays for
   every message of the network. One core then caps the network's entries/s at 1 / cost,
   whatever the number of nodes.
2. ``xadd``: how fast one Redis stream takes entries of the real size, with
   ``redis-benchmark`` (Debian's, pinned to ``--client-cpu``) against a throwaway
   ``redis-server`` with ``appendonly yes, appendfsync everysec`` (``--server-cpu``):
   pipelined 64 deep (the nodes pipeline their publishes) and one round trip each.
3. ``log``: the log's memory and append-only-file bytes per entry, filled with real
   encoded room messages (the log is not trimmed: this is its growth per message).
4. ``users``: the memory one user (registered, in one room) takes on every node that
   does not hold its socket (``tracemalloc``: Python objects only, no socket buffers).
5. ``relay``: a node's own CPU (``redis.asyncio`` with hiredis, as the nodes use it) to
   publish an entry (pickle, pipelined ``XADD`` 64 at a time: the origin pays it) and to
   read one back (``XREAD`` 512 at a time and unpickle: every node pays it, on top of
   ``apply``).

    .venv/bin/python bench/cluster_limits.py
    .venv/bin/python bench/cluster_limits.py --sizes 2,50 --messages 200 --requests 2000

Bounded (fixed counts, ``redis-benchmark`` under a time limit); the Redis and its directory
are removed at the end. Output: human lines on stderr, one JSON line on stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import statistics
import subprocess
import sys
import time
import tracemalloc
from typing import Any, cast

import redis.asyncio as aioredis

from chatroom.server.cluster.codec import decode, encode, mac_key
from chatroom.server.cluster.node import LOG
from chatroom.server.cluster.replica import NetworkClock, Replica
from chatroom.server.core.settings import CoreSettings, Limits
from chatroom.server.core.world import World
from chatroom.server.store.base import Snapshot
from cluster_procs import RedisServer, cpu_seconds

LIFTED = Limits(
    flood_per_second=0,
    flood_burst=1_000_000,
    connections_per_address=1_000_000,
    connects_per_address_per_minute=10_000_000,
)
TEXT = "1733356800000000000 3 1234 " + "x" * 40  # what loadgen.py's senders write
KEY = mac_key("bench" * 8)  # entries are signed as a network's are


class Follower:
    """One node's World and Replica, fed entries as ``ClusterNode._apply`` feeds them, with
    the shell's drain after each (no connection: every line is dropped)."""

    def __init__(self, me: str) -> None:
        self.clock = NetworkClock()
        self.world = World(CoreSettings(limits=LIFTED), self.clock)
        self.replica = Replica(self.world, self.clock, me, KEY)
        self.ms = 1_800_000_000_000
        self.seq: dict[str, int] = {}
        state = {"snapshot": Snapshot(), "recent": [], "scram_secret": b"s" * 32}
        self.feed(self.entry("genesis", "founder~0", 1_800_000_000.0, state))

    def entry(self, kind: str, origin: str, *args: object) -> bytes:
        self.seq[origin] = self.seq.get(origin, 0) + 1
        return encode([(kind, origin, self.seq[origin], *args)], KEY)

    def feed(self, data: bytes) -> None:
        self.ms += 1
        self.replica.apply(f"{self.ms}-0".encode(), data)
        world = self.world
        for session in world.take_ready():
            session.take_output()
        world.take_effects()

    def member(self, origin: str, token: int, nick: str, room: str) -> int:
        """A registered member of ``room``, held by ``origin``; its session id."""
        before = set(self.world.sessions)
        self.feed(self.entry("connect", origin, token, "127.0.0.1", False, None))
        (session_id,) = set(self.world.sessions) - before
        for line in (f"NICK {nick}", f"USER {nick} 0 * :{nick}", f"JOIN {room}"):
            self.feed(self.entry("line", origin, session_id, line.encode(), None))
        return session_id


def apply_cost(members: int, messages: int) -> dict[str, Any]:
    """µs for this node to apply one room message when none of the room is its own."""
    node = Follower("here~0")
    room = f"#r{members}"
    sender = node.member("there~1", 1, "m0", room)
    for i in range(1, members):
        node.member("there~1", i + 1, f"m{i}", room)
    if len(node.world.sessions) != members:
        raise RuntimeError(f"only {len(node.world.sessions)} of {members} members connected")
    line = f"PRIVMSG {room} :{TEXT}".encode()
    entries = [node.entry("line", "there~1", sender, line, None) for _ in range(messages)]
    # CPU time, not wall time: on a shared machine, time spent preempted is not the cost.
    start = time.process_time()
    for data in entries:
        node.feed(data)
    spent = time.process_time() - start
    return {
        "members": members,
        "messages": messages,
        "entry_bytes": len(entries[0]),
        "apply_us_per_entry": round(spent * 1e6 / messages, 2),
        "apply_ns_per_member": round(spent * 1e9 / messages / members, 1),
        "entries_per_s_per_core": round(messages / spent),
    }


def user_memory(users: int) -> dict[str, Any]:
    """Bytes of Python objects per user held for another node (every node holds all)."""
    tracemalloc.start()
    try:
        node = Follower("here~0")
        before = tracemalloc.get_traced_memory()[0]
        for i in range(users):
            node.member("there~1", i + 1, f"u{i}", f"#room{i % 10}")
        used = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    return {"users": users, "bytes_per_user": round(used / users)}


def xadd_rate(redis: RedisServer, a: argparse.Namespace, payload: int) -> dict[str, Any]:
    """XADD/s of one stream from ``redis-benchmark``: pipelined 64 deep, and unpipelined."""
    out: dict[str, Any] = {}
    # One round trip each is ~40x slower: a tenth of the requests measure it as well.
    for depth, clients, requests in ((64, 2, a.requests), (1, 1, max(1, a.requests // 10))):
        redis.client.delete("chatroom:bench")
        cmd = [
            *("taskset", "-c", a.client_cpu, "redis-benchmark", "-h", "127.0.0.1"),
            *("-p", str(redis.port), "-n", str(requests), "-c", str(clients)),
            *("-P", str(depth), "-q", "XADD", "chatroom:bench", "*", "e", "x" * payload),
        ]
        cpu0 = cpu_seconds(redis.pid)
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
        cpu = cpu_seconds(redis.pid) - cpu0
        found = re.search(r"([\d.]+) requests per second", done.stdout)
        if done.returncode != 0 or not found:
            out[f"pipeline_{depth}"] = {"error": (done.stderr or done.stdout)[-300:]}
            continue
        out[f"pipeline_{depth}"] = {
            "clients": clients,
            "xadd_per_s": round(float(found[1])),
            # Per second of Redis's own CPU: what one Redis core takes when nothing
            # else runs on it (the wall-clock rate above depends on the machine's load).
            "xadd_per_redis_cpu_s": round(requests / cpu) if cpu > 0 else None,
        }
    redis.client.delete("chatroom:bench")
    return out


def log_growth(redis: RedisServer, entries: int) -> dict[str, Any]:
    """Memory and AOF bytes per entry of a log of real room messages (150 ms apart).

    The append-only file is not rewritten meanwhile (a rewrite would shrink it), so its
    growth is what each entry adds to it."""
    node = Follower("here~0")
    client = redis.client
    client.config_set("auto-aof-rewrite-percentage", 0)
    client.delete(LOG)
    used0 = int(client.info("memory")["used_memory"])
    aof0 = aof_bytes(redis)
    ms = 1_800_000_000_000
    line = f"PRIVMSG #room :{TEXT}".encode()
    for first in range(0, entries, 1000):
        pipe = client.pipeline(transaction=False)
        for i in range(first, min(first + 1000, entries)):
            data = node.entry("line", "there~1", 1 + i % 500, line, None)
            pipe.xadd(LOG, {"e": data}, id=f"{ms + 150 * i}-0")
        pipe.execute()
    time.sleep(1.5)  # appendfsync everysec: the file has every entry after a second
    length = int(client.xlen(LOG))
    usage = int(client.memory_usage(LOG, samples=0) or 0)
    used1 = int(client.info("memory")["used_memory"])
    aof1 = aof_bytes(redis)
    client.delete(LOG)
    return {
        "entries": length,
        "memory_usage_bytes_per_entry": round(usage / length, 1),
        "used_memory_bytes_per_entry": round((used1 - used0) / length, 1),
        "aof_bytes_per_entry": round((aof1 - aof0) / length, 1),
        "mib_per_million_entries": round(usage / length * 1e6 / 2**20, 1),
    }


def relay_cost(redis: RedisServer, entries: int) -> dict[str, Any]:
    """µs of this process's CPU per entry published and per entry read back."""
    return asyncio.run(_relay_cost(redis.url, entries))


async def _relay_cost(url: str, entries: int) -> dict[str, Any]:
    line = f"PRIVMSG #room :{TEXT}".encode()
    client = aioredis.Redis.from_url(url)
    try:
        await client.delete("chatroom:relay")
        start = time.process_time()
        for first in range(0, entries, 64):
            pipe = client.pipeline(transaction=False)
            for i in range(first, min(first + 64, entries)):
                data = encode([("line", "there~1", i + 1, 1, line, None)], KEY)
                pipe.xadd("chatroom:relay", {"e": data})
            await pipe.execute()
        published = time.process_time() - start
        start = time.process_time()
        last, read = b"0-0", 0
        while read < entries:
            reply: Any = await client.xread({"chatroom:relay": last}, count=512)
            if not reply:
                break
            rows = cast(list[tuple[bytes, dict[bytes, bytes]]], reply[0][1])
            for entry_id, fields in rows:
                decode(fields[b"e"], KEY)
                last = entry_id
                read += 1
        spent = time.process_time() - start
        await client.delete("chatroom:relay")
    finally:
        await client.aclose()
    return {
        "entries": read,
        "publish_us_per_entry": round(published * 1e6 / entries, 2),
        "read_us_per_entry": round(spent * 1e6 / max(1, read), 2),
    }


def aof_bytes(redis: RedisServer) -> int:
    total = 0
    for folder, _, files in os.walk(redis.tmp):
        total += sum(os.path.getsize(os.path.join(folder, f)) for f in files if "aof" in f)
    return total


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("--sizes", default="2,50,500,2000", help="room sizes for the apply cost")
    p.add_argument("--messages", type=int, default=3000, help="entries timed per room size")
    p.add_argument("--repeats", type=int, default=3, help="apply runs per size (median)")
    p.add_argument("--requests", type=int, default=300_000, help="XADDs per redis-benchmark")
    p.add_argument("--log-entries", type=int, default=100_000)
    p.add_argument("--relay-entries", type=int, default=20_000, help="published and read")
    p.add_argument("--users", type=int, default=5_000, help="users held for the memory")
    p.add_argument("--server-cpu", default="0", help="CPU of redis-server and of the apply loop")
    p.add_argument("--client-cpu", default="1", help="CPU of redis-benchmark")
    a = p.parse_args(argv)
    sizes = [int(s) for s in a.sizes.split(",") if s]
    counts = (a.messages, a.requests, a.log_entries, a.relay_entries, a.users)
    if not sizes or min(sizes) < 2 or min(counts) < 1:
        p.error("need room sizes >= 2 and positive counts")
    os.sched_setaffinity(0, {int(c) for c in a.server_cpu.split(",")})
    apply = []
    for members in sizes:
        runs = [apply_cost(members, a.messages) for _ in range(max(1, a.repeats))]
        best = sorted(runs, key=lambda r: float(r["apply_us_per_entry"]))[len(runs) // 2]
        best["apply_us_runs"] = [r["apply_us_per_entry"] for r in runs]
        apply.append(best)
        print(
            f"apply: room of {members}: {best['apply_us_per_entry']} µs per entry "
            f"({best['entries_per_s_per_core']:,}/s per core), runs {best['apply_us_runs']}",
            file=sys.stderr,
        )
    users = user_memory(a.users)
    print(f"users: {users}", file=sys.stderr)
    payload = round(statistics.median(r["entry_bytes"] for r in apply))
    redis = RedisServer(a.server_cpu)
    try:
        log = log_growth(redis, a.log_entries)
        relay = relay_cost(redis, a.relay_entries)
        xadd = xadd_rate(redis, a, payload)
    finally:
        redis.stop()
    print(f"xadd ({payload} B entries): {xadd}", file=sys.stderr)
    print(f"log: {log}", file=sys.stderr)
    print(f"relay (this process's CPU): {relay}", file=sys.stderr)
    result = {"apply": apply, "entry_bytes": payload, "xadd": xadd, "log": log, "relay": relay}
    result["users"] = users
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
