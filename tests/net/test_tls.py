"""TLS: the self-signed certificate, and real handshakes over 127.0.0.1 for CertFP."""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import ipaddress
import ssl
import stat
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from chatroom.server.net import tls
from chatroom.server.net.tls import (
    accepts_any_client_cert,
    cert_fingerprint_sha256,
    ensure_self_signed,
    peer_fingerprint,
    server_context,
)
from tests.certs import make_self_signed


def make_client_cert(directory: Path, name: str = "alice") -> tuple[Path, Path]:
    """A bare self-signed certificate, as IRC users make them for CertFP."""
    cert, key, _ = make_self_signed(directory, name)
    return cert, key


def client_context(server_cert: Path, client: tuple[Path, Path] | None = None) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.verify_flags |= ssl.VERIFY_X509_STRICT  # as Python 3.13 clients do by default
    context.load_verify_locations(server_cert)
    if client is not None:
        context.load_cert_chain(*client)
    return context


async def handshake(
    server: ssl.SSLContext, client: ssl.SSLContext, server_hostname: str = "localhost"
) -> str | None:
    """Connect once; return the fingerprint the server saw (None for no certificate)."""
    seen: asyncio.Future[str | None] = asyncio.get_running_loop().create_future()

    async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen.set_result(peer_fingerprint(writer.get_extra_info("ssl_object")))
        writer.write(b"hello\r\n")
        await writer.drain()
        writer.close()

    listener = await asyncio.start_server(on_connect, "127.0.0.1", 0, ssl=server)
    port = listener.sockets[0].getsockname()[1]
    try:
        reader, writer = await asyncio.open_connection(
            "127.0.0.1", port, ssl=client, server_hostname=server_hostname
        )
        assert await reader.readline() == b"hello\r\n"
        writer.close()
        await writer.wait_closed()
        return await asyncio.wait_for(seen, 5)
    finally:
        listener.close()
        await listener.wait_closed()


@pytest.fixture
def server_files(tmp_path: Path) -> tuple[Path, Path]:
    return ensure_self_signed(tmp_path / "data", "irc.example.org")


def test_self_signed_certificate_is_made_with_a_private_key_file(tmp_path: Path) -> None:
    cert_path, key_path = ensure_self_signed(tmp_path, "irc.example.org")
    assert cert_path.parent == key_path.parent == tmp_path
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
    key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    assert key.curve.name == "secp256r1"


def test_certificate_names_the_host_and_loopback_for_ten_years(tmp_path: Path) -> None:
    cert_path, _ = ensure_self_signed(tmp_path, "irc.example.org")
    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert set(san.get_values_for_type(x509.DNSName)) == {"irc.example.org", "localhost"}
    assert ipaddress.ip_address("127.0.0.1") in san.get_values_for_type(x509.IPAddress)
    lifetime = cert.not_valid_after_utc - cert.not_valid_before_utc
    assert lifetime > datetime.timedelta(days=3600)


def test_ip_address_hostname_goes_in_as_an_ip_entry(tmp_path: Path) -> None:
    cert_path, _ = ensure_self_signed(tmp_path, "192.0.2.10")
    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert ipaddress.ip_address("192.0.2.10") in san.get_values_for_type(x509.IPAddress)


def test_certificate_is_reused_on_next_start(tmp_path: Path) -> None:
    cert_path, key_path = ensure_self_signed(tmp_path, "irc.example.org")
    before = cert_path.read_bytes(), key_path.read_bytes()
    assert ensure_self_signed(tmp_path, "other.example.org") == (cert_path, key_path)
    assert (cert_path.read_bytes(), key_path.read_bytes()) == before


def test_fingerprint_is_lowercase_hex_sha256_of_the_der(tmp_path: Path) -> None:
    cert_path, _ = ensure_self_signed(tmp_path, "localhost")
    fingerprint = cert_fingerprint_sha256(cert_path)
    der = ssl.PEM_cert_to_DER_cert(cert_path.read_text())
    assert fingerprint == tls.fingerprint_der(der)
    assert len(fingerprint) == 64
    assert fingerprint == fingerprint.lower()
    assert ":" not in fingerprint


def test_server_context_requires_tls12_and_requests_client_certs(
    server_files: tuple[Path, Path],
) -> None:
    context = server_context(*server_files)
    assert context.minimum_version == ssl.TLSVersion.TLSv1_2
    assert context.verify_mode == ssl.CERT_OPTIONAL
    assert accepts_any_client_cert(context)


def test_client_without_certificate_connects(server_files: tuple[Path, Path]) -> None:
    server = server_context(*server_files)
    assert asyncio.run(handshake(server, client_context(server_files[0]))) is None


def test_client_certificate_fingerprint_is_seen_by_the_server(
    server_files: tuple[Path, Path], tmp_path: Path
) -> None:
    client_files = make_client_cert(tmp_path)
    server = server_context(*server_files)
    seen = asyncio.run(handshake(server, client_context(server_files[0], client_files)))
    assert seen == cert_fingerprint_sha256(client_files[0])


def test_client_pinning_the_certificate_can_connect_by_ip(
    server_files: tuple[Path, Path],
) -> None:
    server = server_context(*server_files)
    seen = asyncio.run(handshake(server, client_context(server_files[0]), "127.0.0.1"))
    assert seen is None


def test_peer_fingerprint_of_plain_connection_is_none() -> None:
    assert peer_fingerprint(None) is None


def test_without_the_callback_no_certificate_is_requested(
    server_files: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Fallback: every client still connects, but CertFP is unavailable."""
    monkeypatch.setattr(tls, "_install_accept_all_verify", lambda _context: False)
    server = server_context(*server_files)
    assert server.verify_mode == ssl.CERT_NONE
    assert not accepts_any_client_cert(server)
    client = client_context(server_files[0], make_client_cert(tmp_path))
    assert asyncio.run(handshake(server, client)) is None


def test_without_the_callback_trusted_client_certs_still_work(
    server_files: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tls, "_install_accept_all_verify", lambda _context: False)
    alice = make_client_cert(tmp_path, "alice")
    server = server_context(*server_files, trusted_client_certs=[alice[0].read_text()])
    assert server.verify_mode == ssl.CERT_OPTIONAL
    seen = asyncio.run(handshake(server, client_context(server_files[0], alice)))
    assert seen == cert_fingerprint_sha256(alice[0])
    assert asyncio.run(handshake(server, client_context(server_files[0]))) is None


def test_without_the_callback_an_unknown_client_cert_fails_the_handshake(
    server_files: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The limitation documented in docs/security.md, pinned so a change is noticed."""
    monkeypatch.setattr(tls, "_install_accept_all_verify", lambda _context: False)
    alice = make_client_cert(tmp_path, "alice")
    mallory = make_client_cert(tmp_path, "mallory")
    server = server_context(*server_files, trusted_client_certs=[alice[0].read_text()])
    client = client_context(server_files[0], mallory)

    async def attempt() -> tuple[bool, bytes | None]:
        accepted = False

        async def on_connect(_r: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            nonlocal accepted
            accepted = True
            writer.close()

        listener = await asyncio.start_server(on_connect, "127.0.0.1", 0, ssl=server)
        port = listener.sockets[0].getsockname()[1]
        received: bytes | None = None
        try:
            reader, writer = await asyncio.open_connection(
                "127.0.0.1", port, ssl=client, server_hostname="localhost"
            )
            try:
                received = await reader.read(100)
            except (ssl.SSLError, ConnectionError):
                received = None
            writer.close()
            with contextlib.suppress(ssl.SSLError, ConnectionError):
                await writer.wait_closed()
        except (ssl.SSLError, ConnectionError):
            received = None  # TLS 1.2: the alert arrives during the handshake
        finally:
            listener.close()
            await listener.wait_closed()
        return accepted, received

    accepted, received = asyncio.run(attempt())
    assert not accepted
    assert not received  # TLS 1.3: handshake "completes" for the client, then EOF/alert
