"""Real servers on 127.0.0.1 port 0 for tests that need sockets, and a real IRC client.

The server runs in a background thread with its own event loop (the same ``Shell`` that
``chatroom serve`` runs); the clients are the ``irc`` library from PyPI, which nobody here
wrote, so the tests check what an ordinary client sees.
"""

from __future__ import annotations

import asyncio
import atexit
import os
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import irc.client
import irc.connection

from chatroom import config as cfg
from chatroom.server.core.settings import Limits
from chatroom.server.net.runner import run
from chatroom.server.net.shell import Shell
from tests.postgres_server import TempPostgres


class ServerThread:
    """One ChatRoom server on an ephemeral port, stopped at the end of the test."""

    def __init__(self, config: cfg.Config) -> None:
        self.config = config
        self.port = 0
        self.http_port = 0
        self.tls_port = 0
        self.shell: Shell | None = None
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        # The same runner as `chatroom serve` (uvloop when importable), so tests see its loop.
        self._thread = threading.Thread(target=lambda: run(self._main()), daemon=True)

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        self.shell = Shell(self.config)
        bound = await self.shell.start()
        self.port = next(port for kind, _, port in bound if kind == "irc")
        self.http_port = next((port for kind, _, port in bound if kind in ("http", "https")), 0)
        self.tls_port = next((port for kind, _, port in bound if kind == "tls"), 0)
        self._ready.set()
        await self._stop.wait()
        await self.shell.shutdown()

    def start(self) -> ServerThread:
        self._thread.start()
        assert self._ready.wait(10), "server did not start"
        return self

    @property
    def loop(self) -> asyncio.AbstractEventLoop | None:
        """The server's event loop, for calling into the shell with call_soon_threadsafe."""
        return self._loop

    def drop(self, nick: str) -> None:
        """Cuts ``nick``'s connections from the server side, as a network failure would."""
        shell, loop = self.shell, self._loop
        assert shell is not None
        assert loop is not None
        for conn in list(shell.connections.values()):
            if conn.session and conn.session.nick == nick:
                loop.call_soon_threadsafe(conn.abort)

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)


class Client:
    """A real ``irc`` library client that records every event it sees."""

    def __init__(
        self,
        port: int,
        nick: str,
        password: str | None = None,
        *,
        tls: ssl.SSLContext | None = None,
        sasl_login: str | None = None,
    ) -> None:
        self.reactor = irc.client.Reactor()
        self.events: list[irc.client.Event] = []
        self.reactor.add_global_handler("all_events", self._record, -10)
        factory = irc.connection.Factory()
        if tls is not None:
            factory = irc.connection.Factory(
                wrapper=lambda sock: tls.wrap_socket(sock, server_hostname="localhost")
            )
        self.conn = self.reactor.server().connect(
            "127.0.0.1",
            port,
            nick,
            password=password,
            sasl_login=sasl_login,
            connect_factory=factory,
        )
        self.nick = nick

    def raw_lines(self) -> list[str]:
        """Every line the server sent, as text (for replies the library has no event for)."""
        return [e.arguments[0] for e in self.events if e.type == "all_raw_messages"]

    def _record(self, connection: object, event: irc.client.Event) -> None:
        self.events.append(event)

    def pump(self, seconds: float = 0.05) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.reactor.process_once(0.01)

    def wait_for(
        self, predicate: Callable[[irc.client.Event], bool], timeout: float = 15.0
    ) -> irc.client.Event:
        """Process events until one matches; fails the test with what was seen instead."""
        seen = 0
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for event in self.events[seen:]:
                if predicate(event):
                    return event
            seen = len(self.events)
            self.reactor.process_once(0.02)
        kinds = [(e.type, e.arguments) for e in self.events[-15:]]
        raise AssertionError(f"{self.nick}: no matching event within {timeout}s; last: {kinds}")

    def wait_type(self, kind: str, timeout: float = 15.0) -> irc.client.Event:
        return self.wait_for(lambda e: e.type == kind, timeout)

    def close(self) -> None:
        if self.conn.is_connected():
            self.conn.disconnect()
        self.reactor.process_once(0)


class Wire:
    """A raw IRC connection that reads up to a PING barrier (over TLS with ``tls``)."""

    def __init__(self, port: int, tls: ssl.SSLContext | None = None) -> None:
        sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        if tls is not None:
            sock = tls.wrap_socket(sock, server_hostname="localhost")
        self.sock = sock
        self.buffer = b""

    def write(self, *lines: str) -> None:
        """All ``lines`` in one write, as a pipelining client sends them."""
        self.sock.sendall("".join(line + "\r\n" for line in lines).encode())

    def until(self, needle: str | tuple[str, ...], limit: float = 10.0) -> list[str]:
        """Lines up to and including the first one containing ``needle`` (or any of a
        tuple of them: a reply that may be one numeric or another)."""
        needles = (needle,) if isinstance(needle, str) else needle
        deadline = time.monotonic() + limit
        while True:
            text = self.buffer.decode(errors="replace")
            lines = text.split("\r\n")
            for i, line in enumerate(lines[:-1]):
                if any(each in line for each in needles):
                    self.buffer = "\r\n".join(lines[i + 1 :]).encode()
                    return lines[: i + 1]
            if time.monotonic() > deadline:
                raise AssertionError(f"never saw {needle!r}; got {lines[-10:]}")
            self.sock.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                chunk = self.sock.recv(65536)
            except TimeoutError:
                continue  # the deadline check above fails with what did arrive
            if not chunk:
                raise AssertionError(f"closed before {needle!r}; got {lines[-10:]}")
            self.buffer += chunk

    def quiet_for(self, seconds: float) -> bool:
        """True if nothing arrived for ``seconds``."""
        self.sock.settimeout(seconds)
        try:
            chunk = self.sock.recv(65536)
        except TimeoutError:
            return True
        self.buffer += chunk
        return not chunk

    def close(self) -> None:
        self.sock.close()


def guest_wire(port: int, wires: list[Wire], nick: str, *caps: str) -> Wire:
    """A registered guest on a raw connection (``caps`` requested first), kept in ``wires``
    so the test's ``wires`` fixture closes it."""
    wire = Wire(port)
    wires.append(wire)
    if caps:
        wire.write("CAP LS 302", f"CAP REQ :{' '.join(caps)}", "CAP END")
    wire.write(f"NICK {nick}", f"USER {nick} 0 * :{nick}")
    wire.until(" 376 ")
    return wire


def make_config(tmp_path: Path, limits: Limits | None = None, store_url: str = "") -> cfg.Config:
    """Defaults, an ephemeral port and a fresh data dir; ``limits`` replaces the core's;
    ``store_url`` puts the store elsewhere (PostgreSQL)."""
    flags = {
        "listen.port": 0,
        "listen.http_port": 0,
        "listen.tls_port": 0,
        "server.data_dir": str(tmp_path / "data"),
        "store.url": store_url or _store_for_every_test(tmp_path),
    }
    config = cfg.load(env={}, flags=flags)
    if limits is not None:
        config = replace(config, core=replace(config.core, limits=limits))
    return config


_cluster: list[TempPostgres] = []
_databases: dict[Path, str] = {}


def _store_for_every_test(tmp_path: Path) -> str:
    """``CHATROOM_TEST_STORE=postgres`` runs every server the tests start on PostgreSQL (a
    database per test directory, so a restart finds its data, in one throwaway cluster):
    the integration suite on the other backend. Unset, the SQLite files in the data dir.
    Tests that open the SQLite files themselves (to inspect or lock them) fail there."""
    if os.environ.get("CHATROOM_TEST_STORE", "sqlite") != "postgres":
        return ""
    if not _cluster:
        _cluster.append(TempPostgres())
        atexit.register(_cluster[0].stop)
    if tmp_path not in _databases:
        _databases[tmp_path] = _cluster[0].new_database()
    return _databases[tmp_path]
