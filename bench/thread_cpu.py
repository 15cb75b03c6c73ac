"""Server CPU per thread during one fan-out run: where a server's core goes, by thread.

Why: py-spy's samples tell which code is hot, but not reliably how much CPU each thread
used (a thread waiting in some calls is sampled as busy). This reads each thread's CPU
time from ``/proc/PID/task/TID/schedstat`` just before and after the measured window of
a ``loadgen.py fanout`` run, so the history writer's share of the server's core is a
measurement, not an estimate.

Run: ``PYTHONPATH=src .venv/bin/python bench/thread_cpu.py --clients 50 --senders 5
--window 200 --seconds 8`` (add ``--rate 200 --clients 200 --senders 10`` for the
latency room).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import time
from pathlib import Path

from compare import BENCH, PYTHON, Server, raise_nofile_for_children


def thread_cpu(pid: int) -> dict[str, float]:
    """Seconds of CPU per thread: "main" (the event loop), "nice 10" (the history writer
    and the password pool, the server's only niced threads, see server/threads.py), and
    "other" (the store watcher, the loop's executor), each summed."""
    out: dict[str, float] = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            ns = int((task / "schedstat").read_text().split()[0])
            nice = int((task / "stat").read_text().rsplit(")", 1)[1].split()[16])
        except (OSError, ValueError, IndexError):
            continue
        name = "main" if task.name == str(pid) else f"nice {nice}" if nice else "other"
        out[name] = out.get(name, 0.0) + ns / 1e9
    return out


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("--clients", type=int, default=50)
    p.add_argument("--senders", type=int, default=5)
    p.add_argument("--seconds", type=float, default=8.0)
    p.add_argument("--rate", type=float, default=0.0, help="total msg/s (0: closed loop)")
    p.add_argument("--window", type=int, default=200, help="closed loop: unseen msgs/sender")
    a = p.parse_args()
    raise_nofile_for_children()
    with Server("chatroom") as server:
        gen = ["taskset", "-c", "1", str(PYTHON), str(BENCH / "loadgen.py"), "fanout"]
        gen += ["--port", str(server.port), "--pid", str(server.pid)]
        gen += ["--seconds", str(a.seconds), "--clients", str(a.clients)]
        gen += ["--senders", str(a.senders), "--rate", str(a.rate), "--window", str(a.window)]
        loadgen = subprocess.Popen(gen, stdout=subprocess.PIPE, text=True)
        # Registration, joins and the watcher's probes come first; skip them.
        time.sleep(3.0 + a.clients / 250)
        before = thread_cpu(server.pid)
        t0 = time.monotonic()
        time.sleep(a.seconds - 2.0)
        after = thread_cpu(server.pid)
        wall = time.monotonic() - t0
        out, _ = loadgen.communicate(timeout=120 + a.seconds)
    result = json.loads(out.strip().splitlines()[-1])
    msgs = result["sent_per_s"] * wall
    total = sum(after.values()) - sum(before.values())
    print(
        f"loadgen: {result['deliveries_per_s']:,.0f} deliveries/s, "
        f"{result['server_ns_per_delivery']} ns/delivery, p50 {result['p50_ms']} ms, "
        f"p99 {result['p99_ms']} ms"
    )
    print(f"server CPU in {wall:.1f} s: {total:.2f} s ({100 * total / wall:.0f} %)")
    for name in sorted(after, key=lambda k: before.get(k, 0.0) - after[k]):
        used = after[name] - before.get(name, 0.0)
        if used > 0.0005:
            print(
                f"  {name:20s} {used:7.3f} s  {100 * used / total:5.1f} %  "
                f"{1e6 * used / msgs:7.2f} µs per message"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
