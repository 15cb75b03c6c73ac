"""Raw IRCv3 clients for the conformance tests (``test_conformance_v3_*``).

Each ``Peer`` is a bare TCP connection that parses what it reads into ``Msg`` (tags
unescaped as the message-tags spec says), and reads "everything the server answered so
far" with a PING barrier: ChatRoom answers a connection's commands in order, so whatever
arrives before the ``PONG`` to a fresh token is the whole answer to the lines sent before
it, and what other connections caused meanwhile. Nothing here comes from the server's own
parser: the tests read the wire as an independent client would.
"""

from __future__ import annotations

import base64
import itertools
import socket
import ssl
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from chatroom.config import Config
from tests.integration.moderation_support import PASSWORD, config_with_accounts
from tests.realserver import ServerThread

_ESCAPES = {":": ";", "s": " ", "\\": "\\", "r": "\r", "n": "\n"}
_tokens = itertools.count(1)


@dataclass
class Msg:
    """One line from the server, split as RFC 1459 and message-tags describe it."""

    raw: str
    tags: dict[str, str] = field(default_factory=dict)
    source: str = ""
    command: str = ""
    params: list[str] = field(default_factory=list)

    @property
    def nick(self) -> str:
        return self.source.split("!", 1)[0]


def unescape(value: str) -> str:
    out, chars = [], iter(value)
    for char in chars:
        if char != "\\":
            out.append(char)
            continue
        following = next(chars, "")
        out.append(_ESCAPES.get(following, following))
    return "".join(out)


def parse(line: str) -> Msg:
    msg = Msg(raw=line)
    rest = line
    if rest.startswith("@"):
        tag_part, rest = rest[1:].split(" ", 1)
        for item in tag_part.split(";"):
            key, _, value = item.partition("=")
            msg.tags[key] = unescape(value)
    if rest.startswith(":"):
        msg.source, rest = rest[1:].split(" ", 1)
    head, colon, trailing = rest.partition(" :")
    words = head.split()
    msg.command, msg.params = words[0].upper(), words[1:]
    if colon:
        msg.params.append(trailing)
    return msg


class Peer:
    """A raw client: ``send`` lines, ``sync`` to get what came back up to a barrier."""

    def __init__(self, port: int, nick: str = "", tls: ssl.SSLContext | None = None) -> None:
        sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.sock = tls.wrap_socket(sock, server_hostname="localhost") if tls else sock
        self.nick = nick
        self._buffer = b""

    def send(self, *lines: str) -> None:
        self.sock.sendall("".join(line + "\r\n" for line in lines).encode())

    def _next_line(self, deadline: float) -> str:
        while b"\r\n" not in self._buffer:
            self.sock.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                chunk = self.sock.recv(65536)
            except TimeoutError:
                chunk = None
            if chunk == b"":
                raise AssertionError(f"{self.nick}: connection closed")
            if chunk:
                self._buffer += chunk
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.nick}: no complete line in time")
        line, self._buffer = self._buffer.split(b"\r\n", 1)
        return line.decode("utf-8", "replace")

    def until(self, command: str, timeout: float = 10.0) -> list[Msg]:
        """Messages up to and including the first whose command is ``command``."""
        deadline = time.monotonic() + timeout
        got: list[Msg] = []
        while True:
            msg = parse(self._next_line(deadline))
            if msg.command == "PING":
                self.send(f"PONG :{msg.params[-1]}")
                continue
            got.append(msg)
            if msg.command == command:
                return got

    def sync(self, timeout: float = 10.0) -> list[Msg]:
        """Everything that arrived before the PONG to a fresh PING (the PONG left out)."""
        token = f"sync{next(_tokens)}"
        self.send(f"PING {token}")
        deadline = time.monotonic() + timeout
        got: list[Msg] = []
        while True:
            msg = parse(self._next_line(deadline))
            if msg.command == "PONG" and msg.params and msg.params[-1] == token:
                return got
            if msg.command == "PING":
                self.send(f"PONG :{msg.params[-1]}")
                continue
            got.append(msg)

    def ask(self, *lines: str) -> list[Msg]:
        """``lines`` then everything answered to them."""
        self.send(*lines)
        return self.sync()

    def close(self) -> None:
        self.sock.close()


def plain_blob(account: str, password: str = PASSWORD, authzid: str = "") -> str:
    return base64.b64encode(f"{authzid}\0{account}\0{password}".encode()).decode()


class Peers:
    """Makes registered peers on one server and closes them all at the end."""

    def __init__(self, server: ServerThread) -> None:
        self.server = server
        self.made: list[Peer] = []

    def raw(self, nick: str = "") -> Peer:
        peer = Peer(self.server.port, nick)
        self.made.append(peer)
        return peer

    def connect(self, nick: str, *caps: str, account: str = "") -> Peer:
        """A registered client with ``caps`` (``sasl`` added for ``account``, logged in
        with SASL PLAIN and ``PASSWORD``), its welcome burst read."""
        peer = self.raw(nick)
        wanted = list(caps) + (["sasl"] if account and "sasl" not in caps else [])
        if wanted:
            peer.send("CAP LS 302", f"CAP REQ :{' '.join(wanted)}")
        if account:
            peer.send("AUTHENTICATE PLAIN", f"AUTHENTICATE {plain_blob(account)}")
        peer.send(f"NICK {nick}", f"USER {nick} 0 * :{nick} real")
        if wanted:
            peer.send("CAP END")
        burst = peer.until("376")
        if account:
            assert any(m.command == "903" for m in burst), [m.raw for m in burst]
        peer.sync()
        return peer

    def close(self) -> None:
        for peer in self.made:
            peer.close()


@contextmanager
def serving(config: Config) -> Iterator[Peers]:
    """``Peers`` on a server started with ``config``; at the end the peers close, then the
    server stops (the shared body of the conformance_v3 files' fixtures)."""
    server = ServerThread(config).start()
    made = Peers(server)
    try:
        yield made
    finally:
        made.close()
        server.stop()


def accounts_config(tmp_path: Path, *names: str) -> Config:
    """Flood control off (tests pipeline many lines), the oper ``admin`` and the accounts
    ``names``, each with ``PASSWORD``."""
    return config_with_accounts(tmp_path, *names)


def commands(msgs: list[Msg]) -> list[str]:
    return [m.command for m in msgs]


def only(msgs: list[Msg], command: str) -> list[Msg]:
    return [m for m in msgs if m.command == command]


def batch_body(msgs: list[Msg], kind: str) -> tuple[Msg, list[Msg], Msg]:
    """The opening ``BATCH +ref kind``, the lines tagged with its ref, and its end."""
    start = next(m for m in msgs if m.command == "BATCH" and m.params[1:2] == [kind])
    ref = start.params[0][1:]
    inside = [m for m in msgs if m.tags.get("batch") == ref]
    end = next(m for m in msgs if m.command == "BATCH" and m.params == [f"-{ref}"])
    return start, inside, end
