"""Server memory under a max-rate flood, and after it: does the history queue stay bounded?

Issue 18, target 2. A flood of room messages faster than the history writer commits them
used to grow the writer's queue (and RSS) without bound, and history.db with it. This
script runs ``python -m chatroom serve`` (pinned to one core, the generator on the other,
flood limits lifted as in ``bench/compare.py``), opens ``--senders`` connections that send
PRIVMSG to ``--rooms`` rooms as fast as the server reads them (each room also has one
member that reads and discards; by default each sender has a room of its own, so senders
receive nothing and are never dropped as slow readers), for ``--seconds``, then stays
idle for ``--after``.

It samples, once a second, the server's RSS (``/proc/PID/status``) and how far the stored
rows trail what was sent (``sqlite_sequence`` of history.db counts every row ever
inserted, so retention does not hide rows). At the end every sender's PING is answered
(everything sent was read), and the script waits until the rows caught up.

Everything is bounded in time (setup, flood, drain and idle each have a limit), every
connection goes to 127.0.0.1, and the server is stopped at the end whatever happens.
Output: lines on stderr, one JSON object on the last stdout line.

    python bench/flood_memory.py --seconds 60            # this tree's server
    python bench/flood_memory.py --src /other/tree/src   # another tree, side by side
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CONF = """\
[server]
data_dir = "{dir}/data"
[listen]
host = "127.0.0.1"
port = 0
http_port = "off"
tls_port = "off"
[limits]
flood_per_second = 0
flood_burst = 1000000
connections_per_address = 1000000
connects_per_address_per_minute = 10000000
connections_total = 1000000
"""


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def rows_inserted(db: Path) -> int:
    """Rows ever inserted in history.db (AUTOINCREMENT's counter), read-only."""
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)) as c:
        row = c.execute("SELECT seq FROM sqlite_sequence WHERE name = 'messages'").fetchone()
    return int(row[0]) if row else 0


def history_bytes(db: Path) -> int:
    return sum(p.stat().st_size for p in db.parent.glob(db.name + "*") if p.is_file())


class Peer(asyncio.Protocol):
    """A raw IRC connection: reads and discards (answering PING), remembers a few needles."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = b""
        self.waiting: dict[bytes, asyncio.Future[None]] = {}
        self.writable = asyncio.Event()
        self.writable.set()
        self.privmsgs = 0  # PRIVMSG lines received (a reader's count is what the server did)
        self.tail = b""  # the last bytes of the previous read: a word split between reads

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.privmsgs += (self.tail + data).count(b" PRIVMSG ")
        self.tail = data[-8:]  # shorter than the word: never counted twice
        if b"PING :" in data and b"PONG" not in data:
            for line in data.split(b"\r\n"):
                if line.startswith(b"PING "):
                    self.send(b"PONG " + line[5:] + b"\r\n")
        if self.waiting:
            self.buffer = (self.buffer + data)[-4096:]
            for needle, fut in list(self.waiting.items()):
                if needle in self.buffer and not fut.done():
                    fut.set_result(None)
                    del self.waiting[needle]

    def pause_writing(self) -> None:
        self.writable.clear()

    def resume_writing(self) -> None:
        self.writable.set()

    def send(self, data: bytes) -> None:
        assert self.transport is not None
        self.transport.write(data)

    def expect(self, needle: bytes) -> asyncio.Future[None]:
        """A future done once ``needle`` arrives; made before sending what answers it."""
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.buffer = b""
        self.waiting[needle] = fut
        return fut


async def connect(port: int, nick: str, room: str) -> Peer:
    loop = asyncio.get_running_loop()
    _, peer = await loop.create_connection(Peer, "127.0.0.1", port)
    sock = peer.transport.get_extra_info("socket") if peer.transport else None
    if sock is not None:  # keep what waits in the kernel small: the server's queue is measured
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 32 * 1024)
    joined = peer.expect(b" 366 ")
    peer.send(f"NICK {nick}\r\nUSER {nick} 0 * :{nick}\r\nJOIN {room}\r\n".encode())
    await asyncio.wait_for(joined, 30)
    return peer


async def flood(a: argparse.Namespace, port: int, pid: int, db: Path) -> dict[str, Any]:
    rooms = [f"#flood{i}" for i in range(a.rooms)]
    readers = [await connect(port, f"r{i}", room) for i, room in enumerate(rooms)]
    senders = [await connect(port, f"s{i}", rooms[i % a.rooms]) for i in range(a.senders)]
    await asyncio.sleep(2)
    base_rows = rows_inserted(db)
    base_read = sum(r.privmsgs for r in readers)
    rss_before = rss_kib(pid)
    sent = [0] * a.senders
    stop = time.monotonic() + a.seconds

    async def send_loop(i: int) -> None:
        peer = senders[i]
        chunk = f"PRIVMSG {rooms[i % a.rooms]} :{'x' * a.text}\r\n".encode() * 64
        while time.monotonic() < stop:
            await peer.writable.wait()
            peer.send(chunk)
            sent[i] += 64
            await asyncio.sleep(0)

    samples: list[tuple[float, int, int]] = []

    async def sample() -> None:
        start = time.monotonic()
        while time.monotonic() < stop:
            await asyncio.sleep(1)
            rows = rows_inserted(db) - base_rows
            samples.append((time.monotonic() - start, rss_kib(pid), rows))
            print(f"  t={samples[-1][0]:5.1f}s rss={samples[-1][1] / 1024:6.1f} MiB"
                  f" rows={rows}", file=sys.stderr)  # fmt: skip

    await asyncio.gather(sample(), *(send_loop(i) for i in range(a.senders)))
    rss_end = rss_kib(pid)
    # Every line sent was read once the PING behind it is answered.
    answered = [peer.expect(b"PONG") for peer in senders]
    for peer in senders:
        peer.send(b"PING :done\r\n")
    drained = True
    try:
        await asyncio.wait_for(asyncio.gather(*answered), a.drain)
        answered = [peer.expect(b"PONG") for peer in readers]
        for peer in readers:
            peer.send(b"PING :done\r\n")
        await asyncio.wait_for(asyncio.gather(*answered), a.drain)
    except TimeoutError:
        drained = False  # reported; the numbers below are then lower bounds
    total = sum(r.privmsgs for r in readers) - base_read
    drained_at = time.monotonic()
    caught_up_s = None
    while time.monotonic() - drained_at < a.drain:
        if rows_inserted(db) - base_rows >= total:
            caught_up_s = time.monotonic() - drained_at
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(a.after)
    rss_after = rss_kib(pid)
    for peer in readers + senders:
        if peer.transport is not None:
            peer.transport.close()
    flood_rss = [s[1] for s in samples]
    return {
        "senders": a.senders,
        "rooms": a.rooms,
        "seconds": a.seconds,
        "drained": drained,
        "messages": total,
        "lines_sent": sum(sent),
        "messages_per_s": round(total / a.seconds),
        "rows_written": rows_inserted(db) - base_rows,
        "rss_before_mib": round(rss_before / 1024, 1),
        "rss_peak_mib": round(max([*flood_rss, rss_end]) / 1024, 1),
        "rss_end_of_flood_mib": round(rss_end / 1024, 1),
        "rss_after_mib": round(rss_after / 1024, 1),
        "rows_caught_up_s_after_last_read": caught_up_s,
        "history_bytes": history_bytes(db),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--seconds", type=float, default=60.0)
    p.add_argument("--after", type=float, default=15.0, help="idle seconds before 'after'")
    p.add_argument("--senders", type=int, default=8)
    p.add_argument("--rooms", type=int, default=8, help="senders share rooms if fewer")
    p.add_argument("--text", type=int, default=100, help="characters per message")
    p.add_argument("--drain", type=float, default=120.0, help="limit for the catch-up")
    p.add_argument("--src", type=Path, default=ROOT / "src", help="the server's source tree")
    p.add_argument("--queue-limit", type=int, default=0, help="history.queue_limit, if set")
    p.add_argument("--server-cpu", default="0")
    p.add_argument("--generator-cpu", default="1")
    a = p.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="bench-flood-"))
    conf = tmp / "chatroom.toml"
    conf.write_text(CONF.format(dir=tmp))
    if a.queue_limit:  # a tree from before the setting would refuse the key
        with conf.open("a") as f:
            f.write(f"[history]\nqueue_limit = {a.queue_limit}\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHATROOM_")}
    env["PYTHONPATH"] = str(a.src)
    cmd = ["taskset", "-c", a.server_cpu, sys.executable, "-m", "chatroom", "serve"]
    cmd += ["--config", str(conf), "--log-level", "WARNING"]
    log = open(tmp / "server.log", "wb")  # noqa: SIM115 (closed in finally)
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=log, env=env)
    try:
        os.sched_setaffinity(0, {int(a.generator_cpu)})
        assert proc.stdout is not None
        port = 0
        for _ in range(10):  # bounded; b"" at EOF
            line = proc.stdout.readline().decode()
            if "listening for IRC on" in line or not line:
                port = int(line.rsplit(":", 1)[1]) if line else 0
                break
        if not port:
            raise RuntimeError("the server did not start")
        result = asyncio.run(flood(a, port, proc.pid, tmp / "data" / "history.db"))
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        log.close()
        shutil.rmtree(tmp, ignore_errors=True)
    for key, value in result.items():
        print(f"{key}: {value}", file=sys.stderr)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
