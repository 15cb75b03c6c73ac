"""The HTTP listener: the web client, IRC over WebSocket, health and metrics.

Routes:
- ``/`` and ``/static/...``: the web client, plain files from ``chatroom/web`` (no build);
- ``/ws``: IRC over WebSocket (see websocket.py), for browsers and any other client;
- ``/healthz``: 200 while the event loop answers, for load balancers and systemd;
- ``/metrics``: Prometheus text format, read from the world at scrape time; only for
  clients in ``http.metrics_from`` (loopback by default), judged by the client's real
  address (behind a trusted proxy, the client it names, so a request relayed from
  outside is refused; a request with a forwarding header from a peer that is no trusted
  proxy, or from a trusted one that names no client, is refused too, since a proxy on
  this host would make it look local): the
  figures say how busy the server is and who is connected when.

The web client is an ordinary IRC client of this server: there is no second login system
here, and nothing on these routes can act on the world except through IRC lines.

Browsers send cookies and credentials with cross-site WebSocket handshakes, and a page on
another site could otherwise drive a visitor's session, so ``/ws`` accepts an ``Origin``
only when it is this server's own or listed in ``http.origins``. Clients that send no
Origin (anything but a browser) are not affected.

"This server's own" needs a ``Host`` that really is this server: with DNS rebinding a
page at ``evil.example`` is made to resolve to this server, and its requests then carry
``Host: evil.example`` and a matching Origin. So every request must name the server the
way it is configured to be reached (``host_allowed``), or it gets 421; an IP address
cannot be rebound and is always accepted.

Connections are admitted and timed by ``http_gate`` before aiohttp sees them.
"""

from __future__ import annotations

import asyncio
import json
import logging
import ssl
from collections.abc import Awaitable, Callable
from ipaddress import ip_address
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from aiohttp import web

from chatroom.config import HttpConfig
from chatroom.server.net import forwarded, metrics
from chatroom.server.net.http_gate import GatedListener, GatedRequestHandler
from chatroom.server.net.websocket import MAX_FRAME, SUBPROTOCOLS, WebSocketConnection

if TYPE_CHECKING:
    from chatroom.server.net.shell import Shell

log = logging.getLogger("chatroom.http")

WEB_DIR = Path(__file__).resolve().parents[2] / "web"

# The client loads only its own files and talks only to its own server. Even a rendering
# bug could not run injected script: inline script and handlers are refused.
_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self' {ws}; manifest-src 'self'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)


def origin_allowed(origin: str | None, host: str, allowed: tuple[str, ...]) -> bool:
    """Same origin as the page's ``Host``, or listed (``*`` allows any), or no Origin."""
    if origin is None:
        return True
    if "*" in allowed:
        return True
    wanted = origin.rstrip("/").lower()
    if wanted in (a.rstrip("/").lower() for a in allowed):
        return True
    parts = urlsplit(wanted)
    return parts.scheme in ("http", "https") and parts.netloc == host.lower()


def host_allowed(host: str | None, names: frozenset[str]) -> bool:
    """``Host`` is an IP address, a loopback name, or one of ``names`` ("*": any)."""
    if host is None or "*" in names:
        return True  # HTTP/1.0 without Host: no browser sends that
    host = host.strip().lower()
    if host.startswith("["):  # an IPv6 literal, with or without a port
        name = host[1 : host.find("]")] if "]" in host else ""
    else:
        name, _, port = host.rpartition(":")
        if not name or not port.isdigit():
            name = host
        name = name.rstrip(".")
    try:
        ip_address(name)
    except ValueError:
        pass
    else:
        return True
    return name == "localhost" or name.endswith(".localhost") or name in names


def _protect(request: web.Request, response: web.StreamResponse) -> None:
    host = request.host
    response.headers.setdefault(
        "Content-Security-Policy", _CSP.format(ws=f"ws://{host} wss://{host}")
    )
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    # frame-ancestors says it to current browsers; older ones know only this header.
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    response.headers.setdefault("Cache-Control", "no-cache")


@web.middleware
async def _headers(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Every answer carries the protective headers, errors (404, 421...) included."""
    try:
        response = await handler(request)
    except web.HTTPException as error:
        _protect(request, error)
        raise
    if not response.prepared:
        _protect(request, response)
    return response


# Headers only a proxy adds (a scraper talking to us directly sends none of them).
FORWARDING_HEADERS = (
    "Forwarded",
    "X-Forwarded-For",
    "X-Real-IP",
    "X-Forwarded-Host",
    "X-Forwarded-Proto",
    "Via",
)


def _relayed_unseen(request: web.Request, conf: HttpConfig) -> str | None:
    """Why ``request`` came through a proxy for a client we cannot judge, or None.

    A forwarding header from a peer that is no trusted proxy: a proxy nobody listed. From
    a trusted proxy, a forwarding header but no address in its own (rightmost) entry of
    ``http.proxy_header``: it hid its client (``for=unknown``, ``_name``) or sets the other
    header kind; judged by its own address, every client would look local."""
    if not any(name in request.headers for name in FORWARDING_HEADERS):
        return None
    if not forwarded.trusted(request.remote or "unknown", conf.trusted_proxies):
        return "metrics are not served through a proxy missing from http.trusted_proxies\n"
    lines = request.headers.getall
    if forwarded.names_its_client(lambda name: lines(name, []), conf.proxy_header):
        return None
    return "metrics are not served through a proxy that names no client in http.proxy_header\n"


class HttpServer:
    """The aiohttp application and its listener, started and stopped by the shell."""

    def __init__(self, shell: Shell, conf: HttpConfig | None = None) -> None:
        conf = conf or HttpConfig()
        self.shell = shell
        self.conf = conf
        self.origins = conf.origins
        core = shell.config.core
        names = {core.server_name, shell.config.listen.host, *conf.hostnames}
        self.hostnames = frozenset(n.lower().rstrip(".") for n in names)
        self.registry = metrics.registry_for(shell.world, shell.cluster, shell.connections)
        self.runner: web.AppRunner | None = None
        self.listener: GatedListener | None = None

    def app(self) -> web.Application:
        app = web.Application(middlewares=[_headers, self._admitted])
        app.router.add_get("/", self._index)
        app.router.add_get("/ws", self._websocket)
        app.router.add_get("/healthz", self._health)
        app.router.add_get("/metrics", self._metrics)
        app.router.add_static("/static/", WEB_DIR, follow_symlinks=False)
        return app

    async def start(
        self,
        host: str,
        port: int,
        ssl_context: ssl.SSLContext | None = None,
        reuse_port: bool = False,
    ) -> list[tuple[str, int]]:
        """Listen; returns the bound addresses (port 0 picks a free one)."""
        self.runner = web.AppRunner(
            self.app(), access_log=None, handle_signals=False, shutdown_timeout=1
        )
        await self.runner.setup()
        assert self.runner.server is not None
        self.listener = GatedListener(
            self.runner.server,
            self.shell.world,
            ssl_context=ssl_context,
            timeout=self.conf.request_timeout,
            proxies=self.conf.trusted_proxies,
        )
        bound = await self.listener.start(host, port, reuse_port)
        for addr in bound:
            log.info("listening", extra={"kind": "http", "host": addr[0], "port": addr[1]})
        return bound

    async def stop(self) -> None:
        if self.listener is not None:
            await self.listener.stop()
            self.listener = None
        if self.runner is not None:
            await self.runner.cleanup()
            self.runner = None

    # --------------------------------------------------------------- handlers

    @web.middleware
    async def _admitted(
        self,
        request: web.Request,
        handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
    ) -> web.StreamResponse:
        """A whole request head arrived (the gate's deadline ends); its Host must be ours.

        aiohttp runs each request in a task of its own that ends once the response is
        written: then the connection is idle again (and may be closed to make room).
        """
        protocol = request.protocol
        task = asyncio.current_task()
        if isinstance(protocol, GatedRequestHandler) and task is not None:
            protocol.request_started()
            task.add_done_callback(lambda _: protocol.request_finished())
        return await self._checked(request, handler)

    async def _checked(
        self,
        request: web.Request,
        handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
    ) -> web.StreamResponse:
        host = request.headers.get("Host")
        if not host_allowed(host, self.hostnames):
            log.info("unknown Host refused", extra={"host": host})
            raise web.HTTPMisdirectedRequest(
                text="this server is not configured to be reached at that name;"
                " see http.hostnames in the config\n"
            )
        return await handler(request)

    def _client(self, request: web.Request) -> forwarded.Client:
        """Who sent ``request``: the peer, or the client a trusted proxy names."""
        return forwarded.client_of(
            request.remote or "unknown",
            lambda name: request.headers.getall(name, []),
            self.conf.trusted_proxies,
            self.conf.proxy_header,
        )

    async def _index(self, request: web.Request) -> web.StreamResponse:
        return web.FileResponse(WEB_DIR / "index.html")

    async def _health(self, request: web.Request) -> web.Response:
        world = self.shell.world
        body = {"status": "ok", "connections": len(world.sessions)}
        return web.Response(text=json.dumps(body), content_type="application/json")

    async def _metrics(self, request: web.Request) -> web.Response:
        allowed = self.conf.metrics_from
        if not allowed:
            raise web.HTTPNotFound(text="/metrics is off; see http.metrics_from in the config\n")
        client = self._client(request)
        unseen = _relayed_unseen(request, self.conf)
        if unseen is not None:
            # A proxy on this host makes every request look local unless it says whom it
            # relays: its forwarding header says the scrape came from somewhere unjudged.
            log.info("metrics scrape through a proxy refused", extra={"peer": client.ip})
            raise web.HTTPForbidden(text=unseen)
        if not forwarded.trusted(client.ip, allowed):
            log.info("metrics scrape refused", extra={"peer": client.ip})
            raise web.HTTPForbidden(
                text="metrics are not served to this address; see http.metrics_from\n"
            )
        response = web.Response(body=metrics.render(self.registry))
        response.headers["Content-Type"] = metrics.CONTENT_TYPE
        return response

    async def _websocket(self, request: web.Request) -> web.StreamResponse:
        origin = request.headers.get("Origin")
        if not origin_allowed(origin, request.host, self.origins):
            log.info("websocket origin refused", extra={"origin": origin})
            raise web.HTTPForbidden(text="origin not allowed; see http.origins in the config\n")
        ws = web.WebSocketResponse(
            protocols=SUBPROTOCOLS, compress=False, max_msg_size=MAX_FRAME, autoping=True
        )
        await ws.prepare(request)
        transport = request.transport
        if transport is None:  # the peer left during the handshake
            return ws
        client = self._client(request)
        secure = request.secure if client.https is None else client.https
        protocol = request.protocol
        if isinstance(protocol, GatedRequestHandler):
            protocol.release()  # the IRC session counts itself from here on
        conn = WebSocketConnection(self.shell, ws, transport, secure=secure)
        await conn.run(client.ip)
        return ws
