"""The HTTP listener: the web client, IRC over WebSocket, health and metrics.

Routes:
- ``/`` and ``/static/...``: the web client, plain files from ``chatroom/web`` (no build);
- ``/ws``: IRC over WebSocket (see websocket.py), for browsers and any other client;
- ``/healthz``: 200 while the event loop answers, for load balancers and systemd;
- ``/metrics``: Prometheus text format, read from the world at scrape time.

The web client is an ordinary IRC client of this server: there is no second login system
here, and nothing on these routes can act on the world except through IRC lines.

Browsers send cookies and credentials with cross-site WebSocket handshakes, and a page on
another site could otherwise drive a visitor's session, so ``/ws`` accepts an ``Origin``
only when it is this server's own or listed in ``http.origins``. Clients that send no
Origin (anything but a browser) are not affected.
"""

from __future__ import annotations

import json
import logging
import ssl
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from aiohttp import web

from chatroom.server.net import metrics
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


@web.middleware
async def _headers(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    response = await handler(request)
    if not response.prepared:
        host = request.host
        response.headers.setdefault(
            "Content-Security-Policy", _CSP.format(ws=f"ws://{host} wss://{host}")
        )
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        response.headers.setdefault("Cache-Control", "no-cache")
    return response


class HttpServer:
    """The aiohttp application and its listener, started and stopped by the shell."""

    def __init__(self, shell: Shell, origins: tuple[str, ...] = ()) -> None:
        self.shell = shell
        self.origins = origins
        self.registry = metrics.registry_for(shell.world)
        self.runner: web.AppRunner | None = None

    def app(self) -> web.Application:
        app = web.Application(middlewares=[_headers])
        app.router.add_get("/", self._index)
        app.router.add_get("/ws", self._websocket)
        app.router.add_get("/healthz", self._health)
        app.router.add_get("/metrics", self._metrics)
        app.router.add_static("/static/", WEB_DIR, follow_symlinks=False)
        return app

    async def start(
        self, host: str, port: int, ssl_context: ssl.SSLContext | None = None
    ) -> list[tuple[str, int]]:
        """Listen; returns the bound addresses (port 0 picks a free one)."""
        self.runner = web.AppRunner(
            self.app(), access_log=None, handle_signals=False, shutdown_timeout=1
        )
        await self.runner.setup()
        site = web.TCPSite(self.runner, host, port, ssl_context=ssl_context)
        await site.start()
        bound = [(str(a[0]), int(a[1])) for a in self.runner.addresses]
        for addr in bound:
            log.info("listening", extra={"kind": "http", "host": addr[0], "port": addr[1]})
        return bound

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()
            self.runner = None

    # --------------------------------------------------------------- handlers

    async def _index(self, request: web.Request) -> web.StreamResponse:
        return web.FileResponse(WEB_DIR / "index.html")

    async def _health(self, request: web.Request) -> web.Response:
        world = self.shell.world
        body = {"status": "ok", "connections": len(world.sessions)}
        return web.Response(text=json.dumps(body), content_type="application/json")

    async def _metrics(self, request: web.Request) -> web.Response:
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
        conn = WebSocketConnection(self.shell, ws, transport, secure=request.secure)
        await conn.run(request.remote or "unknown")
        return ws
