"""The network side of the client: TCP or TLS with trust on first use, and reconnecting.

Trust rules (as SSH does with host keys):

* A certificate that verifies against the system's CAs for the host name is accepted.
* Otherwise the handshake is repeated without verification only to read the certificate,
  and its SHA-256 fingerprint (of the DER bytes, lowercase hex, the form the server prints
  at start) is compared with the pin. Same: go on over that connection — the handshake
  proved the server holds the pinned key. No pin yet: ask the user, showing the
  fingerprint. Different: refuse, loudly, with the command to re-pin.
* All of this finishes before ``ClientSession.start`` queues its first line, so neither a
  password nor even a nickname reaches a server whose identity is not settled.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import random
import socket
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from chatroom import fingerprints
from chatroom.client.commands import QuitRequested, execute
from chatroom.client.session import ClientSession
from chatroom.client.state import AuthFailed, Closed, Event, Registered, StateChanged
from chatroom.irc.framing import LineBuffer, LineTooLong
from chatroom.irc.message import ParseError, parse

__all__ = [
    "CertificateChanged",
    "ConnectionStatus",
    "Endpoint",
    "IrcClient",
    "TrustRejected",
    "format_fingerprint",
    "open_stream",
]

AskTrust = Callable[[str, int, str], Awaitable[bool]]
CONNECT_TIMEOUT = 15.0
MAX_BACKOFF = 60.0
MARK_EVERY = 1.0
"""Seconds between sends of the read markers that moved (draft/read-marker): reading a
burst of lines costs one MARKREAD per conversation, not one per line."""


@dataclass(frozen=True, slots=True)
class Endpoint:
    host: str
    port: int
    tls: bool = True
    pin: str = ""
    name: str = ""  # the saved server's name, for the re-pin command in warnings


@dataclass(frozen=True, slots=True)
class ConnectionStatus:
    """Connection-level news for the UI; ``final`` means no reconnect will follow."""

    text: str
    connected: bool = False
    final: bool = False


# Eight groups of eight hex digits: the server's own form (``chatroom serve`` prints 64
# lowercase hex digits and this one too), only spaced so that it can be compared by eye.
format_fingerprint = fingerprints.grouped
normalize_fingerprint = fingerprints.normalize


def _indented_rows(fingerprint: str) -> str:
    """Two lines of four groups, indented: whole groups at any width down to 37 columns."""
    return "\n".join(f"  {row}" for row in fingerprints.grouped_rows(fingerprint))


class CertificateChanged(Exception):  # noqa: N818 (it is the name users will see)
    """The server's certificate is not the pinned one: maybe an attack, maybe a new key."""

    def __init__(self, endpoint: Endpoint, got: str) -> None:
        self.endpoint = endpoint
        self.got = got
        who = endpoint.name or f"{endpoint.host}:{endpoint.port}"
        super().__init__(
            "WARNING: THE SERVER'S CERTIFICATE HAS CHANGED!\n"
            f"{who} now shows a certificate with SHA-256 fingerprint\n{_indented_rows(got)}\n"
            f"but you pinned\n{_indented_rows(endpoint.pin)}\n"
            "Someone may be intercepting the connection. Nothing was sent; ask the server's "
            "operator whether the certificate was replaced. If it was, re-pin with:\n"
            f"  chatroom connect {who} --forget-pin"
        )


class TrustRejected(Exception):  # noqa: N818
    """The user declined the certificate shown on first connection."""


def _unverified_context() -> ssl.SSLContext:
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


async def _open(
    endpoint: Endpoint, ctx: ssl.SSLContext | None
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.wait_for(
        asyncio.open_connection(
            endpoint.host,
            endpoint.port,
            ssl=ctx,
            server_hostname=endpoint.host if ctx is not None else None,
            limit=1 << 16,
        ),
        CONNECT_TIMEOUT,
    )


def _peer_fingerprint(writer: asyncio.StreamWriter) -> str:
    ssl_object = writer.get_extra_info("ssl_object")
    der = ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None
    if not der:
        raise ssl.SSLError("the server sent no certificate")
    return hashlib.sha256(der).hexdigest()


async def _close(writer: asyncio.StreamWriter) -> None:
    """Close politely (TLS close_notify), but never leave the socket open behind us:
    when the wait is cut short (the app is quitting and cancels us) or takes too long,
    the transport is aborted, which closes the socket at once."""
    writer.close()
    try:
        await asyncio.wait_for(writer.wait_closed(), 2)
    except asyncio.CancelledError:
        writer.transport.abort()
        raise
    except (TimeoutError, OSError, ssl.SSLError):
        writer.transport.abort()


async def open_stream(
    endpoint: Endpoint, ask: AskTrust
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter, str]:
    """Connect and settle the server's identity. Returns the stream and the fingerprint the
    caller should pin ("" when none is needed: plain TCP, CA-verified, or already pinned).

    Raises ``CertificateChanged``, ``TrustRejected``, or ``OSError`` for network trouble.
    """
    if not endpoint.tls:
        reader, writer = await _open(endpoint, None)
        return reader, writer, ""
    if not endpoint.pin:
        try:
            reader, writer = await _open(endpoint, ssl.create_default_context())
            return reader, writer, ""
        except ssl.SSLCertVerificationError:
            pass  # self-signed or unknown CA: trust on first use below
    reader, writer = await _open(endpoint, _unverified_context())
    got = _peer_fingerprint(writer)
    if endpoint.pin and normalize_fingerprint(endpoint.pin) == got:
        return reader, writer, ""
    if endpoint.pin:
        await _close(writer)
        try:  # a server that moved to a CA-signed certificate is fine
            reader, writer = await _open(endpoint, ssl.create_default_context())
            return reader, writer, ""
        except ssl.SSLCertVerificationError:
            raise CertificateChanged(endpoint, got) from None
    if not await ask(endpoint.host, endpoint.port, got):
        await _close(writer)
        raise TrustRejected("Certificate rejected: disconnected before sending anything.")
    return reader, writer, got


class IrcClient:
    """Runs one session over the network until the user quits or retrying is pointless.

    ``on_event`` receives the session's events and ``ConnectionStatus`` news; ``on_pin``
    is told the fingerprint the user accepted, to save it.
    """

    def __init__(
        self,
        session: ClientSession,
        endpoint: Endpoint,
        on_event: Callable[[Event | ConnectionStatus], None],
        ask_trust: AskTrust,
        on_pin: Callable[[str], None] = lambda fp: None,
        *,
        reconnect: bool = True,
    ) -> None:
        self.session = session
        self.endpoint = endpoint
        self.on_event = on_event
        self.ask_trust = ask_trust
        self.on_pin = on_pin
        self.reconnect = reconnect
        self.writer: asyncio.StreamWriter | None = None
        self.ever_registered = False
        self.quitting = False
        self._stop_retrying = False

    def _emit(self, events: list[Event]) -> None:
        for event in events:
            if isinstance(event, Registered):
                self.ever_registered = True
            elif isinstance(event, AuthFailed) or (isinstance(event, Closed) and not event.retry):
                self._stop_retrying = True
            self.on_event(event)
        self.flush()

    def flush(self) -> None:
        out = self.session.take_output()
        if out and self.writer is not None and not self.writer.is_closing():
            self.writer.write(b"".join(out))

    def submit(self, buffer: str, text: str) -> None:
        """Run a line the user typed; /quit ends the client after sending QUIT."""
        try:
            events = execute(self.session, buffer, text)
        except QuitRequested:
            self.quitting = True
            self.flush()  # the server answers QUIT with ERROR and closes
            return
        self._emit(events)

    async def run(self) -> None:
        """Connect, talk, and reconnect with backoff (1, 2, 4 ... 60 s, with jitter)."""
        delay = 1.0
        while True:
            try:
                await self._connect_once()
                delay = 1.0
            except (CertificateChanged, TrustRejected) as err:
                self.on_event(ConnectionStatus(str(err), final=True))
                return
            except (TimeoutError, OSError, ssl.SSLError) as err:
                reason = str(err) or type(err).__name__
                if self._stop_retrying:  # the login failed and we quit: the pipe broke after
                    self.on_event(ConnectionStatus("Disconnected.", final=True))
                    return
                if not self.ever_registered:
                    text = f"Could not connect to {self.endpoint.host}:{self.endpoint.port}: "
                    self.on_event(
                        ConnectionStatus(text + reason + self._port_hint(err), final=True)
                    )
                    return
                self.on_event(ConnectionStatus(f"Connection lost: {reason}"))
            if self.quitting or self._stop_retrying or not self.reconnect:
                self.on_event(ConnectionStatus("Disconnected.", final=True))
                return
            self.session.reconnecting()  # rooms show as left until we are back
            self.on_event(StateChanged(None))
            wait = min(delay, MAX_BACKOFF) * random.uniform(0.8, 1.2)
            self.on_event(ConnectionStatus(f"Disconnected. Reconnecting in {wait:.0f} s…"))
            await asyncio.sleep(wait)
            delay *= 2

    def _port_hint(self, err: Exception) -> str:
        """The usual first-connection mix-up, named: TLS to the plain IRC port (no TLS
        answer comes) or plain IRC to the TLS port (closed before the welcome)."""
        if self.endpoint.tls and isinstance(err, TimeoutError | ssl.SSLError):
            return " (no TLS answer: if that is a plain IRC port, add --no-tls)"
        if not self.endpoint.tls and isinstance(err, ConnectionResetError):
            return " (if that is the TLS port, connect without --no-tls)"
        return ""

    async def _connect_once(self) -> None:
        reader, writer, new_pin = await open_stream(self.endpoint, self.ask_trust)
        if new_pin:
            self.on_pin(new_pin)
            self.endpoint = Endpoint(
                self.endpoint.host, self.endpoint.port, True, new_pin, self.endpoint.name
            )
        self.writer = writer
        sock = writer.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.on_event(ConnectionStatus(f"Connected to {self.endpoint.host}", connected=True))
        self.session.start()
        self.flush()
        framer = LineBuffer()
        marking = asyncio.create_task(self._send_read_markers())
        try:
            while True:
                data = await reader.read(1 << 16)
                if not data:
                    break
                for raw in framer.feed(data):
                    if isinstance(raw, LineTooLong):
                        continue
                    try:
                        msg = parse(raw)
                    except ParseError:
                        continue
                    self._emit(self.session.feed(msg))
        finally:
            marking.cancel()
            self.writer = None
            await _close(writer)
        if not self.quitting and not self._stop_retrying:
            raise ConnectionResetError("the server closed the connection")

    async def _send_read_markers(self) -> None:
        while True:
            await asyncio.sleep(MARK_EVERY)
            self.session.markers.send_due()
            self.flush()

    async def quit(self, message: str = "Leaving") -> None:
        self.quitting = True
        if self.writer is not None:
            self.session.send("QUIT", message)
            self.flush()
