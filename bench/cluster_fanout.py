"""Room fan-out on one plain node against a ChatRoom network of one and two nodes (issue 17).

What it measures, for each configuration, side by side in one run:

- ``plain``: one ``chatroom serve`` without ``--cluster``, on the same PostgreSQL store;
- ``cluster-1``: one ``--cluster`` node (every input through the Redis log and back);
- ``cluster-2``: two nodes, both on the server CPU (the same core budget as one node:
  what the relay and the replicated core cost);
- ``cluster-2-spread``: two nodes, one per CPU (the second shares the generator's CPU:
  a 2-core machine has no third one): whether each node writing only its own members'
  sockets brings the latency under one core's floor.

One room of ``--members`` members, member i connected to node i mod N, and:

- the closed loop of ``bench/loadgen.py`` (a few senders, a window of lines unseen by the
  member receiving last): the most deliveries/s;
- a fixed ``--rate`` (200 msg/s): p50 and p99 delivery latency;
- in both, the server CPU (nodes + redis-server; PostgreSQL apart) per delivery, and the
  relay's cost per message from Redis's own counters (``INFO stats`` / ``commandstats``
  deltas): commands, socket reads (about one per round trip: a pipelined batch is read
  at once), bytes in and out; and the log's bytes per entry (``MEMORY USAGE`` over
  ``XLEN`` of ``chatroom:log``, overall and for the entries the window added).

How it keeps the numbers honest, as ``bench/compare.py`` does: servers pinned with
``taskset`` (nodes, Redis and PostgreSQL on ``--server-cpu``, except the spread node),
this process and its generator workers pinned to ``--generator-cpu`` (``loadgen.py``
reports the generator's own CPU: near 100 % the numbers are a floor), short windows,
configurations alternated (reversed on every other repeat) and repeated, medians
reported, and ratios to ``plain`` taken within each repeat before the median.

Bounded: every step has a time limit (``loadgen.py``'s), the whole run stops measuring
after ``--budget`` seconds, SIGTERM is turned into a clean exit, and every process and
temporary directory it made is removed in a ``finally``. Loopback only.

    .venv/bin/python bench/cluster_fanout.py --out bench/results/cluster.json
    .venv/bin/python bench/cluster_fanout.py --members 20 --seconds 1 --repeats 1 --no-floor

Output: a Markdown table on stderr, the JSON result as the last stdout line.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import signal
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.postgres_server

from tests.postgres_server import TempPostgres

import loadgen
from cluster_procs import Node, RedisServer, children_of, cpu_seconds, pin_tree, write_calls
from compare import fanout_senders, fanout_window, machine_facts, raise_nofile_for_children

BENCH = Path(__file__).resolve().parent
# The driver's own commands, left out of the relay's count.
DRIVER_COMMANDS = ("info", "xlen", "memory", "xrevrange", "flushall", "config")


@dataclass(frozen=True)
class Layout:
    name: str
    cluster: bool
    cpus: tuple[str, ...]  # one per node: "server" or "generator"


LAYOUTS = {
    "plain": Layout("plain", False, ("server",)),
    "cluster-1": Layout("cluster-1", True, ("server",)),
    "cluster-2": Layout("cluster-2", True, ("server", "server")),
    "cluster-2-spread": Layout("cluster-2-spread", True, ("server", "generator")),
}


def stop_on_sigterm() -> None:
    def handler(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(f"stopped by signal {signum}")

    signal.signal(signal.SIGTERM, handler)


class Probe:
    """CPU of the server processes and Redis's counters, read before and after a window."""

    def __init__(self, nodes: list[Node], redis: RedisServer, postgres: list[int]) -> None:
        self.nodes, self.redis, self.postgres = nodes, redis, postgres
        self.before: dict[str, Any] = {}

    def read(self) -> dict[str, Any]:
        return {
            "nodes": sum(cpu_seconds(n.pid) for n in self.nodes),
            "writes": sum(write_calls(n.pid) for n in self.nodes),
            "redis": cpu_seconds(self.redis.pid),
            "postgres": sum(cpu_seconds(p) for p in self.postgres),
            "redis_stats": self.redis.stats(),
        }

    def start(self, t0: float, t_end: float) -> None:
        self.before = self.read()

    def delta(self, result: dict[str, Any]) -> dict[str, Any]:
        """Per delivery and per message costs of the window ``result`` reports."""
        after = self.read()
        received, sent = result["received"] or 1, result["sent"] or 1
        cpu = {k: after[k] - self.before[k] for k in ("nodes", "redis", "postgres")}
        r0, r1 = self.before["redis_stats"], after["redis_stats"]
        calls = {
            name: count - r0["calls"].get(name, 0)
            for name, count in r1["calls"].items()
            if name.split("|")[0] not in DRIVER_COMMANDS and count > r0["calls"].get(name, 0)
        }
        entries = r1["log_entries"] - r0["log_entries"]
        grown = r1["log_bytes"] - r0["log_bytes"]
        # The newest entries are the window's own (the members have not quit yet).
        sizes = self.redis.entry_sizes(min(200, entries)) if entries > 0 else []
        span = received / result["deliveries_per_s"] if result["deliveries_per_s"] else 1.0
        return {
            # Busy share of a core: far below 1.0 in a closed loop means the servers were
            # not what limited it (on a shared machine: other processes on their CPU).
            "server_cores": round((cpu["nodes"] + cpu["redis"]) / span, 3),
            "postgres_cores": round(cpu["postgres"] / span, 3),
            # From the heartbeats (each second), while the members are still connected.
            "users_per_node": self.redis.users_per_node(),
            "cpu_ns_per_delivery": round((cpu["nodes"] + cpu["redis"]) * 1e9 / received, 1),
            "nodes_ns_per_delivery": round(cpu["nodes"] * 1e9 / received, 1),
            "redis_ns_per_delivery": round(cpu["redis"] * 1e9 / received, 1),
            "postgres_ns_per_delivery": round(cpu["postgres"] * 1e9 / received, 1),
            "redis_cpu_us_per_message": round(cpu["redis"] * 1e6 / sent, 2),
            "node_writes_per_message": round((after["writes"] - self.before["writes"]) / sent, 2),
            "redis_commands_per_message": round(sum(calls.values()) / sent, 3),
            "redis_calls_per_message": {k: round(v / sent, 3) for k, v in sorted(calls.items())},
            # Less the driver's own (one pipelined read: the one that took ``after``);
            # its few hundred bytes in and out are left in the two below.
            "redis_reads_per_message": round((r1["reads"] - r0["reads"] - 1) / sent, 3),
            "redis_bytes_in_per_message": round((r1["bytes_in"] - r0["bytes_in"]) / sent, 1),
            "redis_bytes_out_per_message": round((r1["bytes_out"] - r0["bytes_out"]) / sent, 1),
            "log_entries_per_message": round(entries / sent, 3),
            "log_bytes_per_new_entry": round(grown / entries, 1) if entries else None,
            "entry_payload_bytes": statistics.median(sizes) if sizes else None,
        }


def loadgen_args(a: argparse.Namespace, ports: list[int], rate: float, tag: str) -> Any:
    """The generator's arguments for one window, as ``loadgen.py fanout`` would parse them."""
    sizes = argparse.Namespace(fanout_senders=a.senders, window=a.window, in_flight=49_000)
    argv = [
        *("fanout", "--port", str(ports[0]), "--ports", ",".join(map(str, ports))),
        *("--clients", str(a.members), "--senders", str(fanout_senders(a.members, sizes))),
        *("--window", str(fanout_window(a.members, sizes)), "--seconds", str(a.seconds)),
        *("--rate", str(rate), "--samples", str(a.samples), "--drain", str(a.drain)),
        *("--nick-prefix", tag),
    ]
    return loadgen.build_parser().parse_args(argv)


def window(a: argparse.Namespace, probe: Probe, ports: list[int], rate: float, tag: str) -> Any:
    args = loadgen_args(a, ports, rate, tag)
    room = loadgen.start_room(args)
    try:
        # Not the last window yet: the members stay until the counters are read, so their
        # QUITs (two log entries each) are not counted as the window's relay cost.
        result: dict[str, Any] = loadgen.measure_window(room, args, False, probe.start)
        result.update(probe.delta(result))
        for conn in room.conns:
            conn.send({"report": True, "last": True})
        loadgen.collect(room.conns, "report")
    finally:
        room.close()
    result.pop("generator_cpu_per_proc", None)
    return result


def run_layout(
    a: argparse.Namespace, layout: Layout, redis: RedisServer, pg: TempPostgres, tag: str
) -> dict[str, Any]:
    """Start the layout's servers on a new database (and an empty Redis), measure the
    closed loop and the fixed rate on them, stop them."""
    redis.reset()
    store = pg.new_database()
    cpu = {"server": a.server_cpu, "generator": a.generator_cpu}
    nodes: list[Node] = []
    out: dict[str, Any] = {"layout": layout.name, "nodes": len(layout.cpus)}
    try:
        for i, where in enumerate(layout.cpus):
            url = redis.url if layout.cluster else ""
            nodes.append(Node(f"n{i}", cpu[where], store, url))
        probe = Probe(nodes, redis, pg_pids(pg))
        ports = [n.port for n in nodes]
        out["closed"] = window(a, probe, ports, 0.0, tag + "c")
        out["fixed"] = window(a, probe, ports, a.rate, tag + "r")
        stats = redis.stats()
        if stats["log_entries"]:
            out["log_entries"] = stats["log_entries"]
            out["log_bytes_per_entry"] = round(stats["log_bytes"] / stats["log_entries"], 1)
    finally:
        for node in nodes:
            node.proc.send_signal(signal.SIGTERM)  # all at once: clean leaves overlap
        for node in nodes:
            logged = node.errors().strip()
            if logged:
                out.setdefault("node_errors", {})[node.name] = logged[-800:]
            node.stop()
    return out


def pg_pids(pg: TempPostgres) -> list[int]:
    """The postmaster and its children (backends of the nodes' connections, writers)."""
    with open(pg.data / "postmaster.pid") as f:
        postmaster = int(f.readline())
    return [postmaster, *children_of(postmaster)]


def run_floor(a: argparse.Namespace, members: int) -> dict[str, Any]:
    cmd = [sys.executable, str(BENCH / "floor.py"), "--members", str(members)]
    cmd += ["--rate", str(a.rate), "--seconds", str(a.seconds), "--samples", str(a.samples)]
    cmd += ["--writer-cpu", a.server_cpu, "--reader-cpu", a.generator_cpu]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120 + a.seconds)
    if done.returncode != 0:
        return {"error": done.stderr.strip()[-300:]}
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


# ------------------------------------------------------------------------------ summary

# (label, window, key, compared with plain): the relay's costs have no plain counterpart.
COLUMNS = (
    ("deliveries/s", "closed", "deliveries_per_s", True),
    ("p50 ms @rate", "fixed", "p50_ms", True),
    ("p99 ms @rate", "fixed", "p99_ms", True),
    ("CPU ns/delivery", "closed", "cpu_ns_per_delivery", True),
    ("CPU ns/delivery @rate", "fixed", "cpu_ns_per_delivery", True),
    ("Redis cmds/msg", "closed", "redis_commands_per_message", False),
    ("Redis cmds/msg @rate", "fixed", "redis_commands_per_message", False),
    ("Redis reads/msg @rate", "fixed", "redis_reads_per_message", False),
    ("Redis B in/msg", "closed", "redis_bytes_in_per_message", False),
    ("Redis B out/msg", "closed", "redis_bytes_out_per_message", False),
    ("log B/new entry", "closed", "log_bytes_per_new_entry", False),
    ("entry payload B", "closed", "entry_payload_bytes", False),
    ("server cores", "closed", "server_cores", False),
    ("node writes/msg", "closed", "node_writes_per_message", True),
)


def value(run: dict[str, Any], where: str, key: str) -> float | None:
    got = run.get(where, {}).get(key)
    return float(got) if isinstance(got, (int, float)) else None


def summarise(runs: dict[str, list[dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    """Medians over the repeats, and medians of the per-repeat ratios to ``plain``."""
    summary: dict[str, dict[str, Any]] = {}
    for name, rows in runs.items():
        cells: dict[str, Any] = {}
        for label, where, key, compared in COLUMNS:
            values = [v for r in rows if (v := value(r, where, key)) is not None]
            cells[label] = round(statistics.median(values), 3) if values else None
            if not compared or name == "plain":
                continue
            ratios = []
            for i, r in enumerate(rows):
                plain = runs.get("plain", [])
                base = value(plain[i], where, key) if i < len(plain) else None
                mine = value(r, where, key)
                if base and mine is not None:
                    ratios.append(mine / base)
            if ratios:
                cells[label + " ratio"] = round(statistics.median(ratios), 3)
        entry = [float(r["log_bytes_per_entry"]) for r in rows if r.get("log_bytes_per_entry")]
        cells["log B/entry (all)"] = round(statistics.median(entry), 1) if entry else None
        gen = [value(r, "closed", "generator_busy") for r in rows]
        cells["generator busy (closed)"] = max((g for g in gen if g is not None), default=None)
        loss = [value(r, w, "loss") for r in rows for w in ("closed", "fixed")]
        cells["max loss"] = max((x for x in loss if x is not None), default=None)
        summary[name] = cells
    return summary


def table(summary: dict[str, dict[str, Any]]) -> str:
    labels = [c[0] for c in COLUMNS] + ["log B/entry (all)", "generator busy (closed)"]
    rows = ["| configuration | " + " | ".join(labels) + " |", "|---" * (len(labels) + 1) + "|"]
    for name, cells in summary.items():
        shown = []
        for label in labels:
            got = cells.get(label)
            text = "n/a" if got is None else f"{got:,}"
            if cells.get(label + " ratio") is not None:
                text += f" ({cells[label + ' ratio']:.2f}x)"
            shown.append(text)
        rows.append(f"| {name} | " + " | ".join(shown) + " |")
    return "\n".join(rows)


# ------------------------------------------------------------------------------ main


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("--members", type=int, default=500)
    p.add_argument("--senders", type=int, default=0, help="0: a tenth of the room, ≤ 10")
    p.add_argument("--window", type=int, default=0, help="0: ~49,000 deliveries in flight")
    p.add_argument("--rate", type=float, default=200.0, help="msg/s of the latency window")
    p.add_argument("--samples", type=int, default=50, help="members measuring latency")
    p.add_argument("--seconds", type=float, default=8.0, help="per measured window")
    p.add_argument("--drain", type=float, default=5.0, help="max s to wait for stragglers")
    p.add_argument("--repeats", type=int, default=2)
    p.add_argument("--layouts", default=",".join(LAYOUTS), help="comma-separated")
    p.add_argument("--server-cpu", default="0", help="CPU of the nodes, Redis, PostgreSQL")
    p.add_argument("--generator-cpu", default="1", help="CPU of the generator")
    p.add_argument("--floor", action=argparse.BooleanOptionalAction, default=True)
    p.add_argument("--budget", type=float, default=1500.0, help="s; no new window after it")
    p.add_argument("--out", type=Path, help="also write the JSON result here")
    a = p.parse_args(argv)
    layouts = [x for x in a.layouts.split(",") if x]
    unknown = [x for x in layouts if x not in LAYOUTS]
    if unknown or not layouts:
        p.error(f"--layouts: unknown {unknown}; pick from {', '.join(LAYOUTS)}")
    if a.members < 3 or a.seconds <= 0 or a.repeats < 1:
        p.error("need --members >= 3, --seconds > 0, --repeats >= 1")
    a.layout_names = layouts
    return a


def main(argv: list[str] | None = None) -> int:
    a = parse(argv)
    stop_on_sigterm()
    raise_nofile_for_children()
    loadgen.raise_nofile(65536)
    # The generator's workers are forked from here: they inherit the pin.
    os.sched_setaffinity(0, {int(c) for c in a.generator_cpu.split(",")})
    started = time.monotonic()
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in a.layout_names}
    floors: dict[str, Any] = {}
    redis = RedisServer(a.server_cpu)
    pg: TempPostgres | None = None
    try:
        pg = TempPostgres(durable=True)
        pin_tree(int((pg.data / "postmaster.pid").read_text().split()[0]), {int(a.server_cpu)})
        for repeat in range(a.repeats):
            order = a.layout_names if repeat % 2 == 0 else a.layout_names[::-1]
            for name in order:
                if time.monotonic() - started > a.budget:
                    break
                print(f"# repeat {repeat + 1}: {name}", file=sys.stderr, flush=True)
                tag = f"{name[0]}{name[-1]}{repeat}"
                run = run_layout(a, LAYOUTS[name], redis, pg, tag)
                runs[name].append(run)
                for w in ("closed", "fixed"):
                    print("  " + loadgen.human(run[w]), file=sys.stderr, flush=True)
        if a.floor and time.monotonic() - started < a.budget:
            for members in sorted({a.members, (a.members + 1) // 2}):
                floors[str(members)] = run_floor(a, members)
    finally:
        redis.stop()
        if pg is not None:
            pg.stop()
    summary = summarise({k: v for k, v in runs.items() if v})
    command = "python bench/cluster_fanout.py " + shlex.join(sys.argv[1:] if argv is None else argv)
    print(f"\nRun: `{command.strip()}`\nMachine: {machine_facts()}\n", file=sys.stderr)
    print(table(summary), file=sys.stderr)
    result = {
        "command": command.strip(),
        "machine": machine_facts(),
        "members": a.members,
        "seconds": a.seconds,
        "rate": a.rate,
        "summary": summary,
        "floor": floors,
        "runs": runs,
        "elapsed_s": round(time.monotonic() - started, 1),
    }
    if a.out is not None:
        a.out.parent.mkdir(parents=True, exist_ok=True)
        a.out.write_text(json.dumps(result, indent=1))
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
