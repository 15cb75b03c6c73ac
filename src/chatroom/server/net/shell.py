"""The thin asyncio shell around the core: listeners, flushing, ticking, shutdown.

The shell owns every socket and timer; the core owns every decision. After each input
the shell calls ``schedule_flush``; the flush runs once per event-loop pass, so the lines
queued for one connection by many inputs leave in a single write.
"""

from __future__ import annotations

import asyncio
import logging
import time

from chatroom.config import Config
from chatroom.server.core.effects import Close
from chatroom.server.core.session import Session
from chatroom.server.core.world import World
from chatroom.server.net.connection import IrcConnection

log = logging.getLogger("chatroom.net")


class Shell:
    def __init__(self, config: Config) -> None:
        self.config = config
        self.world = World(config.core, time.time)
        self.connections: dict[int, IrcConnection] = {}
        self.servers: list[asyncio.Server] = []
        self._flush_scheduled = False
        self._ticker: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    # --------------------------------------------------------------- connection events

    def opened(self, conn: IrcConnection, ip: str, secure: bool) -> Session:
        session = self.world.connect(ip, secure=secure)
        self.connections[session.id] = conn
        self.schedule_flush()
        return session

    def lost(self, session: Session, reason: str) -> None:
        self.world.disconnect(session, reason)
        self.connections.pop(session.id, None)
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
                    world.disconnect(session, "SendQ exceeded")
                    conn.abort()
            for effect in world.take_effects():
                if isinstance(effect, Close):
                    conn = self.connections.get(effect.session_id)
                    if conn is not None:
                        conn.close()

    # --------------------------------------------------------------- lifecycle

    async def start(self) -> list[tuple[str, int]]:
        """Open the listeners; returns the bound addresses (port 0 picks a free port)."""
        self._loop = asyncio.get_running_loop()
        listen = self.config.listen
        bound: list[tuple[str, int]] = []
        if listen.port is not None:
            server = await self._loop.create_server(
                lambda: IrcConnection(self, secure=False), listen.host, listen.port
            )
            self.servers.append(server)
            for sock in server.sockets:
                addr = sock.getsockname()
                bound.append((addr[0], addr[1]))
                log.info("listening", extra={"kind": "irc", "host": addr[0], "port": addr[1]})
        self._ticker = asyncio.create_task(self._tick_forever())
        return bound

    async def _tick_forever(self) -> None:
        while True:
            await asyncio.sleep(1.0)
            self.world.tick()
            self.flush()

    async def shutdown(self, reason: str = "Server shutting down") -> None:
        """Stop accepting, tell every client why, let the writes drain, then close."""
        for server in self.servers:
            server.close()
        if self._ticker is not None:
            self._ticker.cancel()
        for session in list(self.world.sessions.values()):
            self.world.close(session, reason)
        self.flush()
        deadline = time.monotonic() + 2.0
        while self.connections and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        for conn in list(self.connections.values()):
            conn.abort()
        for server in self.servers:
            await server.wait_closed()
        log.info("stopped")
