"""Admission for the web port: a connection is counted before it can cost anything.

aiohttp on its own accepts any number of connections and waits as long as a client likes
for a request that never comes, so one address could take every file descriptor. The
gate accepts the connections itself and hands aiohttp only those it admits:

1. At accept, before any TLS handshake, the connection is counted in the same
   per-address and total limits as IRC connections (``admission.hold``). The excess gets
   a ``503`` (on plain HTTP) and is closed at once. A trusted reverse proxy's connections
   count in the total only: they carry many people.
2. It must deliver a complete request head within ``http.request_timeout`` of being
   accepted, TLS handshake included, or it is closed: silence and headers that stop
   halfway cost a place for that long and no longer. After each response aiohttp's
   keep-alive timer, set to the same seconds, closes a connection that sends no further
   request (or only half of one).
3. When a WebSocket becomes an IRC session, the session takes over the place (it counts
   itself in the world); a closed connection gives its place back.

Accepting here rather than in ``loop.create_server`` is what makes (1) possible for TLS:
there the protocol learns of a connection only after its handshake, however long that
takes. ``loop.connect_accepted_socket`` then runs the handshake and starts aiohttp.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import socket
import ssl
import time
from typing import TYPE_CHECKING, Any

from aiohttp import web
from aiohttp.web_protocol import RequestHandler

from chatroom.server.core import admission
from chatroom.server.net import forwarded

if TYPE_CHECKING:
    from chatroom.server.core.world import World

log = logging.getLogger("chatroom.http")

BACKLOG = 128
# accept() failing for want of descriptors or memory: wait instead of spinning on it.
_EXHAUSTED = {errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM}


def refusal_response(reason: str) -> bytes:
    body = reason.encode() + b"\n"
    head = (
        "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\nRetry-After: 60\r\n\r\n"
    )
    return head.encode() + body


class Place:
    """One admitted connection's place in the limits, and its deadline for a request."""

    __slots__ = ("_deadline", "_world", "ip", "released", "transport")

    def __init__(self, world: World, ip: str | None, timeout: float) -> None:
        self._world = world
        self.ip = ip  # None: a trusted proxy, counted in the total only
        self.transport: asyncio.Transport | None = None  # once the handshake is done
        self.released = False
        loop = asyncio.get_running_loop()
        self._deadline: asyncio.TimerHandle | None = loop.call_later(timeout, self._expired)

    def request_started(self) -> None:
        """A complete request head arrived: from now on aiohttp's keep-alive timer rules."""
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def release(self) -> None:
        """Give the place back (closed, or now an IRC session); safe to call twice."""
        self.request_started()
        if not self.released:
            self.released = True
            admission.release(self._world, self.ip)

    def _expired(self) -> None:
        # During a TLS handshake there is no transport yet; its own timeout (the same
        # seconds, started at the same moment) ends it.
        self._deadline = None
        if self.transport is not None:
            self.transport.abort()  # connection_lost releases the place


class GatedRequestHandler(RequestHandler):
    """aiohttp's HTTP protocol, holding a ``Place`` that it gives back when it closes."""

    def __init__(self, manager: web.Server, place: Place, **kwargs: Any) -> None:
        super().__init__(manager, **kwargs)
        self.place = place

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports have the Transport methods without subclassing it.
        self.place.transport = transport  # type: ignore[assignment]
        super().connection_made(transport)

    def connection_lost(self, exc: BaseException | None) -> None:
        self.place.release()
        super().connection_lost(exc)


class GatedListener:
    """The web port's listening sockets, their accept loop and the connections in TLS."""

    def __init__(
        self,
        manager: web.Server,
        world: World,
        *,
        ssl_context: ssl.SSLContext | None,
        timeout: float,
        proxies: forwarded.Networks,
    ) -> None:
        self.manager = manager
        self.world = world
        self.ssl_context = ssl_context
        self.timeout = timeout
        self.proxies = proxies
        self.clock = time.time
        self.sockets: list[socket.socket] = []
        self.starting: set[asyncio.Task[None]] = set()
        self.handler_args: dict[str, Any] = {"keepalive_timeout": timeout, "access_log": None}

    async def start(self, host: str, port: int) -> list[tuple[str, int]]:
        """Bind every address ``host`` resolves to; returns them (port 0 picks one)."""
        loop = asyncio.get_running_loop()
        self.handler_args["loop"] = loop
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
                if family == socket.AF_INET6:
                    sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
                sock.bind(address)
                sock.listen(BACKLOG)
                sock.setblocking(False)
            except OSError:
                sock.close()
                await self.stop()
                raise
            self.sockets.append(sock)
            loop.add_reader(sock, self._accept, sock)
        return [(str(s.getsockname()[0]), int(s.getsockname()[1])) for s in self.sockets]

    async def stop(self) -> None:
        loop = asyncio.get_running_loop()
        for sock in self.sockets:
            loop.remove_reader(sock)
            sock.close()
        self.sockets.clear()
        for task in list(self.starting):
            task.cancel()
        await asyncio.gather(*self.starting, return_exceptions=True)

    def _accept(self, listener: socket.socket) -> None:
        """Take what the kernel has queued (up to a backlog's worth) and admit each."""
        for _ in range(BACKLOG):
            try:
                sock, peer = listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except ConnectionAbortedError:
                continue  # the peer gave up while queued
            except OSError as err:
                log.error("accept failed", extra={"error": str(err)})
                if err.errno in _EXHAUSTED:  # retrying at once would spin on the error
                    loop = asyncio.get_running_loop()
                    loop.remove_reader(listener)
                    loop.call_later(1.0, self._resume_accepting, listener)
                return
            self._admit(sock, str(peer[0]))

    def _resume_accepting(self, listener: socket.socket) -> None:
        if listener in self.sockets:
            asyncio.get_running_loop().add_reader(listener, self._accept, listener)

    def _admit(self, sock: socket.socket, ip: str) -> None:
        sock.setblocking(False)
        counted = None if forwarded.trusted(ip, self.proxies) else ip
        refusal = admission.hold(self.world, counted, self.clock())
        if refusal is not None:
            if self.ssl_context is None:
                with contextlib.suppress(OSError):  # best effort: it is closed either way
                    sock.send(refusal_response(refusal))
            sock.close()
            return
        place = Place(self.world, counted, self.timeout)
        task = asyncio.ensure_future(self._connect(sock, place))
        if not task.done():
            self.starting.add(task)
            task.add_done_callback(self.starting.discard)

    async def _connect(self, sock: socket.socket, place: Place) -> None:
        """TLS handshake (if any), then aiohttp takes the connection."""
        loop = asyncio.get_running_loop()
        handler = GatedRequestHandler(self.manager, place, **self.handler_args)
        try:
            if self.ssl_context is None:
                await loop.connect_accepted_socket(lambda: handler, sock)
            else:
                await loop.connect_accepted_socket(
                    lambda: handler,
                    sock,
                    ssl=self.ssl_context,
                    ssl_handshake_timeout=self.timeout,
                )
        except OSError as err:  # handshake failed or timed out, peer gone (SSLError too)
            log.debug("connection failed before HTTP", extra={"error": str(err)})
            sock.close()
            place.release()
        except asyncio.CancelledError:
            sock.close()
            place.release()
            raise
