"""IRC over WebSocket, as the IRCv3 WebSocket extension describes it.

Rules (https://ircv3.net/specs/extensions/websocket):
- the subprotocol is ``text.ircv3.net`` (UTF-8 text frames) or ``binary.ircv3.net`` (binary
  frames, bytes as they are); a client that asks for neither gets text, as browsers expect;
- one IRC line per frame, with no CR or LF in it, in both directions. A frame that does
  carry line breaks anyway is split at them rather than refused, so nothing is lost;
- flood control, the send-queue limit and the close rules are the TCP connection's own
  (``Connection``); only the framing differs.

Outgoing frames are built here and written straight to the transport: the shell hands
over every line queued in one event-loop pass and they leave in a single ``write``, as on
TCP. aiohttp writes its own control frames (pong, close) whole and synchronously on the
same transport, so the two never interleave.
"""

from __future__ import annotations

import asyncio
import struct
from typing import TYPE_CHECKING

from aiohttp import WebSocketError, WSMsgType, web

from chatroom.irc.framing import LineBuffer
from chatroom.server.net.connection import Connection, quit_reason

if TYPE_CHECKING:
    from chatroom.server.net.shell import Shell

TEXT = "text.ircv3.net"
BINARY = "binary.ircv3.net"
SUBPROTOCOLS = (TEXT, BINARY)

# Larger than the longest legal IRC line (8191 bytes of tags + 512), so an over-long line
# reaches the framer and is answered with 417 like on TCP instead of killing the socket.
MAX_FRAME = 16 * 1024

_OP_TEXT = 0x1
_OP_BINARY = 0x2


def frame(payload: bytes, opcode: int) -> bytes:
    """One final, unmasked server-to-client frame (RFC 6455 section 5.2)."""
    size = len(payload)
    first = 0x80 | opcode
    if size < 126:
        return struct.pack("!BB", first, size) + payload
    if size < 1 << 16:
        return struct.pack("!BBH", first, 126, size) + payload
    return struct.pack("!BBQ", first, 127, size) + payload


def as_text(line: bytes) -> bytes:
    """The line as valid UTF-8: text frames must be, and TCP clients may send any bytes."""
    try:
        line.decode("utf-8")
    except UnicodeDecodeError:
        return line.decode("utf-8", "replace").encode("utf-8")
    return line


def _error_reason(error: object) -> str:
    """The QUIT reason for a broken WebSocket: plain words, like TCP's (``quit_reason``)."""
    if isinstance(error, WebSocketError):
        return "WebSocket protocol error"
    if isinstance(error, BaseException):
        return quit_reason(error)
    return "Read error"


class WebSocketConnection(Connection):
    """One IRC client on a WebSocket; ``run`` reads frames until either side closes."""

    __slots__ = ("_closing", "_readable", "binary", "framer", "secure", "transport", "ws")

    def __init__(
        self,
        shell: Shell,
        ws: web.WebSocketResponse,
        transport: asyncio.Transport,
        secure: bool,
    ) -> None:
        super().__init__(shell)
        self.ws = ws
        self.transport = transport
        self.secure = secure
        self.binary = ws.ws_protocol == BINARY
        self.framer = LineBuffer()
        self._readable = asyncio.Event()
        self._readable.set()
        self._closing: asyncio.Task[bool] | None = None

    async def run(self, ip: str) -> None:
        self.session = self.shell.opened(self, ip, self.secure)
        reason = "Connection closed"
        try:
            while True:
                await self._readable.wait()
                if self.ws.closed or self._closing is not None:
                    break  # ws.close() reads the peer's answer itself; two readers may not
                msg = await self.ws.receive()
                if msg.type is WSMsgType.TEXT:
                    self._frame_received(msg.data.encode("utf-8"))
                elif msg.type is WSMsgType.BINARY:
                    self._frame_received(msg.data)
                elif msg.type is WSMsgType.ERROR:
                    reason = _error_reason(msg.data)
                    break
                elif msg.type in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED):
                    break
            if self._closing is not None:
                await self._closing
        finally:
            self.shell.lost(self, reason)

    def _frame_received(self, data: bytes) -> None:
        # The trailing LF ends the frame's line, so the framer never carries bytes over.
        self._lines_read(self.framer.feed(data + b"\n"))

    def _pause_reading(self) -> None:
        # aiohttp stops reading the socket once its own small queue is full.
        self._readable.clear()

    def _resume_reading(self) -> bool:
        self._readable.set()
        return not self.ws.closed

    def write_lines(self, lines: list[bytes]) -> int:
        transport = self.transport
        if transport.is_closing():
            return 0
        if self.binary:
            frames = [frame(line.rstrip(b"\r\n"), _OP_BINARY) for line in lines]
        else:
            frames = [frame(as_text(line.rstrip(b"\r\n")), _OP_TEXT) for line in lines]
        transport.write(b"".join(frames))
        return transport.get_write_buffer_size()

    def close(self) -> None:
        """Start the WebSocket closing handshake after the lines already written."""
        if self._closing is None and not self.ws.closed:
            self._closing = asyncio.ensure_future(self.ws.close())
        self._readable.set()

    def abort(self) -> None:
        self.transport.abort()
        self._readable.set()
