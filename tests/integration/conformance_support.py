"""Shared pieces of the classic-protocol conformance tests (``test_conformance_*.py``).

Each check drives a real server over a raw socket, as the irctest suite does against
other servers: send lines, then a ``PING`` with a fresh token, and take every line before
its ``PONG`` as the answer (replies come in order, docs/commands.md). Messages are parsed
with ``chatroom.irc.message.parse`` so tests compare commands and parameters, not text.
"""

from __future__ import annotations

import itertools
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from chatroom.irc.message import Message, parse
from chatroom.server.core.settings import Limits
from tests.realserver import ServerThread, make_config

_tokens = itertools.count(1)


class Peer:
    """One raw IRC connection that can ask and wait for what it is sent."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.buffer = b""
        self.nick = "*"

    def send(self, *lines: str) -> None:
        """All ``lines`` in one write, as a pipelining client sends them."""
        self.sock.sendall("".join(line + "\r\n" for line in lines).encode())

    def send_bytes(self, data: bytes) -> None:
        self.sock.sendall(data)

    def next_line(self, limit: float = 10.0) -> str:
        """The next whole line, or AssertionError when none comes (or the server closed)."""
        deadline = time.monotonic() + limit
        while b"\r\n" not in self.buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"{self.nick}: no line within {limit}s")
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except TimeoutError:
                continue
            if not chunk:
                raise ConnectionClosedError(f"{self.nick}: closed; unread {self.buffer!r}")
            self.buffer += chunk
        line, _, self.buffer = self.buffer.partition(b"\r\n")
        return line.decode("utf-8", "replace")

    def until(self, *commands: str, limit: float = 10.0) -> list[Message]:
        """Messages up to and including the first whose command is one of ``commands``."""
        seen: list[Message] = []
        while True:
            msg = parse(self.next_line(limit))
            seen.append(msg)
            if msg.command in commands:
                return seen

    def ask(self, *lines: str) -> list[Message]:
        """Send ``lines`` and a PING; every message before its PONG (the PONG left out)."""
        token = f"sync{next(_tokens)}"
        self.send(*lines, f"PING {token}")
        seen: list[Message] = []
        while True:
            msg = parse(self.next_line())
            if msg.command == "PONG" and msg.params[-1:] == (token,):
                return seen
            seen.append(msg)

    def closed_after(self, limit: float = 5.0) -> list[Message]:
        """What arrives until the server closes the connection (fails if it stays open)."""
        seen: list[Message] = []
        try:
            while True:
                seen.append(parse(self.next_line(limit)))
        except ConnectionClosedError:
            return seen

    def close(self) -> None:
        self.sock.close()


class ConnectionClosedError(AssertionError):
    """The server closed the connection while a line was awaited."""


def commands(messages: list[Message]) -> list[str]:
    return [m.command for m in messages]


def only(messages: list[Message], command: str) -> list[Message]:
    return [m for m in messages if m.command == command]


def one(messages: list[Message], command: str) -> Message:
    found = only(messages, command)
    assert len(found) == 1, (
        f"expected one {command}, got {[(m.command, m.params) for m in messages]}"
    )
    return found[0]


def names_in(messages: list[Message]) -> set[str]:
    """Every nick (with its prefix) in the 353 replies among ``messages``."""
    return {nick for m in only(messages, "353") for nick in m.params[-1].split()}


class Network:
    """A running server and the peers a test made on it (closed at teardown)."""

    def __init__(self, server: ServerThread) -> None:
        self.server = server
        self.port = server.port
        self.peers: list[Peer] = []

    def raw(self) -> Peer:
        """A connection that has sent nothing yet."""
        peer = Peer(self.port)
        self.peers.append(peer)
        return peer

    def user(self, nick: str, username: str | None = None, realname: str = "Real Name") -> Peer:
        """A registered connection, its welcome burst read."""
        peer = self.raw()
        peer.nick = nick
        peer.send(f"NICK {nick}", f"USER {username or nick} 0 * :{realname}")
        peer.until("376", "422")
        return peer

    def close(self) -> None:
        for peer in self.peers:
            peer.close()


def start_server(tmp_path: Path, **core: object) -> ServerThread:
    """A server with flood control off (the tests pipeline many lines) and no permanent
    room, so that listings start empty; ``core`` replaces more core settings."""
    config = make_config(tmp_path, Limits(flood_per_second=0))
    settings = replace(config.core, permanent_channels=(), **core)  # type: ignore[arg-type]
    return ServerThread(replace(config, core=settings)).start()


@contextmanager
def serving(server: ServerThread) -> Iterator[Network]:
    """A ``Network`` on the started ``server``; at the end its peers close, then the server
    stops (the shared body of every conformance file's fixtures)."""
    network = Network(server)
    try:
        yield network
    finally:
        network.close()
        server.stop()
