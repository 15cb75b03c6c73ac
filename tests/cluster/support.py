"""A ChatRoom network for the cluster tests: several ``chatroom serve`` processes (nodes)
sharing one PostgreSQL store and one Redis, and raw-line IRC helpers to drive them.

Each node is a real subprocess (``tests/serve_process.py``) with its own data directory
and output files, so a test can SIGKILL one as a crash would; the network stops the rest
at the end. Accounts are made with the real ``chatroom admin create --store URL``.
"""

from __future__ import annotations

import os
import re
import secrets
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

from tests.realserver import Wire
from tests.redis_server import TempRedis
from tests.serve_process import CHEAP_ARGON2, ServeProcess

PASSWORD = "s3cret-enough"

# Every test client comes from 127.0.0.1, and a cluster counts per address network-wide:
# the per-address admission limits and flood control would throttle the tests themselves.
NODE_ENV = {
    **CHEAP_ARGON2,
    "CHATROOM_LIMITS_CONNECTIONS_PER_ADDRESS": "1000",
    "CHATROOM_LIMITS_CONNECTS_PER_ADDRESS_PER_MINUTE": "1000",
    "CHATROOM_LIMITS_FLOOD_PER_SECOND": "0",
}


def _absolute_python_path() -> str:
    """PYTHONPATH as the tests got it (``src`` first), valid from any directory."""
    parts = os.environ.get("PYTHONPATH", "").split(os.pathsep)
    return os.pathsep.join(str(Path(part).resolve()) for part in parts if part)


class Node:
    """One ``chatroom serve --cluster ... --node NAME`` of a ``Network``."""

    def __init__(self, name: str, process: ServeProcess) -> None:
        self.name = name
        self.process = process

    @property
    def port(self) -> int:
        """Its plain IRC port on 127.0.0.1."""
        return self.process.irc_port

    @property
    def alive(self) -> bool:
        return self.process.proc.poll() is None

    def kill(self) -> None:
        """SIGKILL, as a crash or the OOM killer would end it: no goodbye to anyone."""
        self.process.proc.send_signal(signal.SIGKILL)
        self.process.proc.wait(timeout=15)

    def stderr(self) -> str:
        return self.process.stderr()

    def stdout(self) -> str:
        return self.process.stdout()


class Network:
    """Nodes started on demand; ``stop()`` ends every one still running."""

    def __init__(
        self,
        root: Path,
        redis: TempRedis,
        store_url: str,
        *,
        cluster: bool = True,
        env: dict[str, str] | None = None,
    ) -> None:
        """``cluster=False`` leaves ``--cluster``/``--node`` out: separate servers on one
        store, to check the rig itself against today's ``chatroom serve``."""
        self.root = root
        self.redis = redis
        self.store_url = store_url
        self.cluster = cluster
        self.env = {
            **NODE_ENV,
            "CHATROOM_CLUSTER_SECRET": secrets.token_hex(32),  # one network, one secret
            "PYTHONPATH": _absolute_python_path(),
            **(env or {}),
        }
        self.nodes: dict[str, Node] = {}
        # A node's own way to Redis, if not the direct one (a relay a test can cut).
        self.redis_urls: dict[str, str] = {}

    @property
    def redis_url(self) -> str:
        return self.redis.url(0)

    def __getitem__(self, name: str) -> Node:
        return self.nodes[name]

    def start(self, *names: str) -> list[Node]:
        """Start the named nodes side by side and wait until each listens; a node that
        fails is named in the error with the end of its stderr."""
        starting: list[tuple[str, ServeProcess]] = []
        for name in names:
            assert name not in self.nodes, f"node {name} already runs"
            args: tuple[str, ...] = ("--store", self.store_url)
            if self.cluster:
                args += ("--cluster", self.redis_urls.get(name, self.redis_url), "--node", name)
            process = ServeProcess(self.root / name, env=self.env, args=args, wait=False)
            starting.append((name, process))
        failures: list[str] = []
        for name, process in starting:
            try:
                self.nodes[name] = Node(name, process.ready())
            except AssertionError as error:
                failures.append(f"node {name} did not start: {error}")
        if failures:
            raise AssertionError("\n".join(failures))
        return [self.nodes[name] for name in names]

    def restart(self, name: str) -> Node:
        """Stop the node cleanly (SIGTERM, as systemd does) and start it again: the
        same name, a new incarnation."""
        self.nodes.pop(name).process.stop()
        (node,) = self.start(name)
        return node

    def _cli(self, *args: str, stdin: str = "") -> str:
        """``chatroom ARGS`` as an administrator runs it; its stdout, or an error with
        its stderr."""
        done = subprocess.run(
            [sys.executable, "-m", "chatroom", *args],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=60,
            cwd=self.root,
            env={**os.environ, **self.env},
            check=False,
        )
        if done.returncode != 0:
            raise AssertionError(
                f"chatroom {' '.join(args)} failed ({done.returncode}): {done.stderr[-2000:]}"
            )
        return done.stdout

    def create_account(self, name: str, *, oper: bool = False) -> None:
        """An account with ``PASSWORD`` (``oper``: with the operator role ``oper``)."""
        extra = ("--oper",) if oper else ()
        self._cli("admin", "create", name, *extra, "--password-stdin", "--store",
                  self.store_url, stdin=PASSWORD + "\n")  # fmt: skip

    def listed_nodes(self) -> dict[str, str]:
        """``chatroom admin nodes --cluster URL``: each live node's line, by node name."""
        out = self._cli("admin", "nodes", "--cluster", self.redis_url)
        return {line.split()[0]: line for line in out.splitlines() if line.strip()}

    def logs(self, tail: int = 3000) -> str:
        """The end of every node's stderr, for a failure report."""
        return "\n".join(
            f"--- node {name} ({'running' if node.alive else 'ended'}) stderr:\n"
            f"{node.stderr()[-tail:]}"
            for name, node in self.nodes.items()
        )

    def stop(self) -> None:
        """Always safe: SIGTERM to every node at once, then wait for each."""
        for node in self.nodes.values():
            if node.alive:
                node.process.proc.send_signal(signal.SIGTERM)
        for node in self.nodes.values():
            node.process.stop()


# Raw IRC lines over a ``Wire``.


def guest(port: int, wires: list[Wire], nick: str, *caps: str) -> Wire:
    """A registered guest (``caps`` requested first); kept in ``wires`` to be closed."""
    wire = Wire(port)
    wires.append(wire)
    if caps:
        wire.write("CAP LS 302", f"CAP REQ :{' '.join(caps)}", "CAP END")
    wire.write(f"NICK {nick}", f"USER {nick} 0 * :{nick} here")
    lines = wire.until((" 001 ", " 433 ", "ERROR"))
    assert " 001 " in lines[-1], f"{nick} was not welcomed: {lines[-5:]}"
    wire.until(" 376 ")
    return wire


def login(port: int, wires: list[Wire], account: str, nick: str = "", *caps: str) -> Wire:
    """A connection logged in to ``account`` (``PASS account:password``) as ``nick``
    (the account name by default)."""
    nick = nick or account
    wire = Wire(port)
    wires.append(wire)
    if caps:
        wire.write("CAP LS 302", f"CAP REQ :{' '.join(caps)}", "CAP END")
    wire.write(f"PASS {account}:{PASSWORD}", f"NICK {nick}", f"USER {nick} 0 * :{nick} here")
    lines = wire.until((" 001 ", " 433 ", "ERROR"))
    assert " 001 " in lines[-1], f"{account} was not welcomed: {lines[-5:]}"
    wire.until(" 376 ")
    return wire


def barrier(wire: Wire, token: str = "barrier") -> list[str]:
    """Everything the server sent this connection before it answered a PING."""
    wire.write(f"PING {token}")
    return wire.until("PONG")


def join(wire: Wire, room: str) -> list[str]:
    """JOIN and the whole answer (topic, NAMES) up to its end."""
    wire.write(f"JOIN {room}")
    return wire.until(" 366 ")


def names(wire: Wire, room: str) -> set[str]:
    """NAMES of ``room`` as this connection's node answers it (with @/+ prefixes)."""
    wire.write(f"NAMES {room}")
    found: set[str] = set()
    for line in wire.until(" 366 "):
        if " 353 " in line:
            found.update(trailing(line).split())
    return found


def eventually(check: Callable[[], bool], what: str, limit: float = 10.0) -> None:
    """Poll ``check`` until it holds: for state that converges (NAMES on another node
    after a change, a listing after a heartbeat), never for ordered deliveries."""
    deadline = time.monotonic() + limit
    while not check():
        assert time.monotonic() < deadline, f"never happened within {limit}s: {what}"
        time.sleep(0.1)


def closed(wire: Wire, limit: float) -> list[str]:
    """Read until the server closes the connection; the lines it sent until then."""
    deadline = time.monotonic() + limit
    while True:
        left = deadline - time.monotonic()
        assert left > 0, f"still open after {limit}s: {wire.buffer[-500:]!r}"
        wire.sock.settimeout(left)
        try:
            chunk = wire.sock.recv(65536)
        except ConnectionResetError:
            chunk = b""
        except TimeoutError:
            continue
        if not chunk:
            return wire.buffer.decode(errors="replace").split("\r\n")
        wire.buffer += chunk


def tags(line: str) -> dict[str, str]:
    """The IRCv3 tags of a raw line (values left escaped)."""
    if not line.startswith("@"):
        return {}
    found: dict[str, str] = {}
    for item in line[1:].split(" ", 1)[0].split(";"):
        key, _, value = item.partition("=")
        found[key] = value
    return found


def numeric(lines: list[str], code: str) -> list[str]:
    """The parameters of the lines with numeric ``code`` after its target (the requester):
    what two requesters on two nodes should both be told."""
    pattern = re.compile(rf"^(?:@\S+ )?:\S+ {code} \S+ (.*)$")
    return [m.group(1) for line in lines if (m := pattern.match(line))]


def source(line: str) -> str:
    """The nick (or server name) a raw line comes from; "" for none."""
    if line.startswith("@"):
        line = line.split(" ", 1)[1] if " " in line else ""
    if not line.startswith(":"):
        return ""
    return line[1:].split(" ", 1)[0].split("!", 1)[0]


def heard(wire: Wire, nick: str, text: str, limit: float = 10.0) -> str:
    """The first line from ``nick`` that contains ``text`` (``" PART #room"``), reading
    past any others; fails with what arrived instead."""
    deadline = time.monotonic() + limit
    while True:
        line = wire.until(text, max(0.01, deadline - time.monotonic()))[-1]
        if source(line).lower() == nick.lower():
            return line


def trailing(line: str) -> str:
    """The last parameter of a raw line (the text of a PRIVMSG, the names of a 353)."""
    if line.startswith("@"):
        line = line.split(" ", 1)[1] if " " in line else ""
    if line.startswith(":"):
        line = line.split(" ", 1)[1] if " " in line else ""
    if line.startswith(":"):
        return line[1:]
    return line.split(" :", 1)[1] if " :" in line else line.rsplit(" ", 1)[-1]


def metric(network: Network, node: str, name: str) -> float:
    """One figure of a node's ``/metrics``."""
    process = network[node].process
    url = f"{process.web_scheme}://127.0.0.1:{process.web_port}/metrics"
    with urllib.request.urlopen(url, timeout=10) as answer:
        text = answer.read().decode()
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError(f"{name} not in /metrics of node {node}")
