"""The thin asyncio shell around the core: listeners, flushing, ticking, shutdown.

The shell owns every socket and timer; the core owns every decision. After each input
the shell calls ``schedule_flush``; the flush runs once per event-loop pass, so the lines
queued for one connection by many inputs leave in a single write.
"""

from __future__ import annotations

import asyncio
import errno
import ipaddress
import logging
import socket
import ssl
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from chatroom.config import Config, ConfigError
from chatroom.irc.framing import LineBuffer
from chatroom.logs import error_text
from chatroom.server.core.effect_dispatch import dispatch_effect
from chatroom.server.core.reconfigure import Reloaded
from chatroom.server.core.session import Session
from chatroom.server.core.world import World
from chatroom.server.net import fdlimit, rehash, tls
from chatroom.server.net.backends import Backends
from chatroom.server.net.backpressure import HistoryBackpressure
from chatroom.server.net.connection import Connection, IrcConnection
from chatroom.server.net.inputs import Inputs
from chatroom.server.net.rehash import ConfigSource
from chatroom.server.net.tls_gate import TlsGate
from chatroom.server.store.private import private_dir, warn_loose_files

if TYPE_CHECKING:
    from chatroom.server.cluster.node import ClusterNode
    from chatroom.server.net.http import HttpServer

log = logging.getLogger("chatroom.net")


@contextmanager
def _port_in_use(host: str, port: int, what: str, key: str, flag: str) -> Iterator[None]:
    """Turn a listener that cannot start (port taken, an address this machine does not
    have, a privileged port) into one line that says which and what to do."""
    try:
        yield
    except OSError as err:
        where = f"cannot listen for {what} on {host}:{port}"
        if isinstance(err, socket.gaierror) or err.errno == errno.EADDRNOTAVAIL:
            raise ConfigError(
                f"{where}: {host!r} is not an address of this machine. Give --host (or"
                " listen.host in the config) one of its own: 127.0.0.1 for this machine only,"
                " 0.0.0.0 for every address"
            ) from None
        if err.errno == errno.EACCES:
            raise ConfigError(
                f"{where}: ports below 1024 need root (or CAP_NET_BIND_SERVICE). Pick a port"
                f" from 1024 up with {flag} PORT or {key} in the config"
            ) from None
        if err.errno != errno.EADDRINUSE:
            raise
        raise ConfigError(
            f"{where}: another program already uses that port."
            f" Stop it (is another `chatroom serve` running?), or pick another port with"
            f" {flag} PORT or {key} in the config ('off' turns the listener off)"
        ) from None


def is_loopback_host(host: str) -> bool:
    """A listen address reachable only from this machine (``0.0.0.0`` is every address)."""
    if host.lower().rstrip(".") == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class Shell:
    def __init__(self, config: Config, source: ConfigSource | None = None) -> None:
        self.config = config
        self.config_source = source  # to read the file again (REHASH, SIGHUP)
        # On a cluster node every input goes through the network's log (server/cluster).
        self.cluster: ClusterNode | None = None
        if config.cluster_url:
            from chatroom.server.cluster.node import ClusterNode
            from chatroom.server.cluster.replica import NetworkClock

            clock = NetworkClock()
            self.world = World(config.core, clock)
            self.world.ordered_history = True  # several nodes write history: number it
            self.cluster = ClusterNode(self, self.world, clock, config)
        else:
            self.world = World(config.core, time.time)
        self.inputs: Inputs = self.cluster if self.cluster is not None else self.world
        self.connections: dict[int, Connection] = {}
        # The line framer that TCP connections with no partial line pending share (see
        # IrcConnection.data_received): one per shell, so one per event loop.
        self.spare_framer = LineBuffer()
        self.servers: list[asyncio.Server] = []
        self.http: HttpServer | None = None
        self._flush_scheduled = False
        self._ticker: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.backends: Backends | None = None
        self.history_backpressure: HistoryBackpressure | None = None
        self.tls_context: ssl.SSLContext | None = None
        self.tls_gate: TlsGate | None = None
        self.tls_files: tuple[Path, Path] | None = None
        self.notices: list[str] = []  # what an operator must know, printed at start

    # --------------------------------------------------------------- connection events

    def opened(
        self, conn: Connection, ip: str, secure: bool, certfp: str | None = None
    ) -> Session | None:
        """A socket was accepted; its session, or None on a cluster node, which attaches
        the session (``Connection.attach``) once the network has applied the connect."""
        if self.cluster is not None:
            self.cluster.connect(conn, ip, secure, certfp)
            return None
        session = self.world.connect(ip, secure=secure, certfp=certfp)
        self.connections[session.id] = conn
        self.schedule_flush()
        return session

    def lost(self, conn: Connection, reason: str) -> None:
        session = conn.session
        if session is None:
            if self.cluster is not None:
                self.cluster.forget(conn)
            return
        self.inputs.disconnect(session, reason)
        self.connections.pop(session.id, None)
        if self.history_backpressure is not None:
            self.history_backpressure.forget(conn)
        self.schedule_flush()

    # --------------------------------------------------------------- output

    def schedule_flush(self) -> None:
        if not self._flush_scheduled:
            self._flush_scheduled = True
            asyncio.get_running_loop().call_soon(self.flush)

    def flush(self) -> None:
        """Write everything the core queued, then carry out its other effects."""
        self._flush_scheduled = False
        world = self.world
        limit = self.config.sendq_bytes
        while world.ready or world.effects:
            for session in world.take_ready():
                lines = session.take_output()
                conn = self.connections.get(session.id)
                if conn is None:
                    continue
                if conn.write_lines(lines) > limit:
                    log.info("sendq exceeded", extra={"session": session.id})
                    world.stats.sendq_drops += 1
                    self.inputs.disconnect(session, "SendQ exceeded")
                    conn.abort()
            # Until start() makes the backends no connection exists, so no effect has
            # anything to act on yet (they were always dropped then).
            backends = self.backends
            for effect in world.take_effects():
                if backends is not None:
                    dispatch_effect(effect, backends)
        if self.history_backpressure is not None:
            self.history_backpressure.after_flush()

    def close_connection(self, session_id: int) -> None:
        """The core's ``Close``: flush what is queued for the connection, then close it."""
        conn = self.connections.get(session_id)
        if conn is not None:
            conn.close()

    # --------------------------------------------------------------- lifecycle

    async def start(self) -> list[tuple[str, str, int]]:
        """Open the listeners; returns (kind, host, port) for each, kind "irc" or "http".

        Port 0 picks a free port, which is why the bound addresses are returned.
        """
        self._loop = asyncio.get_running_loop()
        listen = self.config.listen
        bound: list[tuple[str, str, int]] = []
        file_limit = fdlimit.raise_open_file_limit()
        warn_loose_files(self.config.data_dir)
        private_dir(self.config.data_dir)
        self.backends = Backends(
            self.config,
            self.world,
            self.schedule_flush,
            self.close_connection,
            self.rehash,
            self.inputs,
        )
        if self.cluster is None:
            self.backends.start()
        else:
            await self._join_network(self.cluster, self.backends)
        self.history_backpressure = HistoryBackpressure(
            self.backends.history_writer, self.config.core.history.queue_limit
        )
        if listen.port is not None:
            with _port_in_use(listen.host, listen.port, "plain IRC", "listen.port", "--port"):
                server = await self._loop.create_server(
                    lambda: IrcConnection(self),
                    listen.host,
                    listen.port,
                    reuse_port=listen.reuse_port or None,
                )
            self.servers.append(server)
            for sock in server.sockets:
                addr = sock.getsockname()
                bound.append(("irc", addr[0], addr[1]))
                log.info("listening", extra={"kind": "irc", "host": addr[0], "port": addr[1]})
        if self.config.tls.port is not None:
            tls_port = self.config.tls.port
            with _port_in_use(
                listen.host, tls_port, "IRC over TLS", "listen.tls_port", "--tls-port"
            ):
                bound.append(await self._start_tls(listen.host, tls_port))
        if listen.http_port is not None:
            # The web server (aiohttp, prometheus_client: ~15 MB resident once imported)
            # is loaded only when it is configured.
            from chatroom.server.net.http import HttpServer

            self.http = HttpServer(self, self.config.http)
            https = self._web_tls_context()
            kind = "https" if https is not None else "http"
            http_port = listen.http_port
            with _port_in_use(listen.host, http_port, "the web", "listen.http_port", "--http-port"):
                for host, port in await self.http.start(
                    listen.host, http_port, https, listen.reuse_port
                ):
                    bound.append((kind, host, port))
        self._ticker = asyncio.create_task(self._tick_forever())
        # Measured last, when everything that stays open is open.
        capacity = fdlimit.connection_capacity(file_limit)
        self.world.occupancy.fd_capacity = capacity
        log.info("open file limit", extra={"limit": file_limit, "connection_capacity": capacity})
        return bound

    async def _join_network(self, cluster: ClusterNode, backends: Backends) -> None:
        """Found or join the network; its log, not the store, gives this node its state."""
        loop = asyncio.get_running_loop()
        replay = self.world.settings.history.replay_lines
        snapshot = await loop.run_in_executor(None, backends.store.load)
        recent = await loop.run_in_executor(None, backends.history.recent, replay)
        # The nodes' commits are the network's own, not changes from outside.
        for store in (backends.store, backends.history):
            if hasattr(store, "origin"):
                store.origin = cluster.network_origin
        await cluster.start(snapshot, recent)
        backends.start(load_state=False)

    def _web_tls_context(self) -> ssl.SSLContext | None:
        """HTTPS for the web client whenever passwords would otherwise cross a network.

        Off loopback the web client is served over HTTPS (``http.tls = "auto"``): with the
        operator's certificate (tls.cert) if there is one, else with the server's own
        self-signed one, which browsers accept once the user confirms it. Plain HTTP off
        loopback only if the operator says so (``http.tls = "off"``, e.g. behind a TLS
        proxy); logins over it are then refused unless a trusted proxy says "https".
        """
        mode = self.config.http.tls
        loopback = is_loopback_host(self.config.listen.host)
        own_cert = self.config.tls.cert is not None
        if mode == "off" or (mode == "auto" and loopback and not own_cert):
            if not loopback:
                self.notices.append(
                    "warning: the web client is plain HTTP off loopback (http.tls = off);"
                    " passwords are refused on it unless a proxy in http.trusted_proxies"
                    " says the link is https"
                )
                log.warning("web client over plain HTTP off loopback")
            return None
        context = self._ensure_tls_context()
        if not own_cert:
            self.notices.append(
                "the web client uses HTTPS with the self-signed certificate"
                f" (SHA-256 {self.fingerprint}); browsers warn until it is accepted."
                " Set tls.cert and tls.key for a trusted one"
            )
        return context

    def _ensure_tls_context(self) -> ssl.SSLContext:
        """The server's TLS context; without a configured certificate, a self-signed one
        is made once (for IRC over TLS and HTTPS alike)."""
        if self.tls_context is None:
            conf = self.config.tls
            if conf.cert is not None and conf.key is not None:
                self.tls_files = (conf.cert, conf.key)
            else:
                self.tls_files = tls.ensure_self_signed(
                    self.config.data_dir, self.config.core.server_name
                )
            try:
                self.tls_context = tls.server_context(*self.tls_files)
            except (OSError, ssl.SSLError) as err:
                cert, key = self.tls_files
                raise ConfigError(
                    f"config keys 'tls.cert' and 'tls.key': cannot load {cert} with {key}"
                    f" ({err.strerror or err}); give a PEM certificate and its"
                    " private key, or leave both empty for a self-signed certificate"
                ) from None
        return self.tls_context

    async def _start_tls(self, host: str, port: int) -> tuple[str, str, int]:
        """IRC over TLS."""
        self._ensure_tls_context()
        # Counted at accept, before the handshake (net/tls_gate.py).
        self.tls_gate = TlsGate(self, self._ensure_tls_context)
        addr = (await self.tls_gate.start(host, port, self.config.listen.reuse_port))[0]
        conf = self.config.tls
        if conf.cert is not None and conf.sts_duration is not None:
            # STS only for a certificate clients can verify: a policy pinned to the
            # self-signed one would lock every client without a pin out of the server.
            self.world.sts_policy = (addr[1], conf.sts_duration)
        log.info(
            "listening",
            extra={"kind": "irc+tls", "host": addr[0], "port": addr[1], "sha256": self.fingerprint},
        )
        return ("tls", addr[0], addr[1])

    @property
    def fingerprint(self) -> str | None:
        """SHA-256 of the TLS certificate, for users to pin."""
        return tls.cert_fingerprint_sha256(self.tls_files[0]) if self.tls_files else None

    def rehash(self) -> Reloaded:
        """Read the config file again (net/rehash.py) and the TLS certificate files; the
        answer carries the core's new settings, which the caller has the world adopt."""
        self.reload_tls()
        config, reloaded = rehash.reread(self.config, self.config_source)
        if config is not None:
            self.config = config
        return reloaded

    def on_sighup(self) -> None:
        """SIGHUP: as REHASH, for operators at the shell; the outcome goes to the log. On a
        network the new settings must reach every node through the log (REHASH)."""
        if self.cluster is not None:
            self.reload_tls()
            # In the log: after `systemctl reload` nothing else says the file was not read.
            log.warning("config file not read again: %s", rehash.ON_A_NETWORK)
            return
        reloaded = self.rehash()  # never raises: a failure is in the answer and the log
        if reloaded.settings is not None:
            self.world.adopt_settings(reloaded.settings)
            self.flush()

    def reload_tls(self) -> None:
        """New handshakes use the certificate files as they are now on disk."""
        if self.tls_context is None or self.tls_files is None:
            return
        try:
            self.tls_context.load_cert_chain(*self.tls_files)
        except (OSError, ssl.SSLError) as err:
            log.error(
                "TLS certificate reload failed; keeping the old one",
                extra={"error": error_text(err)},
            )
            return
        log.info("TLS certificate reloaded", extra={"sha256": self.fingerprint})

    async def _tick_forever(self) -> None:
        if self.cluster is not None:
            return  # the network's ticks come through its log, from the lease holder
        while True:
            await asyncio.sleep(1.0)
            self.world.tick()
            self.flush()

    async def shutdown(self, reason: str = "Server shutting down") -> None:
        """Stop accepting, tell every client why, let the writes drain, then close."""
        for server in self.servers:
            server.close()
        if self.tls_gate is not None:
            self.tls_gate.stop()
        if self._ticker is not None:
            self._ticker.cancel()
        if self.cluster is not None:
            await self.cluster.leave(reason)  # our users quit for the rest of the network
        else:
            self.world.close_all(reason)
        self.flush()
        deadline = time.monotonic() + 2.0
        while self.connections and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        for conn in list(self.connections.values()):
            conn.abort()
        for server in self.servers:
            await server.wait_closed()
        if self.http is not None:
            await self.http.stop()
        if self.backends is not None:
            await self.backends.close()
        log.info("stopped")
