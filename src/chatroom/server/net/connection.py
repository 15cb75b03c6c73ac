"""One IRC connection over TCP or TLS: bytes in, lines to the core, queued lines out.

Reads are split into lines by ``LineBuffer`` and handed to the core one by one. Writes
are never made per line: the shell collects what the core queued and writes each
connection's lines joined, once per event-loop pass (see ``Shell.flush``).
"""

from __future__ import annotations

import asyncio
import os
import socket
import ssl
from collections import deque
from typing import TYPE_CHECKING, ClassVar, cast

from chatroom.irc.framing import LineBuffer, LineTooLong
from chatroom.server.core.session import Session
from chatroom.server.net import tls

if TYPE_CHECKING:
    from chatroom.server.net.shell import Shell


def quit_reason(exc: BaseException | None) -> str:
    """What others see in the QUIT of a connection that broke: plain words, as other
    servers write them ("Connection reset by peer"), never Python's error text with its
    errno, class names or TLS library codes."""
    if exc is None:
        return "Connection closed"
    if isinstance(exc, ssl.SSLError):
        return "TLS error"
    if isinstance(exc, TimeoutError):
        return "Connection timed out"
    if isinstance(exc, OSError) and exc.errno:
        try:
            return os.strerror(exc.errno)
        except ValueError:
            pass
    return "Read error"


# The bits of ``Connection.stopped``: why the connection does not read now.
PAUSED = 1  # flood control, until its timer
HELD = 2  # the history writer's backpressure (net/backpressure.py) or the cluster's outbox


class Connection:
    """Flood-controlled hand-off of received lines to the core, whatever the transport.

    TCP and WebSocket connections differ only in how they stop and restart reading
    (``_pause_reading``, ``_resume_reading``); the backlog and flood rules are shared.
    Slots, not a ``__dict__``: one of these lives as long as each connection.
    """

    __slots__ = ("backlog", "session", "shell", "stopped")

    def __init__(self, shell: Shell) -> None:
        self.shell = shell
        self.session: Session | None = None
        # Lines read but not yet run; made when lines arrive and dropped once drained,
        # because an empty deque costs ~600 bytes on every idle connection.
        self.backlog: deque[bytes | LineTooLong] | None = None
        # Why reading is stopped: PAUSED and HELD bits (one int, not two slots, so the
        # object fits a smaller allocation on every connection).
        self.stopped = 0

    @property
    def held(self) -> bool:
        """Held by backpressure (``hold_reading``) until ``release_reading``."""
        return bool(self.stopped & HELD)

    def _pause_reading(self) -> None:
        raise NotImplementedError

    def _lines_read(self, lines: list[bytes | LineTooLong]) -> None:
        """The framer completed ``lines``: queue them behind any waiting, then run them."""
        if lines:
            if self.backlog is None:
                self.backlog = deque(lines)
            else:
                self.backlog.extend(lines)
        self._drain()

    def _resume_reading(self) -> bool:
        """Start reading again; False when the connection is already closing."""
        raise NotImplementedError

    def write_lines(self, lines: list[bytes]) -> int:
        """Send queued lines at once; returns the bytes still unsent (for the sendq limit)."""
        raise NotImplementedError

    def close(self) -> None:
        """Close after what was written has been sent."""
        raise NotImplementedError

    def abort(self) -> None:
        """Drop the connection now, unsent data and all."""
        raise NotImplementedError

    def _drain(self) -> None:
        """Hand lines to the core as fast as its flood control allows.

        When the core says wait, reading pauses (the kernel's buffers push back on the
        client) and resumes after the wait; a backlog past the limit is "Excess Flood".
        An input that adds history records while the writer's queue is full holds the
        connection (``HistoryBackpressure``) until the writer caught up.
        """
        session = self.session
        backlog = self.backlog
        if session is None or backlog is None:
            return  # a cluster node attaches the session once the network knows it
        shell = self.shell
        world = shell.world
        inputs = shell.inputs
        history = world.history
        gate = shell.history_backpressure
        cluster = shell.cluster
        while backlog:
            if session.closed:
                backlog.clear()
                break
            if self.stopped & HELD:
                break
            wait = world.flood_wait(session)
            if wait > 0.0:
                if len(backlog) > world.settings.limits.flood_backlog:
                    backlog.clear()
                    world.stats.flood_drops += 1
                    inputs.close(session, "Excess Flood")
                elif not self.stopped & PAUSED:
                    self.stopped |= PAUSED
                    self._pause_reading()
                    asyncio.get_running_loop().call_later(wait, self._resume)
                break
            line = backlog.popleft()
            pending = history.pending
            before = 0 if pending is None else len(pending)
            if isinstance(line, LineTooLong):
                inputs.receive_too_long(session)
            else:
                inputs.receive(session, line)
            if cluster is not None and cluster.full():
                cluster.hold(self)  # Redis is behind: wait for the outbox to drain
                break
            pending = history.pending
            if (
                gate is not None
                and pending is not None
                and len(pending) > before
                and gate.full(len(pending))
            ):
                gate.hold(self)
                break
        if not backlog:
            self.backlog = None
        shell.schedule_flush()

    def attach(self, session: Session) -> None:
        """A cluster node learnt this connection's session: run what was read meanwhile."""
        self.session = session
        self._drain()

    def _resume(self) -> None:
        self.stopped &= ~PAUSED
        if not self.stopped and self._resume_reading():
            self._drain()

    def hold_reading(self) -> None:
        """Stop reading until ``release_reading`` (history backpressure); what was read
        stays in the backlog."""
        stopped = self.stopped
        if not stopped & HELD:
            self.stopped = stopped | HELD
            if not stopped & PAUSED:
                self._pause_reading()

    def release_reading(self) -> None:
        """Read again (unless flood control still waits), starting with the backlog."""
        if self.stopped & HELD:
            self.stopped &= ~HELD
            if not self.stopped and self._resume_reading():
                self._drain()


class IrcConnection(Connection, asyncio.Protocol):
    """A connection over TCP (``TlsIrcConnection``: TLS over TCP)."""

    __slots__ = ("framer", "transport")

    secure: ClassVar[bool] = False  # per class, not a slot on every connection

    def __init__(self, shell: Shell) -> None:
        super().__init__(shell)
        # Between reads nearly every connection has no partial line: it has no framer of
        # its own (56 bytes each) but splits with the shell's spare one, and takes that
        # over only when a read ends mid-line (the shell gets a new spare then).
        self.framer: LineBuffer | None = None
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports have the Transport methods without subclassing it: no isinstance.
        self.transport = cast(asyncio.Transport, transport)
        # Without TCP_NODELAY, Nagle plus delayed ACKs add ~40 ms to small writes. uvloop
        # sets it on every TCP transport it makes; asking it for the socket would only
        # leave a socket object cached on each connection (72 bytes).
        if not type(transport).__module__.startswith("uvloop"):
            sock = transport.get_extra_info("socket")
            if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        peer = transport.get_extra_info("peername")
        ip = peer[0] if peer else "unknown"
        certfp = tls.peer_fingerprint(transport.get_extra_info("ssl_object"))
        self.session = self.shell.opened(self, ip, self.secure, certfp)

    def data_received(self, data: bytes) -> None:
        framer = self.framer
        if framer is None:
            shell = self.shell
            framer = shell.spare_framer
            lines = framer.feed(data)
            if not framer.idle:  # the read ended mid-line: keep what is carried over
                self.framer = framer
                shell.spare_framer = LineBuffer()
        else:
            lines = framer.feed(data)
            if framer.idle:
                self.framer = None
        self._lines_read(lines)

    def _pause_reading(self) -> None:
        if self.transport is not None:
            self.transport.pause_reading()

    def _resume_reading(self) -> bool:
        transport = self.transport
        if transport is None or transport.is_closing():
            return False
        transport.resume_reading()
        return True

    def eof_received(self) -> bool:
        return False  # close our side too

    def connection_lost(self, exc: Exception | None) -> None:
        self.shell.lost(self, quit_reason(exc))

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


class TlsIrcConnection(IrcConnection):
    """IRC over TLS: the transport decrypts, everything else is the same."""

    __slots__ = ()

    secure = True
