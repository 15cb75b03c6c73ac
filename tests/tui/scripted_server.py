"""A small scripted IRC server on 127.0.0.1 port 0, for what ChatRoom itself never sends.

ChatRoom replays history only in chathistory batches and stamps every line with the time
it is said, so a test cannot make it replay a room outside a batch (as other servers and
bouncers do) or show lines from last week. This server registers the client as any
server would (CAP, 001, JOIN echoed with NAMES), then sends what the test tells it to,
with whatever ``time`` tags the test chooses.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime

__all__ = ["ScriptedServer", "stamp"]


def stamp(when: datetime) -> str:
    """An IRCv3 server-time value."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class ScriptedServer:
    """Accepts connections one at a time; the newest is the one the test talks to."""

    def __init__(self, caps: str = "server-time message-tags") -> None:
        self.caps = caps
        self.port = 0
        self.received: list[str] = []
        self.joins = 0
        self.nick = "*"
        self._writer: asyncio.StreamWriter | None = None
        self._server: asyncio.Server | None = None
        self._handlers: set[asyncio.Task[None]] = set()

    async def __aenter__(self) -> ScriptedServer:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.drop()
        if self._server is not None:
            self._server.close()
        for task in self._handlers:
            task.cancel()
        await asyncio.gather(*self._handlers, return_exceptions=True)

    def send(self, line: str) -> None:
        """Send one raw line to the connected client."""
        assert self._writer is not None, "no client connected"
        self._writer.write(line.encode() + b"\r\n")

    def say(self, nick: str, target: str, text: str, when: datetime, msgid: str = "") -> None:
        tags = f"time={stamp(when)}" + (f";msgid={msgid}" if msgid else "")
        self.send(f"@{tags} :{nick}!{nick.lower()}@host PRIVMSG {target} :{text}")

    def drop(self) -> None:
        """Close the connection, as a crashed server or a lost network would."""
        if self._writer is not None:
            self._writer.transport.abort()
            self._writer = None

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writer = writer
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        with contextlib.suppress(OSError, asyncio.IncompleteReadError):
            while line := (await reader.readline()).decode().rstrip("\r\n"):
                self.received.append(line)
                self._answer(line)
        if self._writer is writer:
            self._writer = None
        writer.transport.abort()

    def _answer(self, line: str) -> None:
        verb, _, rest = line.partition(" ")
        now = stamp(datetime.now(UTC))
        if verb == "CAP" and rest.startswith("LS"):
            self.send(f":scripted CAP * LS :{self.caps}")
        elif verb == "CAP" and rest.startswith("REQ"):
            self.send(f":scripted CAP * ACK {rest[4:]}")
        elif verb == "NICK":
            self.nick = rest
        elif verb == "CAP" and rest.startswith("END"):
            self.send(f":scripted 001 {self.nick} :Welcome to the scripted server")
        elif verb == "JOIN":
            for room in rest.split(" ")[0].split(","):
                self.joins += 1
                self.send(f"@time={now} :{self.nick}!u@host JOIN {room}")
                self.send(f":scripted 353 {self.nick} = {room} :{self.nick} bob")
                self.send(f":scripted 366 {self.nick} {room} :End of /NAMES list")
        elif verb == "PING":
            self.send(f":scripted PONG scripted {rest}")
