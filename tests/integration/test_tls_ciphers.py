"""TLS 1.2 on the IRC port offers only forward-secret AEAD suites (no CBC with HMAC)."""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest

from chatroom.server.net.tls import ensure_self_signed, server_context
from tests.integration.test_tls_listener import _server_with_cert
from tests.realserver import ServerThread

CBC_ONLY = (
    "ECDHE-ECDSA-AES128-SHA256:ECDHE-ECDSA-AES256-SHA384:ECDHE-ECDSA-AES128-SHA:"
    "ECDHE-ECDSA-AES256-SHA:ECDHE-RSA-AES128-SHA256:ECDHE-RSA-AES128-SHA:AES128-SHA256:"
    "AES128-SHA:@SECLEVEL=0"
)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerThread]:
    running, _, _ = _server_with_cert(tmp_path)
    yield running
    running.stop()


def _tls12_handshake(port: int, ciphers: str) -> tuple[str, str, int]:
    """Connect as a TLS 1.2 client offering ``ciphers``; what was agreed."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    context.set_ciphers(ciphers)
    with (
        socket.create_connection(("127.0.0.1", port), timeout=10) as raw,
        context.wrap_socket(raw) as tls,
    ):
        cipher = tls.cipher()
        assert cipher is not None
        return cipher


def test_a_tls12_client_offering_only_cbc_suites_is_refused(server: ServerThread) -> None:
    with pytest.raises((ssl.SSLError, ConnectionResetError)):
        _tls12_handshake(server.tls_port, CBC_ONLY)


def test_a_tls12_client_gets_an_aead_suite(server: ServerThread) -> None:
    name, version, _ = _tls12_handshake(server.tls_port, "DEFAULT")
    assert version == "TLSv1.2"
    assert "GCM" in name or "CHACHA20" in name


def test_every_tls12_suite_the_server_context_offers_is_aead_with_ecdhe(tmp_path: Path) -> None:
    context = server_context(*ensure_self_signed(tmp_path, "chat.example"))
    tls12 = [c for c in context.get_ciphers() if c["protocol"] == "TLSv1.2"]
    assert tls12
    assert all(c["aead"] and c["kea"] == "kx-ecdhe" for c in tls12)
