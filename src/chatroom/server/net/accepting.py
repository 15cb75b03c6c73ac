"""Listening sockets whose accept loop belongs to ChatRoom, not to the event loop.

The web port (http_gate.py) and the IRC TLS port (tls_gate.py) both count a connection in
the per-address and total limits the moment it is accepted, before any request or TLS
handshake, so they accept the sockets themselves. This is their shared part: binding
every address a host names, taking what the kernel queued, and backing off when accept
fails for want of descriptors. It imports nothing heavy (the TLS port must not bring in
aiohttp, tests/net/test_startup_imports.py).
"""

from __future__ import annotations

import asyncio
import errno
import logging
import socket

from chatroom.logs import error_text

log = logging.getLogger("chatroom.net")

BACKLOG = 128
# accept() failing for want of descriptors or memory: wait instead of spinning on it.
EXHAUSTED = {errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM}


class AcceptingSockets:
    """Bound listening sockets; each accepted one goes to ``_admit`` with its address."""

    def __init__(self) -> None:
        self.sockets: list[socket.socket] = []

    async def bind(self, host: str, port: int, reuse_port: bool) -> list[tuple[str, int]]:
        """Listen on every address ``host`` names (port 0 picks one); the pairs bound."""
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
                if reuse_port:  # several nodes on one machine (serve --workers)
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
                if family == socket.AF_INET6:
                    sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
                sock.bind(address)
                sock.listen(BACKLOG)
                sock.setblocking(False)
            except OSError:
                sock.close()
                self.close_sockets()
                raise
            self.sockets.append(sock)
            loop.add_reader(sock, self._accept, sock)
        return [(str(s.getsockname()[0]), int(s.getsockname()[1])) for s in self.sockets]

    def close_sockets(self) -> None:
        """Stop accepting: the listening sockets close (connections made stay)."""
        loop = asyncio.get_running_loop()
        for sock in self.sockets:
            loop.remove_reader(sock)
            sock.close()
        self.sockets.clear()

    def _admit(self, sock: socket.socket, ip: str) -> None:
        raise NotImplementedError

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
                log.error("accept failed", extra={"error": error_text(err)})
                if err.errno in EXHAUSTED:  # retrying at once would spin on the error
                    loop = asyncio.get_running_loop()
                    loop.remove_reader(listener)
                    loop.call_later(1.0, self._resume_accepting, listener)
                return
            self._admit(sock, str(peer[0]))

    def _resume_accepting(self, listener: socket.socket) -> None:
        if listener in self.sockets:
            asyncio.get_running_loop().add_reader(listener, self._accept, listener)
