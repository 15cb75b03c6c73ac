"""Raw IRC lines over real sockets, for what a client library would hide: TCP and WebSocket.

``TcpLines`` and ``WsLines`` have the same small interface (``send``, ``wait_for``,
``lines``, ``raw``), so a test can run once per transport. ``raw`` keeps each line's exact
bytes (without CRLF) for tests that measure lengths.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import threading
import time
from collections.abc import Callable
from typing import Protocol

import aiohttp

Match = Callable[[str], bool]


class Lines(Protocol):
    nick: str
    lines: list[str]
    raw: list[bytes]

    def send(self, *lines: str) -> None: ...

    def wait_for(self, match: Match, timeout: float = 10.0) -> str: ...

    def close(self) -> None: ...


def contains(text: str) -> Match:
    return lambda line: text in line


def register(client: Lines, caps: str = "", password: str | None = None) -> None:
    """CAP negotiation (when ``caps``), optional PASS, NICK and USER; waits for 001."""
    lines = []
    if caps:
        lines += ["CAP LS 302", f"CAP REQ :{caps}"]
    if password is not None:
        lines.append(f"PASS {client.nick}:{password}")
    lines += [f"NICK {client.nick}", f"USER {client.nick} 0 * :{client.nick}"]
    if caps:
        lines.append("CAP END")
    client.send(*lines)
    client.wait_for(contains(f" 001 {client.nick} "))


def body_size(raw: bytes) -> int:
    """Bytes of a line outside its tags, with the CRLF it had on the wire."""
    if raw.startswith(b"@"):
        raw = raw[raw.index(b" ") + 1 :]
    return len(raw) + 2


class TcpLines:
    """A bare TCP IRC client that answers PINGs and keeps every line it read."""

    def __init__(self, port: int, nick: str) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.nick = nick
        self.lines: list[str] = []
        self.raw: list[bytes] = []
        self._buffer = b""

    def send(self, *lines: str) -> None:
        self.sock.sendall(b"".join(line.encode() + b"\r\n" for line in lines))

    def wait_for(self, match: Match, timeout: float = 10.0) -> str:
        seen = 0
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.lines[seen:]:
                if match(line):
                    return line
            seen = len(self.lines)
            self.sock.settimeout(max(0.02, deadline - time.monotonic()))
            try:
                data = self.sock.recv(65536)
            except TimeoutError:
                continue
            if not data:
                break
            *complete, self._buffer = (self._buffer + data).split(b"\r\n")
            for raw in complete:
                self._keep(raw)
        raise AssertionError(f"{self.nick}: no matching line; last: {self.lines[-8:]}")

    def _keep(self, raw: bytes) -> None:
        line = raw.decode("utf-8", "replace")
        if line.startswith("PING "):
            self.send("PONG " + line[5:])
        self.raw.append(raw)
        self.lines.append(line)

    def reset(self) -> None:
        """Drop the connection with a TCP RST, as a crashed or unplugged client would."""
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.sock.close()

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()


class WsLines:
    """An IRC client on the ``/ws`` WebSocket (text.ircv3.net), one line per frame.

    aiohttp's client runs on its own event loop in a thread; the test talks to it through
    the same blocking interface as ``TcpLines``.
    """

    def __init__(self, http_port: int, nick: str) -> None:
        self.nick = nick
        self.lines: list[str] = []
        self.raw: list[bytes] = []
        self._arrived = threading.Condition()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        url = f"http://127.0.0.1:{http_port}/ws"
        opening = asyncio.run_coroutine_threadsafe(self._open(url), self._loop)
        self._ws = opening.result(10)
        self._reader = asyncio.run_coroutine_threadsafe(self._read(), self._loop)

    async def _open(self, url: str) -> aiohttp.ClientWebSocketResponse:
        self._session = aiohttp.ClientSession()
        return await self._session.ws_connect(url, protocols=("text.ircv3.net",))

    async def _read(self) -> None:
        async for msg in self._ws:
            if msg.type is not aiohttp.WSMsgType.TEXT:
                break
            with self._arrived:
                self.raw.append(msg.data.encode())
                self.lines.append(msg.data)
                self._arrived.notify_all()
            if msg.data.startswith("PING "):
                await self._ws.send_str("PONG " + msg.data[5:])

    def send(self, *lines: str) -> None:
        for line in lines:
            asyncio.run_coroutine_threadsafe(self._ws.send_str(line), self._loop).result(10)

    def wait_for(self, match: Match, timeout: float = 10.0) -> str:
        deadline = time.monotonic() + timeout
        seen = 0
        with self._arrived:
            while True:
                for line in self.lines[seen:]:
                    if match(line):
                        return line
                seen = len(self.lines)
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"{self.nick}: no matching line; last: {self.lines[-8:]}")
                self._arrived.wait(left)

    def close(self) -> None:
        async def shut() -> None:
            await self._ws.close()
            await self._session.close()

        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(shut(), self._loop).result(5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self._loop.close()


def masked_frame(payload: bytes, first_byte: int = 0x81) -> bytes:
    """One client-to-server WebSocket frame (RFC 6455 5.2), masked as clients must."""
    mask = b"\x12\x34\x56\x78"
    body = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    assert len(payload) < 126
    return bytes([first_byte, 0x80 | len(payload)]) + mask + body


def raw_websocket(http_port: int) -> socket.socket:
    """A TCP socket after a hand-made WebSocket handshake on ``/ws`` (text.ircv3.net), for
    sending frames no library would send."""
    sock = socket.create_connection(("127.0.0.1", http_port), timeout=5)
    sock.sendall(
        (
            "GET /ws HTTP/1.1\r\n"
            f"Host: 127.0.0.1:{http_port}\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            "Sec-WebSocket-Version: 13\r\n"
            "Sec-WebSocket-Protocol: text.ircv3.net\r\n\r\n"
        ).encode()
    )
    answer = b""
    while b"\r\n\r\n" not in answer:
        chunk = sock.recv(4096)
        assert chunk, answer
        answer += chunk
    assert answer.startswith(b"HTTP/1.1 101"), answer
    return sock
