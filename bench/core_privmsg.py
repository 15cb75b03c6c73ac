"""The core alone: CPU time of ``World.receive`` per PRIVMSG, with the test harness.

Why: the socket benchmarks (``compare.py``) are noisy on a shared machine, and a change to
the core's shape (owners, the handler context) should be judged by what it costs the
core itself. This drives one sender in a room of ``--members`` simulated clients (no
sockets, the harness's fake clock), draining every queue after each line as the shell
does, and prints microseconds per message: to the room (fan-out) and to one nick (the
nick registry's lookup). Compare two trees by running it with each on ``PYTHONPATH``,
alternately, and read the minimum of the rounds (the median for the spread).

Run: ``PYTHONPATH=src .venv/bin/python bench/core_privmsg.py --members 50 --rounds 10``.
"""

from __future__ import annotations

import argparse
import statistics
import time

from chatroom.server.core.session import Session
from chatroom.server.core.world import World
from chatroom.server.harness import Harness

TEXT = b"hello there, this is a benchmark line"


def per_message(world: World, sender: Session, line: bytes, count: int) -> float:
    """Seconds per ``line``, queues drained after each one as the shell drains them."""
    receive = world.receive
    started = time.perf_counter()
    for _ in range(count):
        receive(sender, line)
        for session in world.take_ready():
            session.take_output()
        world.take_effects()
    return (time.perf_counter() - started) / count


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("--members", type=int, default=50)
    p.add_argument("--rounds", type=int, default=10)
    p.add_argument("--messages", type=int, default=5000, help="per round")
    args = p.parse_args()
    h = Harness()
    clients = [h.connect(f"u{i}") for i in range(args.members)]
    for client in clients:
        client.send("JOIN #room")
        client.take()
    sender = clients[0].session
    lines = {
        "room": b"PRIVMSG #room :" + TEXT,
        "nick": f"PRIVMSG {clients[-1].nick} :".encode() + TEXT,
    }
    for line in lines.values():
        per_message(h.world, sender, line, args.messages // 2)  # warm up
    for name, line in lines.items():
        rounds = [per_message(h.world, sender, line, args.messages) for _ in range(args.rounds)]
        print(
            f"{name}: min {min(rounds) * 1e6:.2f} µs, "
            f"median {statistics.median(rounds) * 1e6:.2f} µs per message"
        )


if __name__ == "__main__":
    main()
