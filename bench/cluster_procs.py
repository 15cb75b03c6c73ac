"""The processes of a cluster benchmark: a throwaway Redis, ChatRoom nodes, their CPU.

Used by ``bench/cluster_fanout.py``; kept apart so the driver reads as the measurement.

- ``RedisServer``: Debian's ``redis-server`` in a temporary directory, on a free loopback
  port, with the durability the docs ask of a network's Redis (``appendonly yes``) at
  ``appendfsync everysec``, pinned to the server CPUs; ``stats()`` reads the counters
  the relay cost is computed from.
- ``Node``: one ``chatroom serve`` (plain, or ``--cluster`` node) with its own data
  directory and ports, pinned to one CPU, stopped with SIGTERM (a cluster node then
  leaves the network cleanly) and SIGKILL after a grace period.
- ``pin_tree`` pins an already running process and its children (PostgreSQL's postmaster
  forks every backend later, so they inherit the pin).

Every process started here is stopped by its ``stop()``, which the driver calls in a
``finally``; every temporary directory is removed there too.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, cast

import redis

from chatroom.server.cluster.node import INFO, LOG  # the log: a Redis Stream
from compare import CHATROOM_CONF, free_port

ROOT = Path(__file__).resolve().parents[1]
START_TIMEOUT = 60.0
STOP_GRACE = 10.0
_LISTENING = re.compile(r"listening for IRC on \S+:(\d+)")


def cpu_seconds(pid: int) -> float:
    """User + system CPU of one process (0.0 once it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            text = f.read()
    except OSError:
        return 0.0
    fields = text[text.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def write_calls(pid: int) -> int:
    """``write``-family system calls a process made so far (``syscw`` of /proc/PID/io):
    how many socket writes a fan-out took, i.e. how well its lines were coalesced."""
    try:
        with open(f"/proc/{pid}/io") as f:
            for row in f:
                if row.startswith("syscw:"):
                    return int(row.split()[1])
    except OSError:
        pass
    return 0


def children_of(pid: int) -> list[int]:
    """Direct children of ``pid``, from /proc (PostgreSQL's backends and helpers)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                text = f.read()
        except OSError:
            continue
        if int(text[text.rindex(")") + 2 :].split()[1]) == pid:
            found.append(int(entry))
    return found


def pin_tree(pid: int, cpus: set[int]) -> None:
    """Pin ``pid`` and its current children; children forked later inherit the pin."""
    for each in (pid, *children_of(pid)):
        try:
            os.sched_setaffinity(each, cpus)
        except (ProcessLookupError, PermissionError):
            continue


def stop(proc: subprocess.Popen[bytes], grace: float = STOP_GRACE) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


class RedisServer:
    """A throwaway ``redis-server`` on 127.0.0.1, pinned to ``cpus``."""

    def __init__(self, cpus: str) -> None:
        self.tmp = Path(tempfile.mkdtemp(prefix="bench-redis-"))
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        command = [
            *("taskset", "-c", cpus, "redis-server", "--bind", "127.0.0.1"),
            *("--port", str(self.port), "--dir", str(self.tmp), "--save", ""),
            *("--appendonly", "yes", "--appendfsync", "everysec"),
            *("--logfile", str(self.tmp / "redis.log"), "--daemonize", "no"),
        ]
        self.proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.client = redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=30)
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            try:
                self.client.ping()
                break
            except redis.ConnectionError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError("redis-server did not start") from None
                time.sleep(0.05)

    @property
    def pid(self) -> int:
        return self.proc.pid  # taskset execs redis-server

    def reset(self) -> None:
        """An empty Redis and zeroed counters: each configuration starts a new network."""
        self.client.flushall()
        self.client.config_resetstat()

    def stats(self) -> dict[str, Any]:
        """Counters for the relay's cost, and the log's size (``MEMORY USAGE`` walks the
        whole stream with ``SAMPLES 0``: exact, and quick at these sizes)."""
        pipe = self.client.pipeline(transaction=False)
        pipe.xlen(LOG)
        pipe.memory_usage(LOG, samples=0)
        pipe.info("stats")
        pipe.info("commandstats")
        xlen, memory, stats, commands = pipe.execute()
        return {
            "log_entries": int(xlen),
            "log_bytes": int(memory or 0),
            "commands": int(stats["total_commands_processed"]),
            "reads": int(stats["total_reads_processed"]),
            "bytes_in": int(stats["total_net_input_bytes"]),
            "bytes_out": int(stats["total_net_output_bytes"]),
            "calls": {
                name.removeprefix("cmdstat_"): int(row["calls"]) for name, row in commands.items()
            },
        }

    def users_per_node(self) -> dict[str, int]:
        """What each live node reports holding (``chatroom admin nodes`` reads the same)."""
        found: dict[str, int] = {}
        for raw in cast(dict[bytes, bytes], self.client.hgetall(INFO)).values():
            info = json.loads(raw)
            found[str(info["name"])] = int(info["users"])
        return found

    def entry_sizes(self, count: int) -> list[int]:
        """Encoded sizes of the newest ``count`` entries (the field ``e`` of each)."""
        rows = cast(list[tuple[bytes, dict[bytes, bytes]]], self.client.xrevrange(LOG, count=count))
        return [len(fields.get(b"e", b"")) for _, fields in rows]

    def stop(self) -> None:
        self.client.close()
        stop(self.proc)
        shutil.rmtree(self.tmp, ignore_errors=True)


class Node:
    """One ``chatroom serve`` on a loopback port of its own, pinned to ``cpu``.

    ``cluster`` is the Redis URL of the network (empty: a plain server on the same store).
    """

    def __init__(self, name: str, cpu: str, store_url: str, cluster: str) -> None:
        self.name = name
        self.tmp = Path(tempfile.mkdtemp(prefix=f"bench-node-{name}-"))
        conf = self.tmp / "chatroom.toml"
        conf.write_text(CHATROOM_CONF.format(dir=self.tmp, tls_port='"off"'))
        command = [
            *("taskset", "-c", cpu, sys.executable, "-m", "chatroom", "serve"),
            *("--config", str(conf), "--store", store_url, "--log-level", "WARNING"),
        ]
        if cluster:
            command += ["--cluster", cluster, "--node", name]
        # Only the generated file configures it; this tree's ChatRoom, whatever is installed.
        env = {k: v for k, v in os.environ.items() if not k.startswith("CHATROOM_")}
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(ROOT / "src"), env.get("PYTHONPATH", "")) if p
        )
        if cluster:
            env["CHATROOM_CLUSTER_SECRET"] = "bench-network-" + "0" * 32  # the same for all
        self.out = self.tmp / "stdout.txt"
        self.err = self.tmp / "stderr.txt"
        with self.out.open("wb") as out, self.err.open("wb") as err:
            self.proc = subprocess.Popen(command, stdout=out, stderr=err, env=env)
        self.port = self._wait_for_port()

    def _wait_for_port(self) -> int:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            found = _LISTENING.search(self.out.read_text(errors="replace"))
            if found:
                # The signal handlers are installed just after this line is printed.
                time.sleep(0.2)
                return int(found.group(1))
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        tail = self.err.read_text(errors="replace")[-600:]
        self.stop()
        raise RuntimeError(f"node {self.name} did not start: {tail}")

    @property
    def pid(self) -> int:
        return self.proc.pid  # taskset execs python

    def errors(self) -> str:
        """What the node logged at WARNING or above (empty when all went well)."""
        try:
            return self.err.read_text(errors="replace")
        except OSError:
            return ""

    def stop(self) -> None:
        stop(self.proc)
        shutil.rmtree(self.tmp, ignore_errors=True)
