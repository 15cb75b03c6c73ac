"""Limits the shell enforces on real sockets: flood, slow readers, overlong lines."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from chatroom.server.core.settings import Limits
from tests.realserver import ServerThread, make_config

_open: list[socket.socket] = []


@pytest.fixture(autouse=True)
def _close_sockets() -> Iterator[None]:
    yield
    while _open:
        _open.pop().close()


def _raw(port: int, nick: str) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    _open.append(sock)
    sock.sendall(f"NICK {nick}\r\nUSER {nick} 0 * :{nick}\r\n".encode())
    _read_until(sock, b" 376 ")
    return sock


def _read_until(sock: socket.socket, needle: bytes, limit: float = 5.0) -> bytes:
    data = b""
    deadline = time.monotonic() + limit
    while needle not in data:
        if time.monotonic() > deadline:
            raise AssertionError(f"never saw {needle!r}; got {data[-300:]!r}")
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            break
        if not chunk:
            break
        data += chunk
    return data


def test_flooding_client_is_disconnected_with_excess_flood(tmp_path: Path) -> None:
    limits = Limits(flood_burst=5, flood_per_second=1.0, flood_backlog=10)
    server = ServerThread(make_config(tmp_path, limits)).start()
    try:
        sock = _raw(server.port, "flooder")
        sock.sendall(b"PING x\r\n" * 200)
        data = _read_until(sock, b"Excess Flood")
        assert b"ERROR" in data
    finally:
        server.stop()


def test_client_within_its_burst_is_served_at_once(tmp_path: Path) -> None:
    limits = Limits(flood_burst=10, flood_per_second=1.0)
    server = ServerThread(make_config(tmp_path, limits)).start()
    try:
        sock = _raw(server.port, "polite")
        time.sleep(0.2)
        sock.sendall(b"".join(f"PING t{i}\r\n".encode() for i in range(5)))
        data = _read_until(sock, b"t4")
        assert data.count(b"PONG") == 5
    finally:
        server.stop()


def test_client_that_stops_reading_is_dropped_and_others_go_on(tmp_path: Path) -> None:
    config = replace(make_config(tmp_path, Limits(flood_per_second=0)), sendq_bytes=64 * 1024)
    server = ServerThread(config).start()
    try:
        slow = _raw(server.port, "slow")
        slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        talker = _raw(server.port, "talker")
        for s in (slow, talker):
            s.sendall(b"JOIN #lobby\r\n")
        _read_until(talker, b"366")
        assert server.shell is not None
        payload = b"PRIVMSG #lobby :" + b"x" * 400 + b"\r\n"
        deadline = time.monotonic() + 10
        while server.shell.world.nicks.find("slow") is not None:
            assert time.monotonic() < deadline, "slow reader was never dropped"
            talker.sendall(payload * 20)
            time.sleep(0.01)
        talker.sendall(b"PING still-here\r\n")
        assert b"still-here" in _read_until(talker, b"still-here")
    finally:
        server.stop()


def test_overlong_line_gets_417_over_tcp(tmp_path: Path) -> None:
    server = ServerThread(make_config(tmp_path)).start()
    try:
        sock = _raw(server.port, "longy")
        sock.sendall(b"PRIVMSG #lobby :" + b"y" * 20000 + b"\r\nPING after\r\n")
        data = _read_until(sock, b"after")
        assert b" 417 " in data
    finally:
        server.stop()
