"""Admission for the IRC TLS port: a connection is counted at accept, before its handshake.

With ``loop.create_server(ssl=...)`` the protocol learns of a connection only once its
TLS handshake is done, so a connection that never starts one held a file descriptor for
the whole handshake timeout without being counted anywhere: one address opening silent
connections to the TLS port took every descriptor, and new IRC clients, TLS or not, and
``/healthz`` got nothing (docs/security.md, "Attacks tried").

So this listener accepts the sockets itself, as the web port's gate does (http_gate.py),
and counts each one in the same per-address and total limits (``admission.hold``) before
anything else: the excess is closed at once (a TLS port has no words for a refusal before
the handshake). An admitted socket makes its handshake (``connect_accepted_socket``,
within ``tls.HANDSHAKE_SECONDS``) and becomes a ``TlsIrcConnection``, whose session then
takes over the place.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import socket
import ssl
from collections.abc import Callable
from typing import TYPE_CHECKING

from chatroom.server.core import admission
from chatroom.server.net import tls
from chatroom.server.net.connection import TlsIrcConnection

if TYPE_CHECKING:
    from chatroom.server.net.shell import Shell

log = logging.getLogger("chatroom.net")

BACKLOG = 128  # as the web port's (http_gate.py, which brings aiohttp: not imported here)
# accept() failing for want of descriptors or memory: wait instead of spinning on it.
EXHAUSTED = {errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM}


class TlsGate:
    """The IRC TLS listener: accept, count, then hand the socket to TLS and IRC."""

    def __init__(self, shell: Shell, context: Callable[[], ssl.SSLContext]) -> None:
        self.shell = shell
        self.context = context
        self.sockets: list[socket.socket] = []
        self.handshakes: set[asyncio.Task[None]] = set()

    async def start(self, host: str, port: int, reuse_port: bool) -> list[tuple[str, int]]:
        """Listen on every address ``host`` names; the (host, port) pairs bound."""
        loop = asyncio.get_running_loop()
        infos = await loop.getaddrinfo(
            host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )
        seen = set()
        for family, kind, proto, _, address in infos:
            if (family, address) in seen:
                continue
            seen.add((family, address))
            sock = socket.socket(family, kind, proto)
            try:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                if reuse_port:
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
                if family == socket.AF_INET6:
                    sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
                sock.bind(address)
                sock.listen(BACKLOG)
                sock.setblocking(False)
            except OSError:
                sock.close()
                self.stop()
                raise
            self.sockets.append(sock)
            loop.add_reader(sock, self._accept, sock)
        return [(str(s.getsockname()[0]), int(s.getsockname()[1])) for s in self.sockets]

    def stop(self) -> None:
        """Stop accepting, and stop the handshakes still under way (shutdown)."""
        loop = asyncio.get_running_loop()
        for sock in self.sockets:
            loop.remove_reader(sock)
            sock.close()
        self.sockets.clear()
        for task in list(self.handshakes):
            task.cancel()

    def _accept(self, listener: socket.socket) -> None:
        for _ in range(BACKLOG):
            try:
                sock, peer = listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except ConnectionAbortedError:
                continue  # the peer gave up while queued
            except OSError as err:
                log.error("accept failed", extra={"error": str(err)})
                if err.errno in EXHAUSTED:  # retrying at once would spin on the error
                    loop = asyncio.get_running_loop()
                    loop.remove_reader(listener)
                    loop.call_later(1.0, self._resume_accepting, listener)
                return
            self._admit(sock, str(peer[0]))

    def _resume_accepting(self, listener: socket.socket) -> None:
        if listener in self.sockets:
            asyncio.get_running_loop().add_reader(listener, self._accept, listener)

    def _admit(self, sock: socket.socket, ip: str) -> None:
        world = self.shell.world
        if admission.hold(world, ip, world.clock()) is not None:
            sock.close()
            return
        sock.setblocking(False)
        task = asyncio.ensure_future(self._handshake(sock, ip))
        self.handshakes.add(task)
        task.add_done_callback(self.handshakes.discard)

    async def _handshake(self, sock: socket.socket, ip: str) -> None:
        """TLS, then IRC. The place goes back to the limits just before the session counts
        itself (``connection_made``), or when the handshake fails."""
        world = self.shell.world
        connection = _Admitted(self.shell, lambda: admission.release(world, ip))
        try:
            await asyncio.get_running_loop().connect_accepted_socket(
                lambda: connection,
                sock,
                ssl=self.context(),
                ssl_handshake_timeout=tls.HANDSHAKE_SECONDS,
            )
        except (Exception, asyncio.CancelledError) as err:  # failed, timed out, peer gone
            log.debug("TLS handshake failed", extra={"ip": ip, "error": type(err).__name__})
            sock.close()
            connection.release_place()
            if isinstance(err, asyncio.CancelledError):
                raise


class _Admitted(TlsIrcConnection):
    """A ``TlsIrcConnection`` that holds a place in the limits until its session exists."""

    __slots__ = ("_release",)

    def __init__(self, shell: Shell, release: Callable[[], None]) -> None:
        super().__init__(shell)
        self._release: Callable[[], None] | None = release

    def release_place(self) -> None:
        release, self._release = self._release, None
        if release is not None:
            release()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.release_place()
        super().connection_made(transport)
