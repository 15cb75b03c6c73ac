"""Load generator for any IRC server: room fan-out, idle memory and connect rate.

Why it is built this way:

- The client side must cost far less CPU than the server side, or the numbers measure the
  generator. So there is no IRC library here: a raw ``asyncio.Protocol`` per connection, a
  tiny line parser used only while registering and joining, and during the measured window
  most members only *count* ``" PRIVMSG "`` occurrences in the bytes they receive (one
  ``bytes.count`` per read). A few "sample" members parse every line to read the send
  timestamp embedded in the message text, which gives the latency percentiles.
- ``time.monotonic_ns`` is CLOCK_MONOTONIC on Linux, shared by every process on the machine,
  so a timestamp written by a sender in one process can be compared with the receive time
  in another.
- Members can be spread over several worker processes (``--procs``); the parent only
  coordinates through pipes. Each worker reports its own CPU time, so the result says
  whether the generator came close to saturating its core (``generator_cpu``): a generator
  near 100 % of a core under-reports the server.
- The closed loop waits on the member that receives each line **last**. Servers write a
  line to the members in their own order (join order, reverse join order, pointer order),
  so a watcher picked by join order may see each line first on one server and last on
  another, and the window (lines in flight) would differ between servers. Before the
  measured window a few probe lines find the member that is last most often; it is the
  watcher, wherever it lives, and tells the senders' process through shared memory and a
  pipe (``--watch first`` keeps the old join-order watcher, to compare).
- The generator must not be the bottleneck: above ``GENERATOR_BUSY_LIMIT`` (85 %) of its
  cores the result says ``generator_limited`` and the numbers are a floor for the server.
  The cheap counting path reads each chunk once (no copy to join it with the previous one).
- Every loop is bounded in count and time, every connection goes to the host given on the
  command line (meant to be 127.0.0.1), and every worker exits on its own after a deadline.

Scenarios: ``fanout``, ``idle``, ``connect`` and ``login``. ``login`` runs the fan-out room
at a fixed rate twice, once alone and once while other connections log in with SASL PLAIN
as fast as the server lets them (against accounts the driver created beforehand), and
compares the chat latency of the two windows: password hashing must not stall the chat.

Output: human-readable lines on stderr and one JSON object on the last stdout line, so a
driver (``bench/compare.py``) can read it.
"""

from __future__ import annotations

import argparse
import array
import asyncio
import base64
import contextlib
import json
import multiprocessing
import multiprocessing.connection
import os
import resource
import socket
import ssl
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

CHANNEL = "#bench"
PRIVMSG = b" PRIVMSG "
# 903 success; 902 nick locked, 904 failed, 905 too long, 906 aborted, 907 already.
SASL_NUMERICS = (b"903", b"902", b"904", b"905", b"906", b"907")
# Bound on every waiting step, so a server that stops answering cannot hang a run.
STEP_TIMEOUT = 30.0
# Above this share of its cores the generator may be what limits the numbers (target 6).
GENERATOR_BUSY_LIMIT = 0.85
# Probe lines that pick the closed loop's watcher (the member receiving lines last).
PROBES = 12
PROBE_GAP_S = 0.02

Parsed = tuple[bytes, bytes, list[bytes]]

# ``--tls``: every connection speaks TLS (no certificate check: loopback, a test server's
# self-signed certificate). Set once in ``main``; forked workers inherit it.
TLS: ssl.SSLContext | None = None


def parse_line(line: bytes) -> Parsed:
    """Split one IRC line into (prefix, command, params); tags are skipped.

    Only used outside the measured window, so clarity beats speed here.
    """
    if line.startswith(b"@"):
        _, _, line = line.partition(b" ")
    prefix = b""
    if line.startswith(b":"):
        prefix, _, line = line[1:].partition(b" ")
    trailing: bytes | None = None
    if b" :" in line:
        line, _, trailing = line.partition(b" :")
    elif line.startswith(b":"):
        line, trailing = b"", line[1:]
    words = line.split()
    command = words[0].upper() if words else b""
    params = words[1:]
    if trailing is not None:
        params.append(trailing)
    return prefix, command, params


def nick_of(prefix: bytes) -> bytes:
    return prefix.split(b"!", 1)[0]


def base36(n: int) -> str:
    """Short nick suffixes: servers such as ngIRCd allow only 9 characters by default."""
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        n, r = divmod(n, 36)
        out = digits[r] + out
        if n == 0:
            return out


def raise_nofile(wanted: int) -> int:
    """Lift the soft fd limit up to the hard one; 10,000 connections need it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft < target:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def proc_rss_kib(pid: int) -> int:
    """VmRSS of another process, from /proc (the server's memory in the idle scenario)."""
    with open(f"/proc/{pid}/status") as f:
        for row in f:
            if row.startswith("VmRSS:"):
                return int(row.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")


def proc_cpu_seconds(pid: int) -> float:
    """User+system CPU time of a process, so the server's cost per delivery can be shown."""
    with open(f"/proc/{pid}/stat") as f:
        text = f.read()
    fields = text[text.rindex(")") + 2 :].split()
    ticks = int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def own_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def generator_load(cpu_per_proc: list[float], wall_s: float) -> dict[str, Any]:
    """The generator's own CPU: total (in cores), per process, and how busy its cores were.

    Processes share the CPUs this process may run on (``taskset``), so the busiest-core
    estimate is the total over min(processes, CPUs). Above ``GENERATOR_BUSY_LIMIT`` the
    result is flagged: the server may have had spare capacity the generator could not use.
    """
    wall_s = max(1e-9, wall_s)
    cores = len(os.sched_getaffinity(0))
    total = sum(cpu_per_proc) / wall_s
    busy = total / max(1, min(len(cpu_per_proc), cores))
    return {
        "generator_cpu": round(total, 3),
        "generator_cpu_per_proc": [round(c / wall_s, 3) for c in cpu_per_proc],
        "generator_cores": cores,
        "generator_busy": round(busy, 3),
        "generator_limited": busy > GENERATOR_BUSY_LIMIT,
    }


def percentile(sorted_values: list[int], fraction: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, int(fraction * len(sorted_values)))
    return float(sorted_values[index])


def use_uvloop() -> str:
    """Run on uvloop when importable: the generator's own overhead must stay low."""
    try:
        import uvloop
    except ImportError:
        return "asyncio"
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    return "uvloop"


# ------------------------------------------------------------------------------ client


class Client(asyncio.Protocol):
    """One IRC connection with three reading modes.

    ``setup``: parse every line (registration, JOIN, NAMES, PING). ``count``: only count
    PRIVMSG lines, the cheap path for most members. ``sample``: parse PRIVMSG texts for the
    timestamp and sequence number (latency and the sender window).
    """

    def __init__(self, nick: str, on_message: Callable[[int, int], None] | None = None) -> None:
        self.nick = nick
        self.mode = "setup"
        self.transport: asyncio.Transport | None = None
        self.buf = b""
        self.tail = b""
        self.received = 0
        self.last_rx_ns = 0
        self.latencies = array.array("q")
        self.probe_rx: list[int] = []  # "probe" mode: receive time of each line
        self.on_message = on_message
        loop = asyncio.get_running_loop()
        self.welcomed: asyncio.Future[None] = loop.create_future()
        self.joined: asyncio.Future[None] = loop.create_future()
        self.closed: asyncio.Future[None] = loop.create_future()
        self.names: list[bytes] = []
        self.names_done: asyncio.Future[list[bytes]] | None = None
        # SASL (login scenario): the server's "AUTHENTICATE +", then 903 (True) or 90x (False).
        self.sasl_prompt: asyncio.Future[None] = loop.create_future()
        self.sasl_result: asyncio.Future[bool] = loop.create_future()
        self.can_write = asyncio.Event()
        self.can_write.set()

    # asyncio callbacks ----------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports implement asyncio.Transport without subclassing it.
        self.transport = cast(asyncio.Transport, transport)
        sock = transport.get_extra_info("socket")
        if sock is not None:
            # Without it, Nagle holds a sender's second small line until the server's
            # delayed ACK (~40 ms) and the latency measured would be the generator's.
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def data_received(self, data: bytes) -> None:
        mode = self.mode
        if mode == "count":
            # A pattern split across two reads starts in the previous read's last 8 bytes
            # (len(pattern)-1) and ends in this one's first 8: only those 16 bytes are
            # joined, so the chunk itself is never copied.
            self.received += data.count(PRIVMSG) + (self.tail + data[:8]).count(PRIVMSG)
            self.tail = data[-8:] if len(data) >= 8 else (self.tail + data)[-8:]
            self.last_rx_ns = time.monotonic_ns()
            if b"PING " in data:
                self._answer_pings(data)
            return
        self.buf += data
        if b"\n" not in data:
            return
        lines = self.buf.split(b"\n")
        self.buf = lines.pop()
        if mode == "sample" or mode == "probe":
            self._sample(lines)
        else:
            for line in lines:
                self._setup_line(line.rstrip(b"\r"))

    def pause_writing(self) -> None:
        self.can_write.clear()

    def resume_writing(self) -> None:
        self.can_write.set()

    def connection_lost(self, exc: Exception | None) -> None:
        self.can_write.set()
        waited: tuple[asyncio.Future[Any], ...] = (
            self.welcomed,
            self.joined,
            self.sasl_prompt,
            self.sasl_result,
        )
        for fut in waited:
            if not fut.done():
                fut.set_exception(ConnectionError(f"{self.nick}: connection lost"))
        if self.names_done is not None and not self.names_done.done():
            self.names_done.set_exception(ConnectionError("connection lost"))
        # Retrieve exceptions nobody awaits, so asyncio does not log them at exit.
        for fut in waited:
            if fut.done() and not fut.cancelled():
                fut.exception()
        if not self.closed.done():
            self.closed.set_result(None)

    # reading modes --------------------------------------------------------------------

    def _sample(self, lines: list[bytes]) -> None:
        now = time.monotonic_ns()
        n = 0
        probing = self.mode == "probe"
        for line in lines:
            if PRIVMSG not in line:
                if line.startswith(b"PING"):
                    self.send(b"PONG" + line[4:].rstrip(b"\r") + b"\r\n")
                continue
            n += 1
            if probing:
                self.probe_rx.append(now)
                continue
            # Text is "<sent_ns> <sender> <seq> <padding>"; the prefix holds no " :".
            text = line[line.index(b" :", 1) + 2 :]
            sent_ns, sender, seq, _ = text.split(b" ", 3)
            self.latencies.append(now - int(sent_ns))
            if self.on_message is not None:
                self.on_message(int(sender), int(seq))
        self.received += n
        self.last_rx_ns = now

    def _answer_pings(self, chunk: bytes) -> None:
        for line in chunk.split(b"\n"):
            if line.startswith(b"PING "):
                self.send(b"PONG " + line[5:].rstrip(b"\r") + b"\r\n")

    def _setup_line(self, line: bytes) -> None:
        prefix, command, params = parse_line(line)
        if command == b"PING":
            self.send(b"PONG :" + (params[-1] if params else b"x") + b"\r\n")
        elif command == b"001":
            if not self.welcomed.done():
                self.welcomed.set_result(None)
        elif command in (b"433", b"432") and not self.welcomed.done():
            # Nick taken (a leftover from an earlier run): try a longer variant.
            self.nick = self.nick[:-1] + base36(int(time.monotonic_ns()) % 36)
            self.send(f"NICK {self.nick}\r\n".encode())
        elif command == b"JOIN" and nick_of(prefix).decode() == self.nick:
            if not self.joined.done():
                self.joined.set_result(None)
        elif command == b"353" and params:
            self.names.extend(params[-1].split())
        elif command == b"366":
            if self.names_done is not None and not self.names_done.done():
                self.names_done.set_result(self.names)
        elif command == b"PRIVMSG":
            self.received += 1
        elif command == b"AUTHENTICATE" and params == [b"+"]:
            if not self.sasl_prompt.done():
                self.sasl_prompt.set_result(None)
        elif command in SASL_NUMERICS and not self.sasl_result.done():
            self.sasl_result.set_result(command == b"903")
            if not self.sasl_prompt.done():
                self.sasl_prompt.set_result(None)  # refused before the prompt
        elif command == b"ERROR" and self.transport is not None:
            self.transport.close()
        elif command in (b"465", b"473", b"474", b"475", b"471", b"405") and not (
            self.joined.done()
        ):
            self.joined.set_exception(ConnectionError(line.decode(errors="replace")))

    # actions --------------------------------------------------------------------------

    def send(self, data: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)

    async def register(self) -> None:
        self.send(f"NICK {self.nick}\r\nUSER b 0 * :bench\r\n".encode())
        await asyncio.wait_for(self.welcomed, STEP_TIMEOUT)

    async def join(self, channel: str) -> None:
        self.send(f"JOIN {channel}\r\n".encode())
        await asyncio.wait_for(self.joined, STEP_TIMEOUT)

    async def count_members(self, channel: str) -> int:
        self.names = []
        self.names_done = asyncio.get_running_loop().create_future()
        self.send(f"NAMES {channel}\r\n".encode())
        names = await asyncio.wait_for(self.names_done, STEP_TIMEOUT)
        return len(names)

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


async def open_client(
    host: str,
    port: int,
    nick: str,
    on_message: Callable[[int, int], None] | None = None,
) -> Client:
    loop = asyncio.get_running_loop()
    _, proto = await asyncio.wait_for(
        loop.create_connection(lambda: Client(nick, on_message), host, port, ssl=TLS),
        STEP_TIMEOUT,
    )
    assert isinstance(proto, Client)
    return proto


async def open_registered(
    host: str,
    port: int,
    nicks: list[str],
    concurrency: int,
    pace_per_s: float,
    ports: list[int] | None = None,
) -> list[Client]:
    """Connect and register ``nicks`` with at most ``concurrency`` in flight, at a bounded pace.

    Pacing keeps the setup from tripping connection-throttle defences and from measuring
    the server while it is still busy with registrations. ``ports[i]``, when given, is
    the port of ``nicks[i]`` (members spread over the nodes of a network).
    """
    clients: list[Client | None] = [None] * len(nicks)
    sem = asyncio.Semaphore(concurrency)
    start = time.monotonic()

    async def one(i: int) -> None:
        delay = start + i / pace_per_s - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        async with sem:
            c = await open_client(host, ports[i] if ports else port, nicks[i])
            await c.register()
            clients[i] = c

    await asyncio.gather(*(one(i) for i in range(len(nicks))))
    return [c for c in clients if c is not None]


async def close_all(clients: list[Client], timeout: float = 5.0) -> None:
    """QUIT politely, then wait (bounded) for the server to close, then drop the rest."""
    for c in clients:
        c.send(b"QUIT :bench done\r\n")
    with contextlib.suppress(asyncio.TimeoutError):
        await asyncio.wait_for(
            asyncio.gather(*(c.closed for c in clients), return_exceptions=True), timeout
        )
    for c in clients:
        if c.transport is not None:
            c.transport.abort()


# ------------------------------------------------------------------------------ fanout


@dataclass
class FanoutSpec:
    """What one worker process does in the fan-out scenario."""

    host: str
    port: int
    worker: int
    first: int  # index of this worker's first member (member 0 is the watcher)
    count: int
    senders: int  # members 1..senders send; only worker 0 holds them
    seconds: float
    rate: float  # total messages/s over all senders; 0 = as fast as the window allows
    window: int
    samples: int  # members that parse every message for latency
    clients: int  # members in all workers (to spread the samples over the join order)
    size: int
    prefix: str
    pace: float
    # Shared by every worker (made before the fork): the watcher's highest sequence number
    # seen per sender, and a pipe on which the watcher's worker wakes the senders' worker.
    seen: Any  # multiprocessing RawArray of int64, one per sender (index 0 unused)
    wake_r: int
    wake_w: int
    # Several servers of one network (bench/cluster_fanout.py): member i connects to
    # ports[i % len(ports)]; empty: every member to ``port``.
    ports: tuple[int, ...] = ()

    def port_of(self, member: int) -> int:
        return self.ports[member % len(self.ports)] if self.ports else self.port


@dataclass
class WorkerState:
    clients: list[Client] = field(default_factory=list)
    sent: list[int] = field(default_factory=list)
    wake: list[asyncio.Event] = field(default_factory=list)
    stalls: int = 0
    watch: int = -1  # index of the watcher member, in whichever worker holds it
    wake_pending: bool = False


def watch_member(spec: FanoutSpec, st: WorkerState, c: Client) -> None:
    """Make ``c`` the watcher: record each sender's progress, wake the senders once a batch.

    Runs in the worker holding ``c``. The senders all live in worker 0: there, setting the
    events is enough; elsewhere one byte on the wake pipe per read batch tells worker 0 to
    look at the shared ``seen`` again.
    """
    seen = spec.seen
    loop = asyncio.get_running_loop()
    local = spec.worker == 0

    def flush() -> None:
        st.wake_pending = False
        if local:
            for event in st.wake:
                event.set()
        else:
            with contextlib.suppress(BlockingIOError):
                os.write(spec.wake_w, b"!")

    def watched(sender: int, seq: int) -> None:
        if seq > seen[sender]:
            seen[sender] = seq
            if not st.wake_pending:
                st.wake_pending = True
                loop.call_soon(flush)

    c.on_message = watched


async def send_probes(c: Client, count: int) -> None:
    """Lines (sender 1, sequence 0: never counted) spaced so each fans out on its own."""
    for _ in range(count):
        c.send(f"PRIVMSG {CHANNEL} :{time.monotonic_ns()} 1 0 probe\r\n".encode())
        await asyncio.sleep(PROBE_GAP_S)


async def fanout_worker(spec: FanoutSpec, ctrl: multiprocessing.connection.Connection) -> None:
    """Register and join this worker's share, then follow the parent's go/poll/stop orders."""
    st = WorkerState()
    st.sent = [0] * (spec.senders + 1)
    st.wake = [asyncio.Event() for _ in range(spec.senders + 1)]
    loop = asyncio.get_running_loop()
    if spec.worker == 0:

        def woken() -> None:
            with contextlib.suppress(BlockingIOError):
                os.read(spec.wake_r, 4096)
            for event in st.wake:
                event.set()

        loop.add_reader(spec.wake_r, woken)

    nicks = [f"{spec.prefix}{base36(spec.first + i)}" for i in range(spec.count)]
    ports = [spec.port_of(spec.first + i) for i in range(spec.count)]
    clients = await open_registered(spec.host, spec.port, nicks, 50, spec.pace, ports)
    st.clients = clients
    # Join at a bounded pace too: one JOIN makes the server tell every member.
    for i in range(0, len(clients), 25):
        await asyncio.gather(*(c.join(CHANNEL) for c in clients[i : i + 25]))
    ctrl.send({"joined": len(clients)})

    inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    loop.add_reader(ctrl.fileno(), lambda: inbox.put_nowait(ctrl.recv()))
    senders: list[asyncio.Task[None]] = []
    cpu0 = 0.0
    sent0 = 0
    # Bounded: a few measured windows (the login scenario runs two) plus generous slack.
    deadline = time.monotonic() + 3 * spec.seconds + 600
    while time.monotonic() < deadline:
        order = await asyncio.wait_for(inbox.get(), deadline - time.monotonic())
        if "members" in order:
            n = await clients[0].count_members(CHANNEL) if spec.worker == 0 else -1
            ctrl.send({"members": n})
        elif "probe_mode" in order:
            for c in clients:
                c.mode, c.probe_rx = "probe", []
            ctrl.send({"probing": True})
        elif "probe_send" in order:
            await send_probes(clients[1], order["probe_send"])  # worker 0 holds member 1
            ctrl.send({"probes_sent": True})
        elif "probed" in order:
            ctrl.send({"rx": {spec.first + i: c.probe_rx for i, c in enumerate(clients)}})
        elif "watch" in order:
            for c in clients:
                c.mode, c.probe_rx = "setup", []
            st.watch = order["watch"]
            if spec.first <= st.watch < spec.first + len(clients):
                watch_member(spec, st, clients[st.watch - spec.first])
            ctrl.send({"watching": st.watch})
        elif "go" in order:
            # A new measured window: counters and samples start from zero. Samples are
            # spread evenly over the join order: a server writes to members in about that
            # order, so the first joiners alone would see only the head of each fan-out.
            step = max(1, spec.clients // max(1, spec.samples))
            for i, c in enumerate(clients):
                index = spec.first + i
                c.received = 0
                c.last_rx_ns = 0
                c.latencies = array.array("q")
                sample = index % step == 0 or index == st.watch
                c.mode = "sample" if sample else "count"
            st.stalls = 0
            sent0 = sum(st.sent)
            cpu0 = own_cpu_seconds()
            t0, t_end = order["go"], order["end"]
            senders = []
            for i, c in enumerate(clients):
                index = spec.first + i
                if 1 <= index <= spec.senders:
                    senders.append(asyncio.create_task(send_loop(spec, st, c, index, t0, t_end)))
        elif "poll" in order:
            ctrl.send(
                {
                    "received": sum(c.received for c in clients),
                    "last_rx_ns": max(c.last_rx_ns for c in clients),
                }
            )
        elif "report" in order:
            for t in senders:
                t.cancel()
            # The event loop made the pipe non-blocking; the report can be large (samples).
            loop.remove_reader(ctrl.fileno())
            os.set_blocking(ctrl.fileno(), True)
            lat = array.array("q")
            for c in clients:
                lat.extend(c.latencies)
            ctrl.send(
                {
                    "received": sum(c.received for c in clients),
                    "last_rx_ns": max(c.last_rx_ns for c in clients),
                    "sent": sum(st.sent) - sent0,
                    "stalls": st.stalls,
                    "latencies": lat.tobytes(),
                    "cpu": own_cpu_seconds() - cpu0,
                    "lost_connections": sum(1 for c in clients if c.closed.done()),
                }
            )
            if order.get("last", True):
                break
            loop.add_reader(ctrl.fileno(), lambda: inbox.put_nowait(ctrl.recv()))
    with contextlib.suppress(ValueError, OSError):
        loop.remove_reader(ctrl.fileno())
        loop.remove_reader(spec.wake_r)
    for c in clients:
        c.mode = "setup"
    await close_all(clients)


async def send_loop(
    spec: FanoutSpec, st: WorkerState, c: Client, sender: int, t0: float, t_end: float
) -> None:
    """Send until ``t_end``: a fixed share of ``--rate``, or closed-loop within a window.

    Closed loop (no ``--rate``): at most ``window`` messages of this sender are unseen by
    the watcher (the member that receives lines last) at any time. That finds the server's
    maximum throughput without piling an unbounded backlog into its send queues (which
    would end in "SendQ exceeded", a measurement of the queue limit, not of fan-out speed).
    """
    pad = b"x" * max(0, spec.size)
    delay = t0 - time.monotonic()
    if delay > 0:
        await asyncio.sleep(delay)
    head = f" {sender} ".encode()
    per_sender = spec.rate / spec.senders if spec.rate > 0 else 0.0
    # Spread the senders' phases so a fixed rate does not arrive in bursts of S.
    phase = (sender - 1) / (spec.senders * per_sender) if per_sender else 0.0
    wake = st.wake[sender]
    base = st.sent[sender]  # sequence numbers go on across windows; the rate restarts
    while True:
        now = time.monotonic()
        if now >= t_end:
            return
        if per_sender:
            due = int((now - t0 - phase) * per_sender) + 1 - (st.sent[sender] - base)
            if due <= 0:
                next_at = t0 + phase + (st.sent[sender] - base) / per_sender
                await asyncio.sleep(min(max(0.0, next_at - now), t_end - now))
                continue
        else:
            seen = spec.seen
            due = spec.window - (st.sent[sender] - seen[sender])
            if due <= 0:
                wake.clear()
                try:
                    await asyncio.wait_for(wake.wait(), min(1.0, max(0.01, t_end - now)))
                except TimeoutError:
                    if time.monotonic() < t_end:
                        # A message never reached the watcher: count it, reopen the window.
                        st.stalls += 1
                        seen[sender] = st.sent[sender]
                continue
        await c.can_write.wait()
        parts = []
        seq = st.sent[sender]
        stamp = str(time.monotonic_ns()).encode()
        for _ in range(due):
            seq += 1
            parts.append(b"PRIVMSG #bench :" + stamp + head + str(seq).encode() + b" " + pad)
        parts.append(b"")
        c.send(b"\r\n".join(parts))
        st.sent[sender] = seq
        if not per_sender:
            await asyncio.sleep(0)


def fanout_entry(spec: FanoutSpec, ctrl: multiprocessing.connection.Connection) -> None:
    """Worker process entry point."""
    use_uvloop()
    raise_nofile(65536)
    try:
        asyncio.run(fanout_worker(spec, ctrl))
    except Exception as err:
        with contextlib.suppress(OSError):
            ctrl.send({"error": repr(err)})
        raise


def collect(conns: list[multiprocessing.connection.Connection], key: str) -> list[dict[str, Any]]:
    """Read one reply from every worker, bounded in time."""
    out = []
    for conn in conns:
        if not conn.poll(STEP_TIMEOUT * 4):
            raise RuntimeError(f"worker did not answer {key!r} in time")
        reply: dict[str, Any] = conn.recv()
        if "error" in reply:
            raise RuntimeError(f"worker failed: {reply['error']}")
        out.append(reply)
    return out


@dataclass
class Room:
    """The fan-out worker processes, set up and joined, ready for measured windows."""

    clients: int
    senders: int
    procs: int
    setup_s: float
    joined: int
    conns: list[multiprocessing.connection.Connection]
    workers: list[Any]  # fork-context processes
    watch: int = 0  # the watcher member (closed loop)
    watch_last_share: float | None = None  # of the probes, the share it received last
    pipe: tuple[int, ...] = ()  # the watcher's wake pipe, closed with the room

    def close(self) -> None:
        for p in self.workers:
            p.join(timeout=15)
            if p.is_alive():
                p.kill()
                p.join(timeout=5)
        for fd in self.pipe:
            with contextlib.suppress(OSError):
                os.close(fd)
        self.pipe = ()


def start_room(args: argparse.Namespace) -> Room:
    """Fork the members' worker processes; return once all of them are in the room."""
    n, s = args.clients, args.senders
    if not 1 <= s < n:
        raise SystemExit("need 1 <= senders < clients")
    procs = max(1, min(args.procs, n))
    prefix = args.nick_prefix or "f" + base36(os.getpid() % 1296)
    # Worker 0 holds the watcher and every sender (they pace on the watcher); the rest of
    # the members are split evenly.
    share = [(0, s + 1)]
    rest = n - (s + 1)
    others = procs - 1
    start = s + 1
    for w in range(others):
        k = rest // others + (1 if w < rest % others else 0)
        share.append((start, k))
        start += k
    if others == 0:
        share = [(0, n)]
    ctx = multiprocessing.get_context("fork")
    room = Room(n, s, procs, 0.0, 0, [], [])
    seen = ctx.RawArray("q", s + 1)
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_r, False)
    os.set_blocking(wake_w, False)
    room.pipe = (wake_r, wake_w)
    t_setup = time.monotonic()
    for w, (first, count) in enumerate(share):
        parent_end, child_end = ctx.Pipe()
        spec = FanoutSpec(
            host=args.host,
            port=args.port,
            worker=w,
            first=first,
            count=count,
            senders=s,
            seconds=args.seconds,
            rate=args.rate,
            window=args.window,
            samples=args.samples,
            clients=n,
            size=args.size,
            prefix=prefix,
            pace=args.pace / procs,
            seen=seen,
            wake_r=wake_r,
            wake_w=wake_w,
            ports=tuple(args.ports or ()),
        )
        p = ctx.Process(target=fanout_entry, args=(spec, child_end), daemon=True)
        p.start()
        room.conns.append(parent_end)
        room.workers.append(p)
    try:
        room.joined = sum(r["joined"] for r in collect(room.conns, "joined"))
        members = -1
        for _ in range(20):  # bounded: the last JOINs may still be propagating
            room.conns[0].send({"members": True})
            members = collect(room.conns[:1], "members")[0]["members"]
            if members >= n:
                break
            time.sleep(0.25)
        if members < n:
            raise RuntimeError(f"only {members} of {n} members in {CHANNEL}")
        if not args.rate and args.watch == "last":
            room.watch, room.watch_last_share = find_last_receiver(room, s)
        for conn in room.conns:
            conn.send({"watch": room.watch})
        collect(room.conns, "watch")
    except BaseException:
        room.close()
        raise
    room.setup_s = round(time.monotonic() - t_setup, 2)
    return room


def find_last_receiver(room: Room, senders: int) -> tuple[int, float]:
    """Send probe lines and return the member that received them last most often.

    Only members that send nothing can watch (a sender never receives its own lines).
    Returns the member's index and the share of probes it was last for; ties go to the
    member that was later on average.
    """
    for conn in room.conns:
        conn.send({"probe_mode": True})
    collect(room.conns, "probe_mode")
    room.conns[0].send({"probe_send": PROBES})
    collect(room.conns[:1], "probe_send")
    rx: dict[int, list[int]] = {}
    for _ in range(int(STEP_TIMEOUT / 0.1)):  # bounded: wait for the last probe to land
        time.sleep(0.1)
        for conn in room.conns:
            conn.send({"probed": True})
        rx = {}
        for reply in collect(room.conns, "probed"):
            rx.update(reply["rx"])
        if all(len(v) >= PROBES for i, v in rx.items() if i == 0 or i > senders):
            break
    candidates = {i: v[:PROBES] for i, v in rx.items() if (i == 0 or i > senders) and v}
    if not candidates:
        return 0, 0.0
    probes = min(len(v) for v in candidates.values())
    last_count = dict.fromkeys(candidates, 0)
    for j in range(probes):
        last_count[max(candidates, key=lambda i: candidates[i][j])] += 1
    firsts = [min(v[j] for v in candidates.values()) for j in range(probes)]
    lateness = {i: sum(v[j] - firsts[j] for j in range(probes)) for i, v in candidates.items()}
    watch = max(candidates, key=lambda i: (last_count[i], lateness[i]))
    return watch, round(last_count[watch] / max(1, probes), 3)


def measure_window(
    room: Room, args: argparse.Namespace, last: bool, during: Callable[[float, float], None]
) -> dict[str, Any]:
    """One measured window: go, wait, drain the stragglers, collect the workers' reports.

    ``during(t0, t_end)`` is called just before the go order (the login storm starts there).
    """
    conns, n = room.conns, room.clients
    cpu_pid0 = proc_cpu_seconds(args.pid) if args.pid else 0.0
    t0 = time.monotonic() + 0.2
    t_end = t0 + args.seconds
    t0_ns = int(t0 * 1e9)
    during(t0, t_end)
    for conn in conns:
        conn.send({"go": t0, "end": t_end})
    time.sleep(max(0.0, t_end - time.monotonic()))
    # Drain: wait until every expected line arrived or nothing moved for a while.
    last_total, still_since = -1, time.monotonic()
    drain_deadline = time.monotonic() + args.drain
    while time.monotonic() < drain_deadline:
        for conn in conns:
            conn.send({"poll": True})
        total = sum(r["received"] for r in collect(conns, "poll"))
        if total != last_total:
            last_total, still_since = total, time.monotonic()
        elif time.monotonic() - still_since > 1.0:
            break
        time.sleep(0.1)
    cpu_server = (proc_cpu_seconds(args.pid) - cpu_pid0) if args.pid else None
    for conn in conns:
        conn.send({"report": True, "last": last})
    finals = collect(conns, "report")
    received = sum(r["received"] for r in finals)
    sent = sum(r["sent"] for r in finals)
    expected = sent * (n - 1)
    last_rx_ns = max(r["last_rx_ns"] for r in finals)
    span_s = max(1e-9, (last_rx_ns - t0_ns) / 1e9) if last_rx_ns > t0_ns else args.seconds
    lat = array.array("q")
    for r in finals:
        lat.frombytes(r["latencies"])
    ordered = sorted(lat)
    result: dict[str, Any] = {
        "scenario": "fanout",
        "clients": n,
        "joined": room.joined,
        "senders": room.senders,
        "seconds": args.seconds,
        "rate_target": args.rate or None,
        "window": None if args.rate else args.window,
        "procs": room.procs,
        "setup_s": room.setup_s,
        "sent": sent,
        "sent_per_s": round(sent / args.seconds, 1),
        "expected": expected,
        "received": received,
        "loss": round(1 - received / expected, 6) if expected else None,
        "deliveries_per_s": round(received / span_s, 1),
        "latency_samples": len(ordered),
        "p50_ms": round(percentile(ordered, 0.50) / 1e6, 3),
        "p99_ms": round(percentile(ordered, 0.99) / 1e6, 3),
        "max_ms": round(ordered[-1] / 1e6, 3) if ordered else None,
        "stalls": sum(r["stalls"] for r in finals),
        "lost_connections": sum(r["lost_connections"] for r in finals),
        "watch": room.watch,
        "watch_last_share": room.watch_last_share,
        **generator_load([r["cpu"] for r in finals], span_s),
    }
    if cpu_server is not None:
        result["server_cpu"] = round(cpu_server / span_s, 3)
        per = round(cpu_server * 1e9 / received, 1) if received else None
        result["server_ns_per_delivery"] = per
    return result


def run_fanout(args: argparse.Namespace) -> dict[str, Any]:
    room = start_room(args)
    try:
        return measure_window(room, args, True, lambda t0, t_end: None)
    finally:
        room.close()


# ------------------------------------------------------------------------------ idle


async def idle_async(args: argparse.Namespace) -> dict[str, Any]:
    prefix = args.nick_prefix or "i" + base36(os.getpid() % 1296)
    time.sleep(0.2)
    rss0 = proc_rss_kib(args.pid)
    t = time.monotonic()
    nicks = [f"{prefix}{base36(i)}" for i in range(args.connections)]
    clients = await open_registered(args.host, args.port, nicks, args.concurrency, args.pace)
    setup_s = time.monotonic() - t
    await asyncio.sleep(args.hold)  # let lazily freed buffers settle
    rss1 = proc_rss_kib(args.pid)
    alive = sum(1 for c in clients if not c.closed.done())
    await close_all(clients, timeout=10.0)
    per_conn = (rss1 - rss0) * 1024 / max(1, alive)
    return {
        "scenario": "idle",
        "connections": args.connections,
        "registered": alive,
        "setup_s": round(setup_s, 2),
        "rss_before_kib": rss0,
        "rss_after_kib": rss1,
        "bytes_per_connection": round(per_conn, 1),
    }


# ------------------------------------------------------------------------------ connect


async def connect_async(args: argparse.Namespace) -> dict[str, Any]:
    """C workers, each looping connect → NICK/USER → 001 → QUIT → server closes."""
    prefix = args.nick_prefix or "c" + base36(os.getpid() % 1296)
    done = 0
    failures = 0
    lat_ns: list[int] = []
    t0 = time.monotonic()
    t_end = t0 + args.seconds
    cpu_pid0 = proc_cpu_seconds(args.pid) if args.pid else 0.0
    cpu0 = own_cpu_seconds()

    async def worker(w: int) -> None:
        nonlocal done, failures
        i = 0
        while time.monotonic() < t_end and failures < 1000:
            i += 1
            start = time.monotonic_ns()
            try:
                c = await open_client(args.host, args.port, f"{prefix}{base36(w)}x{base36(i)}")
                await c.register()
                lat_ns.append(time.monotonic_ns() - start)
                c.send(b"QUIT\r\n")
                with contextlib.suppress(asyncio.TimeoutError):
                    # Let the server close first, so TIME_WAIT stays on its side.
                    await asyncio.wait_for(c.closed, 5.0)
                c.close()
                done += 1
            except (TimeoutError, OSError, ConnectionError):
                failures += 1
                await asyncio.sleep(0.01)

    await asyncio.gather(*(worker(w) for w in range(args.concurrency)))
    wall = time.monotonic() - t0
    ordered = sorted(lat_ns)
    result: dict[str, Any] = {
        "scenario": "connect",
        "concurrency": args.concurrency,
        "seconds": args.seconds,
        "registrations": done,
        "failures": failures,
        "registrations_per_s": round(done / wall, 1),
        "register_p50_ms": round(percentile(ordered, 0.5) / 1e6, 3),
        "register_p99_ms": round(percentile(ordered, 0.99) / 1e6, 3),
        **generator_load([own_cpu_seconds() - cpu0], wall),
    }
    if args.pid:
        result["server_cpu"] = round((proc_cpu_seconds(args.pid) - cpu_pid0) / wall, 3)
    return result


# ------------------------------------------------------------------------------ login


@dataclass
class StormSpec:
    """What the login-storm process does: W workers logging in until ``t_end``."""

    host: str
    port: int
    workers: int
    accounts: int
    account_prefix: str
    password: str
    nick_prefix: str
    t0: float
    t_end: float


async def login_storm(spec: StormSpec) -> dict[str, Any]:
    """W workers loop: connect, CAP LS/REQ sasl, AUTHENTICATE PLAIN, 903, CAP END, 001, QUIT.

    Worker w uses accounts w, w+W, w+2W ... (mod K), so no two workers share an account at
    the same moment. ``login`` latency runs from sending the credentials to the 903 (the
    password check in the server's thread pool, plus its queue); ``ready`` from the TCP
    connect to the 001.
    """
    login_ns: list[int] = []
    ready_ns: list[int] = []
    done = failed = errors = 0
    last_done = spec.t0
    delay = spec.t0 - time.monotonic()
    if delay > 0:
        await asyncio.sleep(delay)

    async def one(nick: str, account: str) -> bool:
        nonlocal last_done
        start = time.monotonic_ns()
        c = await open_client(spec.host, spec.port, nick)
        try:
            c.send(
                f"CAP LS 302\r\nNICK {nick}\r\nUSER b 0 * :bench\r\n"
                "CAP REQ :sasl\r\nAUTHENTICATE PLAIN\r\n".encode()
            )
            await asyncio.wait_for(c.sasl_prompt, STEP_TIMEOUT)
            sent = time.monotonic_ns()
            if not c.sasl_result.done():
                blob = f"\0{account}\0{spec.password}".encode()
                c.send(b"AUTHENTICATE " + base64.b64encode(blob) + b"\r\n")
            ok = await asyncio.wait_for(c.sasl_result, STEP_TIMEOUT)
            if ok:
                login_ns.append(time.monotonic_ns() - sent)
            c.send(b"CAP END\r\n")
            await asyncio.wait_for(c.welcomed, STEP_TIMEOUT)
            if ok:
                ready_ns.append(time.monotonic_ns() - start)
                last_done = time.monotonic()
            c.send(b"QUIT\r\n")
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(c.closed, 5.0)
            return ok
        finally:
            c.close()

    async def worker(w: int) -> None:
        nonlocal done, failed, errors
        i = w
        while time.monotonic() < spec.t_end and failed + errors < 1000:
            account = f"{spec.account_prefix}{i % spec.accounts}"
            nick = f"{spec.nick_prefix}{base36(w)}x{base36(i)}"
            i += spec.workers
            try:
                if await one(nick, account):
                    done += 1
                else:
                    failed += 1
                    await asyncio.sleep(0.01)
            except (TimeoutError, OSError, ConnectionError):
                errors += 1
                await asyncio.sleep(0.01)

    cpu0 = own_cpu_seconds()
    await asyncio.gather(*(worker(w) for w in range(spec.workers)))
    wall = max(1e-9, max(last_done, spec.t_end) - spec.t0)
    login_ns.sort()
    ready_ns.sort()
    return {
        "logins": done,
        "failed_logins": failed,
        "errors": errors,
        "logins_per_s": round(done / wall, 1),
        "login_p50_ms": round(percentile(login_ns, 0.5) / 1e6, 2),
        "login_p99_ms": round(percentile(login_ns, 0.99) / 1e6, 2),
        "ready_p50_ms": round(percentile(ready_ns, 0.5) / 1e6, 2),
        "ready_p99_ms": round(percentile(ready_ns, 0.99) / 1e6, 2),
        "storm_cpu": round((own_cpu_seconds() - cpu0) / wall, 3),
    }


def storm_entry(spec: StormSpec, ctrl: multiprocessing.connection.Connection) -> None:
    """Login-storm process entry point: one report on the pipe, then exit."""
    use_uvloop()
    try:
        ctrl.send(asyncio.run(login_storm(spec)))
    except Exception as err:
        with contextlib.suppress(OSError):
            ctrl.send({"error": repr(err)})
        raise


def run_login(args: argparse.Namespace) -> dict[str, Any]:
    """The latency room twice: alone (baseline), then during a SASL PLAIN login storm.

    The accounts ``<prefix>0`` .. ``<prefix>K-1`` with ``--password`` must exist before the
    server starts (``bench/compare.py`` creates them with the server's argon2 parameters).
    The storm runs in its own process (on the generator's CPU too), started with the second
    window's go order and stopping at its end, so both windows measure the same chat load.
    """
    if not 1 <= args.workers <= args.accounts:
        raise SystemExit("need 1 <= workers <= accounts")
    room = start_room(args)
    ctx = multiprocessing.get_context("fork")
    storm: list[Any] = []
    parent_end, child_end = ctx.Pipe()

    def start_storm(t0: float, t_end: float) -> None:
        spec = StormSpec(
            host=args.host,
            port=args.port,
            workers=args.workers,
            accounts=args.accounts,
            account_prefix=args.account_prefix,
            password=args.password,
            nick_prefix="l" + base36(os.getpid() % 1296),
            t0=t0,
            t_end=t_end,
        )
        p = ctx.Process(target=storm_entry, args=(spec, child_end), daemon=True)
        p.start()
        storm.append(p)

    try:
        baseline = measure_window(room, args, False, lambda t0, t_end: None)
        during = measure_window(room, args, True, start_storm)
        if not parent_end.poll(STEP_TIMEOUT * 2):
            raise RuntimeError("the login storm did not report in time")
        logins: dict[str, Any] = parent_end.recv()
        if "error" in logins:
            raise RuntimeError(f"login storm failed: {logins['error']}")
        if not logins["logins"]:
            raise RuntimeError(f"no login succeeded: {logins}")
    finally:
        room.close()
        for p in storm:
            p.join(timeout=15)
            if p.is_alive():
                p.kill()
                p.join(timeout=5)
    result: dict[str, Any] = {
        "scenario": "login",
        "workers": args.workers,
        "accounts": args.accounts,
        "seconds": args.seconds,
        "clients": args.clients,
        "rate_target": args.rate,
        **logins,
        "chat_p50_baseline_ms": baseline["p50_ms"],
        "chat_p99_baseline_ms": baseline["p99_ms"],
        "chat_max_baseline_ms": baseline["max_ms"],
        "chat_loss_baseline": baseline["loss"],
        "chat_p50_during_ms": during["p50_ms"],
        "chat_p99_during_ms": during["p99_ms"],
        "chat_max_during_ms": during["max_ms"],
        "chat_loss_during": during["loss"],
        "server_cpu_baseline": baseline.get("server_cpu"),
        "server_cpu_during": during.get("server_cpu"),
        "generator_cpu": during["generator_cpu"],
        "generator_limited": during["generator_limited"],
        "baseline": baseline,
        "during": during,
    }
    return result


# ------------------------------------------------------------------------------ CLI


def human(result: dict[str, Any]) -> str:
    sc = result["scenario"]
    if sc == "fanout":
        return (
            f"fanout: {result['clients']} members, {result['senders']} senders, "
            f"{result['sent_per_s']} msg/s sent -> {result['deliveries_per_s']:,} deliveries/s, "
            f"loss {result['loss']}, p50 {result['p50_ms']} ms, p99 {result['p99_ms']} ms, "
            f"generator CPU {result['generator_cpu']:.0%} over {result['procs']} process(es)"
            + (" (LIMITED: the server may be faster)" if result["generator_limited"] else "")
            + (f", server CPU {result['server_cpu']:.0%}" if "server_cpu" in result else "")
            + (
                f", {result['server_ns_per_delivery']} ns server CPU per delivery"
                if result.get("server_ns_per_delivery")
                else ""
            )
            + (f", watcher member {result['watch']}" if result["window"] else "")
        )
    if sc == "idle":
        return (
            f"idle: {result['registered']} registered connections, "
            f"{result['bytes_per_connection'] / 1024:.2f} KiB RSS each "
            f"({result['rss_before_kib']} -> {result['rss_after_kib']} KiB)"
        )
    if sc == "login":
        return (
            f"login: {result['logins_per_s']:,} SASL PLAIN logins/s with {result['workers']} "
            f"workers ({result['failed_logins']} failed, {result['errors']} errors), login p50 "
            f"{result['login_p50_ms']} ms p99 {result['login_p99_ms']} ms; chat p50/p99 "
            f"{result['chat_p50_baseline_ms']}/{result['chat_p99_baseline_ms']} ms alone, "
            f"{result['chat_p50_during_ms']}/{result['chat_p99_during_ms']} ms during the storm"
        )
    return (
        f"connect: {result['registrations_per_s']:,} registrations/s with "
        f"{result['concurrency']} workers ({result['failures']} failures), "
        f"p99 {result['register_p99_ms']} ms, generator CPU {result['generator_cpu']:.0%}"
    )


def port_list(text: str) -> list[int]:
    try:
        ports = [int(p) for p in text.split(",") if p]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a list of ports: {text!r}") from None
    if not ports or not all(0 < p < 65536 for p in ports):
        raise argparse.ArgumentTypeError(f"not a list of ports: {text!r}")
    return ports


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    sub = p.add_subparsers(dest="scenario", required=True)

    def common(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("--host", default="127.0.0.1", help="loopback address of the server")
        sp.add_argument("--port", type=int, required=True)
        sp.add_argument("--pid", type=int, help="server PID (for RSS and CPU readings)")
        sp.add_argument("--nick-prefix", help="nick prefix (default: derived from our PID)")
        sp.add_argument("--pace", type=float, default=500.0, help="new connections/s in setup")
        sp.add_argument("--tls", action="store_true", help="connect with TLS (not verified)")

    def room(sp: argparse.ArgumentParser, clients: int, rate: float, samples: int) -> None:
        sp.add_argument("--clients", type=int, default=clients)
        sp.add_argument("--senders", type=int, default=10)
        sp.add_argument("--seconds", type=float, default=10.0, help="per measured window")
        sp.add_argument("--rate", type=float, default=rate, help="total msg/s (0: closed loop)")
        sp.add_argument("--window", type=int, default=32, help="closed loop: unseen msgs/sender")
        sp.add_argument("--samples", type=int, default=samples, help="members measuring latency")
        sp.add_argument("--size", type=int, default=40, help="padding bytes per message text")
        sp.add_argument("--procs", type=int, default=1, help="generator processes")
        sp.add_argument(
            "--ports",
            type=port_list,
            help="several servers of one network, comma-separated: member i connects to "
            "the (i mod N)-th (default: every member to --port)",
        )
        sp.add_argument("--drain", type=float, default=10.0, help="max s to wait for stragglers")
        sp.add_argument(
            "--watch",
            choices=("last", "first"),
            default="last",
            help="closed loop: pace on the member receiving lines last (probed) or member 0",
        )

    f = sub.add_parser("fanout", help="one room, S senders, everybody receives")
    common(f)
    room(f, 500, 0.0, 16)

    i = sub.add_parser("idle", help="K registered idle connections; server RSS per connection")
    common(i)
    i.add_argument("--connections", type=int, default=10_000)
    i.add_argument("--concurrency", type=int, default=200)
    i.add_argument("--hold", type=float, default=2.0, help="seconds idle before reading RSS")

    c = sub.add_parser("connect", help="registrations/s: connect, NICK/USER, 001, QUIT")
    common(c)
    c.add_argument("--concurrency", type=int, default=50)
    c.add_argument("--seconds", type=float, default=10.0)

    lg = sub.add_parser("login", help="chat latency alone vs during a SASL PLAIN login storm")
    common(lg)
    room(lg, 200, 200.0, 50)
    lg.add_argument("--workers", type=int, default=8, help="concurrent login loops")
    lg.add_argument("--accounts", type=int, default=200, help="accounts PREFIX0..PREFIX<K-1>")
    lg.add_argument("--account-prefix", default="acct")
    lg.add_argument("--password", default="bench-password", help="the accounts' password")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.host not in ("127.0.0.1", "localhost", "::1") and not args.host.startswith("127."):
        raise SystemExit("loadgen only targets loopback addresses")
    if args.scenario == "idle" and not args.pid:
        raise SystemExit("idle needs --pid (the server's PID, for its RSS)")
    raise_nofile(65536)
    if args.tls:
        global TLS
        TLS = ssl.create_default_context()
        TLS.check_hostname = False
        TLS.verify_mode = ssl.CERT_NONE
    loop_name = use_uvloop()
    if args.scenario == "fanout":
        result = run_fanout(args)
    elif args.scenario == "idle":
        result = asyncio.run(idle_async(args))
    elif args.scenario == "connect":
        result = asyncio.run(connect_async(args))
    else:
        result = run_login(args)
    result["loop"] = loop_name
    print(human(result), file=sys.stderr)
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
