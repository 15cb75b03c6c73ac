"""Admission for the IRC TLS port: a connection is counted at accept, before its handshake.

With ``loop.create_server(ssl=...)`` the protocol learns of a connection only once its
TLS handshake is done, so a connection that never starts one held a file descriptor for
the whole handshake timeout without being counted anywhere: one address opening silent
connections to the TLS port took every descriptor, and new IRC clients, TLS or not, and
``/healthz`` got nothing (docs/security.md, "Attacks tried").

So this listener accepts the sockets itself (net/accepting.py), as the web port's gate does,
and counts each one in the same per-address and total limits (``admission.hold``) before
anything else: the excess is closed at once (a TLS port has no words for a refusal before
the handshake). An admitted socket makes its handshake (``connect_accepted_socket``,
within ``tls.HANDSHAKE_SECONDS``) and becomes a ``TlsIrcConnection``, whose session then
takes over the place.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl
from collections.abc import Callable
from typing import TYPE_CHECKING

from chatroom.server.core import admission
from chatroom.server.net import tls
from chatroom.server.net.accepting import AcceptingSockets
from chatroom.server.net.connection import TlsIrcConnection

if TYPE_CHECKING:
    from chatroom.server.net.shell import Shell

log = logging.getLogger("chatroom.net")


class TlsGate(AcceptingSockets):
    """The IRC TLS listener: accept, count, then hand the socket to TLS and IRC."""

    def __init__(self, shell: Shell, context: Callable[[], ssl.SSLContext]) -> None:
        super().__init__()
        self.shell = shell
        self.context = context
        self.handshakes: set[asyncio.Task[None]] = set()

    async def start(self, host: str, port: int, reuse_port: bool) -> list[tuple[str, int]]:
        """Listen on every address ``host`` names; the (host, port) pairs bound."""
        return await self.bind(host, port, reuse_port)

    def stop(self) -> None:
        """Stop accepting, and stop the handshakes still under way (shutdown)."""
        self.close_sockets()
        for task in list(self.handshakes):
            task.cancel()

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
