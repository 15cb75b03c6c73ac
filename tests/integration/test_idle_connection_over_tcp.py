"""An idle TCP connection between reads: no framer, no backlog, no cached socket object.

The real server (uvloop, as `chatroom serve` runs it) and raw sockets. A read that ends
mid-line gives the connection a framer of its own until the line is complete; uvloop sets
TCP_NODELAY itself, so the server never asks it for the socket (which would stay cached
on every connection).
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Callable
from typing import TypeVar

from chatroom.server.net.connection import Connection, IrcConnection
from chatroom.server.net.shell import Shell
from tests.realserver import ServerThread, Wire

T = TypeVar("T")


def _on_loop(server: ServerThread, fn: Callable[[Shell], T]) -> T:
    """Run ``fn(shell)`` on the server's event loop and return what it returned."""
    assert server.loop is not None
    assert server.shell is not None
    shell = server.shell

    async def call() -> T:
        return fn(shell)

    return asyncio.run_coroutine_threadsafe(call(), server.loop).result(10)


def _connection_of(shell: Shell, nick: str) -> Connection:
    for conn in shell.connections.values():
        if conn.session is not None and conn.session.nick == nick:
            return conn
    raise AssertionError(f"no connection for {nick}")


def _registered(server: ServerThread, wires: list[Wire], nick: str) -> Wire:
    wire = Wire(server.port)
    wires.append(wire)
    wire.write(f"NICK {nick}", f"USER {nick} 0 * :{nick}")
    wire.until(" 001 ")
    wire.write("PING :barrier")
    wire.until("barrier")
    return wire


def test_an_idle_connection_has_no_framer_or_backlog_of_its_own(
    server: ServerThread, wires: list[Wire]
) -> None:
    _registered(server, wires, "sleeper")

    def state(shell: Shell) -> tuple[object, object, str]:
        conn = _connection_of(shell, "sleeper")
        assert isinstance(conn, IrcConnection)
        return conn.framer, conn.backlog, type(conn.transport).__module__

    framer, backlog, transport_module = _on_loop(server, state)
    assert framer is None
    assert backlog is None
    assert transport_module.startswith("uvloop")  # what the next test relies on


def test_a_read_that_ends_mid_line_keeps_the_partial_line_until_its_end(
    server: ServerThread, wires: list[Wire]
) -> None:
    wire = _registered(server, wires, "halves")
    wire.sock.sendall(b"PING :first-")

    def carried(shell: Shell) -> int:
        conn = _connection_of(shell, "halves")
        assert isinstance(conn, IrcConnection)
        return 0 if conn.framer is None else conn.framer.pending

    deadline = time.monotonic() + 10
    while _on_loop(server, carried) == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert _on_loop(server, carried) == len(b"PING :first-")
    wire.sock.sendall(b"half\r\n")
    assert any("first-half" in line for line in wire.until("first-half"))
    assert _on_loop(server, carried) == 0
    # Another connection's complete lines are unaffected meanwhile (the shared framer).
    other = _registered(server, wires, "whole")
    other.write("PING :whole-line")
    other.until("whole-line")


def test_uvloop_connections_still_have_tcp_nodelay(server: ServerThread, wires: list[Wire]) -> None:
    _registered(server, wires, "nagle")

    def nodelay(shell: Shell) -> int:
        conn = _connection_of(shell, "nagle")
        assert isinstance(conn, IrcConnection)
        assert conn.transport is not None
        sock = conn.transport.get_extra_info("socket")
        return int(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))

    assert _on_loop(server, nodelay) != 0
