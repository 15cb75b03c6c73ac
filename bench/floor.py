"""The latency floor of room fan-out on this machine: writes alone, no IRC server at all.

Why: the ``latency`` scenario asks for p99 ≤ 1 ms with one message going to 199 members'
TCP sockets, from one server core. Every server has to make one ``send`` per recipient
socket, and on loopback that call also runs the receiver's TCP stack on the sender's core.
This script measures what that costs here, with nothing else in the way: a writer pinned to
one CPU sends one IRC-sized line to every socket of the room in a tight loop, ``--rate``
times a second, and a reader pinned to the other CPU receives on all of them (epoll, like
the load generator) and measures the same latency the generator does: the receive time
minus the send stamp written into the line, at ``--samples`` sockets spread over the
write order.

If the floor's p99 is above a target, no server that writes each recipient's socket
separately can meet that target on this machine with one core.

Run: ``.venv/bin/python bench/floor.py --members 200 --rate 200 --seconds 10``.
Bounded: the reader and writer both stop after ``--seconds`` (plus a grace period), and
every socket is on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import multiprocessing.connection
import os
import select
import socket
import sys
import time
from typing import Any

PAD = b"x" * 60  # with the prefix below, about the size of a real room PRIVMSG line


def percentile(values: list[int], fraction: float) -> float:
    """Nearest-rank percentile of sorted nanosecond values, in milliseconds."""
    if not values:
        return float("nan")
    index = min(len(values) - 1, int(fraction * len(values)))
    return values[index] / 1e6


def reader(port: int, members: int, samples: int, cpu: int, deadline: float, out: Any) -> None:
    """Connect every member, then read all of them until the deadline; report latencies."""
    os.sched_setaffinity(0, {cpu})
    socks = []
    for _ in range(members):
        sock = socket.create_connection(("127.0.0.1", port))
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.setblocking(False)
        socks.append(sock)
    # Write order is connect order: sample every (members // samples)-th socket.
    step = max(1, members // samples)
    sampled = {socks[i].fileno() for i in range(0, members, step)}
    by_fd = {s.fileno(): s for s in socks}
    poller = select.epoll()
    for sock in socks:
        poller.register(sock.fileno(), select.EPOLLIN)
    out.send("ready")
    latencies: list[int] = []
    received = 0
    while time.monotonic() < deadline:
        for fd, _ in poller.poll(0.1):
            data = by_fd[fd].recv(65536)
            now = time.monotonic_ns()
            received += data.count(b"\n")
            if fd in sampled:
                for line in data.split(b"\n"):
                    if line.startswith(b":"):
                        latencies.append(now - int(line.split(b" ")[3][1:]))
    latencies.sort()
    out.send(
        {
            "received_lines": received,
            "latencies": len(latencies),
            "p50_ms": percentile(latencies, 0.50),
            "p99_ms": percentile(latencies, 0.99),
            "max_ms": latencies[-1] / 1e6 if latencies else None,
        }
    )
    for sock in socks:
        sock.close()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--members", type=int, default=200, help="sockets in the room")
    p.add_argument("--rate", type=float, default=200.0, help="messages per second")
    p.add_argument("--seconds", type=float, default=10.0)
    p.add_argument("--samples", type=int, default=50)
    p.add_argument("--writer-cpu", type=int, default=0)
    p.add_argument("--reader-cpu", type=int, default=1)
    a = p.parse_args(argv)

    os.sched_setaffinity(0, {a.writer_cpu})
    listener = socket.create_server(("127.0.0.1", 0), backlog=a.members)
    port = listener.getsockname()[1]
    start = time.monotonic() + 2.0 + a.members / 500
    deadline = start + a.seconds
    here, there = multiprocessing.Pipe()
    proc = multiprocessing.Process(
        target=reader,
        args=(port, a.members, a.samples, a.reader_cpu, deadline + 1.0, there),
        daemon=True,
    )
    proc.start()
    conns = []
    for _ in range(a.members):
        conn, _ = listener.accept()
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conns.append(conn)
    if not here.poll(30) or here.recv() != "ready":
        raise SystemExit("reader did not start")
    # One member is the sender; the room's other members get every message.
    recipients = conns[1:]
    interval = 1.0 / a.rate
    bursts: list[int] = []
    sent = skipped = 0
    broken = ""
    while time.monotonic() < start:
        time.sleep(0.01)
    next_at = time.monotonic()
    # Stop at the deadline by the clock, not by the schedule: a writer that other
    # processes pushed behind would otherwise keep sending after the reader left (EPIPE).
    while next_at < deadline and time.monotonic() < deadline:
        pause = next_at - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        elif -pause > interval:  # more than a slot behind: skip the missed slots, count them
            missed = int(-pause / interval)
            skipped += missed
            next_at += missed * interval
        t0 = time.monotonic_ns()
        line = b":s!s@h PRIVMSG #room :%d %d %s\r\n" % (t0, sent, PAD)
        try:
            for conn in recipients:
                conn.send(line)
        except OSError as error:  # the reader gave up (it was starved past its deadline)
            broken = f"{type(error).__name__} after {sent} messages"
            break
        bursts.append(time.monotonic_ns() - t0)
        sent += 1
        next_at += interval
    result = here.recv() if here.poll(a.seconds + 10) else {"error": "no reader result"}
    if broken:
        result["error"] = f"the reader left early: {broken}"
    proc.join(5)
    bursts.sort()
    result.update(
        {
            "members": a.members,
            "rate": a.rate,
            "messages": sent,
            "skipped_slots": skipped,  # the writer was scheduled too late for them
            "expected_lines": sent * len(recipients),
            "write_all_p50_ms": percentile(bursts, 0.50),
            "write_all_p99_ms": percentile(bursts, 0.99),
            "per_send_us": (sum(bursts) / len(bursts) / len(recipients) / 1e3) if bursts else None,
        }
    )
    if not bursts:
        print(f"floor: no message written ({result.get('error', '')})", file=sys.stderr)
        print(json.dumps(result))
        return 1
    print(
        f"floor: {a.members} members at {a.rate:g} msg/s: one send per recipient "
        f"{result['per_send_us']:.2f} µs, all {len(recipients)} written in "
        f"{result['write_all_p50_ms']:.3f} ms (p50) / {result['write_all_p99_ms']:.3f} ms "
        f"(p99); received p50 {result['p50_ms']:.3f} ms, p99 {result['p99_ms']:.3f} ms",
        file=sys.stderr,
    )
    print(json.dumps(result))
    for conn in conns:
        conn.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
