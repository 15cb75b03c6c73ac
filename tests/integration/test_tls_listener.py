"""The TLS listener: TLS 1.2+ only, a pinnable fingerprint, and certificate reload on SIGHUP."""

from __future__ import annotations

import shutil
import socket
import ssl
import threading
import warnings
from dataclasses import replace
from pathlib import Path

import pytest

from chatroom.config import TlsConfig
from chatroom.server.net.tls import cert_fingerprint_sha256, ensure_self_signed, fingerprint_der
from tests.realserver import ServerThread, make_config


def _peer_fingerprint(port: int, *, maximum: ssl.TLSVersion | None = None) -> str:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # we compare the fingerprint ourselves, as a pin
    if maximum is not None:
        # An old client: our side must be willing to speak TLS 1.1, so a failure is the
        # server's refusal (OpenSSL 3 needs security level 0 for it; Python warns).
        context.set_ciphers("DEFAULT:@SECLEVEL=0")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            context.minimum_version = ssl.TLSVersion.TLSv1_1
            context.maximum_version = maximum
    with (
        socket.create_connection(("127.0.0.1", port), timeout=10) as raw,
        context.wrap_socket(raw) as tls,
    ):
        der = tls.getpeercert(binary_form=True)
        assert der is not None
        return fingerprint_der(der)


def _server_with_cert(tmp_path: Path) -> tuple[ServerThread, Path, Path]:
    cert, key = ensure_self_signed(tmp_path / "first", "chat.example")
    config = make_config(tmp_path)
    config = replace(config, tls=TlsConfig(port=0, cert=cert, key=key))
    return ServerThread(config).start(), cert, key


def test_tls_listener_presents_the_configured_certificate(tmp_path: Path) -> None:
    server, cert, _ = _server_with_cert(tmp_path)
    try:
        assert _peer_fingerprint(server.tls_port) == cert_fingerprint_sha256(cert)
    finally:
        server.stop()


def test_tls_below_1_2_is_refused(tmp_path: Path) -> None:
    server, _, _ = _server_with_cert(tmp_path)
    try:
        with pytest.raises((ssl.SSLError, ConnectionResetError)):
            _peer_fingerprint(server.tls_port, maximum=ssl.TLSVersion.TLSv1_1)
    finally:
        server.stop()


def test_certificate_is_reloaded_on_sighup(tmp_path: Path) -> None:
    """Operators renew certificates in place; SIGHUP makes new handshakes use the new one."""
    server, cert, key = _server_with_cert(tmp_path)
    try:
        new_cert, new_key = ensure_self_signed(tmp_path / "second", "chat.example")
        shutil.copyfile(new_cert, cert)
        shutil.copyfile(new_key, key)
        shell, loop = server.shell, server.loop
        assert shell is not None
        assert loop is not None
        done = threading.Event()

        def reload() -> None:
            shell.reload_tls()  # what the SIGHUP handler calls
            done.set()

        loop.call_soon_threadsafe(reload)
        assert done.wait(10)
        assert _peer_fingerprint(server.tls_port) == cert_fingerprint_sha256(new_cert)
    finally:
        server.stop()


def test_web_client_is_served_over_https_with_the_operators_certificate(tmp_path: Path) -> None:
    server, cert, _ = _server_with_cert(tmp_path)
    try:
        assert _peer_fingerprint(server.http_port) == cert_fingerprint_sha256(cert)
    finally:
        server.stop()


def test_a_silent_tls_handshake_is_closed_after_the_handshake_timeout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Connections are counted once their session exists, after the handshake: one that
    never starts it must not hold its socket for asyncio's default 60 seconds."""
    from chatroom.server.net import tls

    monkeypatch.setattr(tls, "HANDSHAKE_SECONDS", 0.5)
    server = ServerThread(make_config(tmp_path)).start()
    try:
        with socket.create_connection(("127.0.0.1", server.tls_port), timeout=10) as silent:
            silent.settimeout(10)  # far more than the handshake timeout: the server ends it
            assert silent.recv(1) == b""
    finally:
        server.stop()
