"""Trust on first use: ask once, go on when the pin matches, refuse loudly when it changes.

The server is a tiny TLS listener with a self-signed certificate made here; it records
every byte it receives, so each test can check that nothing was sent before trust.
"""

from __future__ import annotations

import asyncio
import ssl
from pathlib import Path

import pytest

from chatroom.client.connection import CertificateChanged, Endpoint, TrustRejected, open_stream
from tests.certs import make_self_signed


def make_cert(directory: Path, name: str) -> tuple[Path, Path, str]:
    return make_self_signed(directory, name, "localhost")


class TlsRecorder:
    def __init__(self, cert: Path, key: Path) -> None:
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(cert, key)
        self.received = b""
        self.port = 0

    async def __aenter__(self) -> TlsRecorder:
        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                while data := await reader.read(1024):
                    self.received += data
            except (OSError, ssl.SSLError):
                pass
            writer.close()

        self.server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=self.ctx)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.server.close()


async def _connect(endpoint: Endpoint, answer: bool) -> tuple[str, list[str]]:
    asked: list[str] = []

    async def ask(host: str, port: int, fingerprint: str) -> bool:
        asked.append(fingerprint)
        return answer

    _, writer, pin = await open_stream(endpoint, ask)
    writer.write(b"CAP LS 302\r\n")
    await writer.drain()
    writer.close()
    return pin, asked


def test_first_connection_asks_and_returns_the_fingerprint_to_pin(tmp_path: Path) -> None:
    cert, key, fingerprint = make_cert(tmp_path, "a")

    async def scenario() -> None:
        async with TlsRecorder(cert, key) as srv:
            pin, asked = await _connect(Endpoint("127.0.0.1", srv.port), answer=True)
            assert asked == [fingerprint]
            assert pin == fingerprint

    asyncio.run(scenario())


def test_a_matching_pin_connects_without_asking(tmp_path: Path) -> None:
    cert, key, fingerprint = make_cert(tmp_path, "a")

    async def scenario() -> None:
        async with TlsRecorder(cert, key) as srv:
            pin, asked = await _connect(Endpoint("127.0.0.1", srv.port, pin=fingerprint), True)
            assert (pin, asked) == ("", [])
            await asyncio.sleep(0.1)
            assert srv.received == b"CAP LS 302\r\n"

    asyncio.run(scenario())


def test_a_changed_certificate_is_refused_before_anything_is_sent(tmp_path: Path) -> None:
    cert, key, _ = make_cert(tmp_path, "new")
    _, _, old_fingerprint = make_cert(tmp_path, "old")

    async def scenario() -> None:
        async with TlsRecorder(cert, key) as srv:
            endpoint = Endpoint("127.0.0.1", srv.port, pin=old_fingerprint, name="home")
            with pytest.raises(CertificateChanged) as err:
                await _connect(endpoint, answer=True)
            assert "CHANGED" in str(err.value)
            assert "chatroom connect home --forget-pin" in str(err.value)
            await asyncio.sleep(0.1)
            assert srv.received == b""

    asyncio.run(scenario())


def test_declining_the_certificate_sends_nothing(tmp_path: Path) -> None:
    cert, key, _ = make_cert(tmp_path, "a")

    async def scenario() -> None:
        async with TlsRecorder(cert, key) as srv:
            with pytest.raises(TrustRejected):
                await _connect(Endpoint("127.0.0.1", srv.port), answer=False)
            await asyncio.sleep(0.1)
            assert srv.received == b""

    asyncio.run(scenario())


def test_a_ca_signed_certificate_is_verified_normally(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A certificate the system trusts (here: our test CA, trusted via SSL_CERT_FILE) for
    the host name is accepted without any question and without pinning."""
    cert, key, _ = make_cert(tmp_path, "ca")
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))

    async def scenario() -> None:
        async with TlsRecorder(cert, key) as srv:
            pin, asked = await _connect(Endpoint("localhost", srv.port), answer=False)
            assert (pin, asked) == ("", [])

    asyncio.run(scenario())
