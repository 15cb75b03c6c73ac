"""One IRC connection over TCP or TLS: bytes in, lines to the core, queued lines out.

Reads are split into lines by ``LineBuffer`` and handed to the core one by one. Writes
are never made per line: the shell collects what the core queued and writes each
connection's lines joined, once per event-loop pass (see ``Shell.flush``).
"""

from __future__ import annotations

import asyncio
import socket
from typing import TYPE_CHECKING

from chatroom.irc.framing import LineBuffer, LineTooLong
from chatroom.server.core.session import Session

if TYPE_CHECKING:
    from chatroom.server.net.shell import Shell


class IrcConnection(asyncio.Protocol):
    def __init__(self, shell: Shell, secure: bool) -> None:
        self.shell = shell
        self.secure = secure
        self.framer = LineBuffer()
        self.transport: asyncio.Transport | None = None
        self.session: Session | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            # Without TCP_NODELAY, Nagle plus delayed ACKs add ~40 ms to small writes.
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        peer = transport.get_extra_info("peername")
        ip = peer[0] if peer else "unknown"
        self.session = self.shell.opened(self, ip, self.secure)

    def data_received(self, data: bytes) -> None:
        session = self.session
        if session is None:
            return
        world = self.shell.world
        for line in self.framer.feed(data):
            if session.closed:
                break
            if isinstance(line, LineTooLong):
                world.receive_too_long(session)
            else:
                world.receive(session, line)
        self.shell.schedule_flush()

    def eof_received(self) -> bool:
        return False  # close our side too

    def connection_lost(self, exc: Exception | None) -> None:
        if self.session is not None:
            reason = "Connection closed" if exc is None else f"Read error: {exc}"
            self.shell.lost(self.session, reason)

    def write_lines(self, lines: list[bytes]) -> int:
        """Write queued lines in one call; returns the transport's unsent byte count."""
        transport = self.transport
        if transport is None or transport.is_closing():
            return 0
        transport.write(lines[0] if len(lines) == 1 else b"".join(lines))
        return transport.get_write_buffer_size()

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()

    def abort(self) -> None:
        if self.transport is not None:
            self.transport.abort()
