"""HTTPS for the web client: on by itself off loopback, with the server's own certificate,
and the same admission and timeout on it as on plain HTTP.

Off loopback a password may not cross an unencrypted link, so a web client served over
plain HTTP there could never log in. The server therefore serves it over HTTPS whenever
it listens off loopback (with its self-signed certificate unless the operator configured
one), and plain HTTP there only when the operator says so, warning at start.
"""

from __future__ import annotations

import json
import socket
import ssl
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from chatroom.server.net.shell import is_loopback_host
from tests.realserver import ServerThread
from tests.serve_process import ServeProcess
from tests.web.web_support import web_config


def _pinned(cert: Path) -> ssl.SSLContext:
    """Trust exactly the server's own certificate, as a pinning client does."""
    context = ssl.create_default_context(cafile=str(cert))
    context.check_hostname = True
    return context


def _healthz(port: int, context: ssl.SSLContext) -> dict[str, object]:
    url = f"https://127.0.0.1:{port}/healthz"
    with urllib.request.urlopen(url, timeout=10, context=context) as response:
        body: dict[str, object] = json.loads(response.read())
        return body


def test_off_loopback_the_web_client_is_https_with_the_servers_own_certificate(
    tmp_path: Path,
) -> None:
    server = ServeProcess(tmp_path, args=("--host", "0.0.0.0"))
    try:
        assert server.web_scheme == "https"
        assert server.said("the web client uses HTTPS with the self-signed certificate")
        cert = tmp_path / "data" / "tls-cert.pem"
        assert _healthz(server.web_port, _pinned(cert))["status"] == "ok"
    finally:
        server.stop()


def test_plain_http_off_loopback_only_when_the_operator_says_so_and_with_a_warning(
    tmp_path: Path,
) -> None:
    server = ServeProcess(tmp_path, env={"CHATROOM_HTTP_TLS": "off"}, args=("--host", "0.0.0.0"))
    try:
        assert server.web_scheme == "http"
        assert server.said("warning: the web client is plain HTTP off loopback")
    finally:
        server.stop()


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("127.1.2.3", True), ("::1", True), ("localhost", True),
     ("0.0.0.0", False), ("::", False), ("192.0.2.7", False), ("chat.example.org", False)],
)  # fmt: skip
def test_which_listen_addresses_count_as_loopback(host: str, loopback: bool) -> None:
    assert is_loopback_host(host) is loopback


# ------------------------------------------------------------- the gate in front of TLS


@pytest.fixture
def https_server(tmp_path: Path) -> Iterator[ServerThread]:
    config = web_config(
        tmp_path,
        {"http.tls": "on", "http.request_timeout": 1, "limits.connections_per_address": 2},
    )
    server = ServerThread(config).start()
    yield server
    server.stop()


def _closed_within(sock: socket.socket, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            if not sock.recv(65536):
                return True
        except TimeoutError:
            return False
        except ConnectionResetError:
            return True
    return False


def test_connections_are_counted_before_the_tls_handshake(https_server: ServerThread) -> None:
    """A handshake that never starts holds a place (and only until the timeout): silent
    TCP connections to the HTTPS port fill the address's quota like any other."""
    port = https_server.http_port
    silent = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(2)]
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as third:
            assert _closed_within(third, 5), "the third connection was kept"
        assert all(_closed_within(sock, 10) for sock in silent), "a silent one was kept"
        # The places are free again (the server frees them just after it closes, so give
        # it a moment), and the certificate is the one in the data dir.
        cert = https_server.config.data_dir / "tls-cert.pem"
        deadline = time.monotonic() + 5
        while True:
            try:
                assert _healthz(port, _pinned(cert))["status"] == "ok"
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
    finally:
        for sock in silent:
            sock.close()
