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
4. A browser keeps several connections open after loading the page (Chromium six, plus
   the WebSocket). So that two people behind one address can both load it, a connection
   that finds its address (or the server) full first closes the oldest *idle* kept-alive
   connection there: answered, waiting for a next request it may never send. A silent or
   half-sent connection is never idle in this sense, so the flood above cannot use it.

Accepting here rather than in ``loop.create_server`` is what makes (1) possible for TLS:
there the protocol learns of a connection only after its handshake, however long that
takes. ``loop.connect_accepted_socket`` then runs the handshake and starts aiohttp.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import ssl
from typing import TYPE_CHECKING, Any

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.web_protocol import RequestHandler

from chatroom.logs import error_text
from chatroom.server.core import admission
from chatroom.server.net import forwarded
from chatroom.server.net.accepting import AcceptingSockets

if TYPE_CHECKING:
    from chatroom.server.core.world import World

log = logging.getLogger("chatroom.http")


def refusal_response(reason: str) -> bytes:
    body = reason.encode() + b"\n"
    head = (
        "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\nRetry-After: 60\r\n\r\n"
    )
    return head.encode() + body


class GatedRequestHandler(RequestHandler):
    """aiohttp's HTTP protocol for one admitted connection: its place in the limits, its
    deadline for a first request, and whether it sits idle between requests.

    An idle kept-alive connection (it has been answered and waits for more) is the one
    thing that may be closed to make room: a browser keeps several open after loading a
    page, and simply opens a new one when it needs it again.
    """

    def __init__(
        self, manager: web.Server, listener: GatedListener, ip: str | None, **kwargs: Any
    ) -> None:
        super().__init__(manager, **kwargs)
        self.listener = listener
        self.ip = ip  # None: a trusted proxy, counted in the total only
        self.released = False
        self.busy = False
        loop = asyncio.get_running_loop()
        self._deadline: asyncio.TimerHandle | None = loop.call_later(
            listener.timeout, self._expired
        )

    def request_started(self) -> None:
        """A complete request head arrived: from now on aiohttp's keep-alive timer rules."""
        self._cancel_deadline()
        self.busy = True
        self.listener.idle.discard(self)

    def request_finished(self) -> None:
        """The response is written: idle until the next request."""
        self.busy = False
        if not self.released and self.transport is not None:
            self.listener.idle.add(self)

    def release(self) -> None:
        """Give the place back (closed, or now an IRC session); safe to call twice."""
        self._cancel_deadline()
        self.listener.idle.discard(self)
        if not self.released:
            self.released = True
            admission.release(self.listener.world, self.ip)

    def evict(self) -> None:
        """Close an idle connection to make room (its place is free at once)."""
        self.force_close()
        self.release()

    def connection_lost(self, exc: BaseException | None) -> None:
        self.release()
        super().connection_lost(exc)

    def log_exception(self, *args: Any, **kw: Any) -> None:
        """A malformed request is the client's doing and its 400 says so: a debug line, not
        an ERROR with a traceback that any stranger could write into the log at will."""
        if isinstance(kw.get("exc_info"), HttpProcessingError):
            self.logger.debug(*args)
            return
        super().log_exception(*args, **kw)

    def _cancel_deadline(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expired(self) -> None:
        # During a TLS handshake there is no transport yet; the handshake's own timeout
        # (the same seconds, started at the same moment) ends it.
        self._deadline = None
        if self.transport is not None:
            self.force_close()  # connection_lost releases the place


class IdleConnections:
    """Idle kept-alive connections, oldest first, by address and in all."""

    def __init__(self) -> None:
        self.all: dict[GatedRequestHandler, None] = {}
        self.by_ip: dict[str | None, dict[GatedRequestHandler, None]] = {}

    def add(self, handler: GatedRequestHandler) -> None:
        self.all[handler] = None
        self.by_ip.setdefault(handler.ip, {})[handler] = None

    def discard(self, handler: GatedRequestHandler) -> None:
        if handler in self.all:
            del self.all[handler]
            of_ip = self.by_ip[handler.ip]
            del of_ip[handler]
            if not of_ip:
                del self.by_ip[handler.ip]

    def oldest(self, ip: str | None, anywhere: bool) -> GatedRequestHandler | None:
        pool = self.all if anywhere else self.by_ip.get(ip, {})
        return next(iter(pool), None)


class GatedListener(AcceptingSockets):
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
        super().__init__()
        self.manager = manager
        self.world = world
        self.ssl_context = ssl_context
        self.timeout = timeout
        self.proxies = proxies
        self.starting: set[asyncio.Task[None]] = set()
        self.idle = IdleConnections()
        self.handler_args: dict[str, Any] = {"keepalive_timeout": timeout, "access_log": None}

    async def start(self, host: str, port: int, reuse_port: bool = False) -> list[tuple[str, int]]:
        """Bind every address ``host`` resolves to; returns them (port 0 picks one)."""
        self.handler_args["loop"] = asyncio.get_running_loop()
        return await self.bind(host, port, reuse_port)

    async def stop(self) -> None:
        self.close_sockets()
        for task in list(self.starting):
            task.cancel()
        await asyncio.gather(*self.starting, return_exceptions=True)

    def _admit(self, sock: socket.socket, ip: str) -> None:
        sock.setblocking(False)
        counted = None if forwarded.trusted(ip, self.proxies) else ip
        refusal = admission.hold(self.world, counted, self.world.clock())
        if refusal is not None:
            # Make room by closing an idle kept-alive connection: of this address when the
            # address is at its quota, of anyone when the server is.
            idle = self.idle.oldest(counted, anywhere=refusal != admission.TOO_MANY)
            if idle is not None:
                idle.evict()
                refusal = admission.hold(self.world, counted, self.world.clock())
        if refusal is not None:
            if self.ssl_context is None:
                with contextlib.suppress(OSError):  # best effort: it is closed either way
                    sock.send(refusal_response(refusal))
            sock.close()
            return
        handler = GatedRequestHandler(self.manager, self, counted, **self.handler_args)
        task = asyncio.ensure_future(self._connect(sock, handler))
        self.starting.add(task)
        task.add_done_callback(self.starting.discard)

    async def _connect(self, sock: socket.socket, handler: GatedRequestHandler) -> None:
        """TLS handshake (if any), then aiohttp takes the connection."""
        loop = asyncio.get_running_loop()
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
            log.debug("connection failed before HTTP", extra={"error": error_text(err)})
            sock.close()
            handler.release()
        except asyncio.CancelledError:
            sock.close()
            handler.release()
            raise
