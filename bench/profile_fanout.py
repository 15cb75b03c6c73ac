"""Profile ChatRoom with py-spy while a load scenario runs, and list the hot functions.

Why: the fan-out number alone does not say where the server's time goes. py-spy samples
the running server from outside (no code changes, little overhead), so the profile is
of the same process the benchmark measures. The raw collapsed stacks are summarised here
into "self" time (the leaf frame: where the CPU actually is) and "total" time (the frame
anywhere on the stack: which call paths are expensive); a speedscope file is kept for
a closer look in https://speedscope.app.

The server is pinned to CPU 0 and the generator to CPU 1, as in ``compare.py``; py-spy
itself runs on CPU 1 too, so it does not steal the server's core. ChatRoom runs as
``compare.py`` runs it (``chatroom serve``, uvloop, limits lifted in its config file).

Scenarios: ``fanout`` (the default; closed loop, or ``--rate`` for the latency room) and
``connect`` (registration loop, ``--concurrency`` workers).
"""

from __future__ import annotations

import argparse
import collections
import json
import subprocess
import time
from pathlib import Path

from compare import BENCH, PEERS, PYTHON, Server, raise_nofile_for_children


def summarise(speedscope: Path, top: int) -> str:
    """Top functions by self and by total samples, from py-spy's speedscope output."""
    doc = json.loads(speedscope.read_text())
    frames = doc["shared"]["frames"]
    names = [f"{f['name']} ({Path(f.get('file', '?')).name}:{f.get('line', '?')})" for f in frames]
    own: collections.Counter[str] = collections.Counter()
    total: collections.Counter[str] = collections.Counter()
    samples = 0
    for profile in doc["profiles"]:
        for stack, weight in zip(profile["samples"], profile["weights"], strict=True):
            if not stack:
                continue
            samples += weight
            own[names[stack[-1]]] += weight
            for index in set(stack):
                total[names[index]] += weight
    lines = [f"{samples:.2f} s of samples", "", "self %  function (file:line)"]
    lines += [f"{100 * n / samples:5.1f}  {f}" for f, n in own.most_common(top)]
    lines += ["", "total %  function (file:line)"]
    lines += [f"{100 * n / samples:5.1f}  {f}" for f, n in total.most_common(top)]
    return "\n".join(lines)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("--clients", type=int, default=500)
    p.add_argument("--senders", type=int, default=10)
    p.add_argument("--seconds", type=float, default=10.0)
    p.add_argument("--rate", type=float, default=0.0, help="total msg/s (0: closed loop)")
    p.add_argument("--window", type=int, default=0, help="closed loop: unseen msgs/sender")
    p.add_argument("--scenario", choices=("fanout", "connect"), default="fanout")
    p.add_argument("--concurrency", type=int, default=50, help="connect: workers")
    p.add_argument("--native", action="store_true", help="also sample C frames (slower)")
    p.add_argument("--top", type=int, default=25)
    p.add_argument("--out-dir", type=Path, default=BENCH / "results")
    a = p.parse_args()
    pyspy = PEERS / "bin" / "py-spy"
    if not pyspy.exists():
        raise SystemExit(f"{pyspy} missing: run `make bench-peers` first")
    raise_nofile_for_children()
    a.out_dir.mkdir(parents=True, exist_ok=True)
    speedscope = a.out_dir / f"{a.scenario}.speedscope.json"
    with Server("chatroom") as server:
        gen = ["taskset", "-c", "1", str(PYTHON), str(BENCH / "loadgen.py"), a.scenario]
        gen += ["--port", str(server.port), "--pid", str(server.pid)]
        gen += ["--seconds", str(a.seconds)]
        if a.scenario == "fanout":
            gen += ["--clients", str(a.clients), "--senders", str(a.senders)]
            gen += ["--rate", str(a.rate)]
            gen += ["--window", str(a.window)] if a.window else []
        else:
            gen += ["--concurrency", str(a.concurrency)]
        loadgen = subprocess.Popen(gen, stdout=subprocess.PIPE, text=True)
        # Fan-out registers, joins and probes for its watcher first; sample only the
        # measured window.
        time.sleep(3.0 + a.clients / 250 if a.scenario == "fanout" else 0.5)
        spy = ["taskset", "-c", "1", str(pyspy), "record", "--pid", str(server.pid)]
        spy += ["--duration", str(int(a.seconds) - 1), "--rate", "200", "--nonblocking"]
        spy += ["--native"] if a.native else []
        subprocess.run(
            [*spy, "--format", "speedscope", "-o", str(speedscope)], check=True, timeout=120
        )
        out, _ = loadgen.communicate(timeout=120 + a.seconds)
        result = out.strip().splitlines()[-1] if out.strip() else "{}"
    print(f"loadgen: {result}")
    print(summarise(speedscope, a.top))
    print(f"\nspeedscope file (open in https://speedscope.app): {speedscope}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
