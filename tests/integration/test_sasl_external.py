"""CertFP as a user meets it: register, add your certificate, log in with it and no password.

Raw TLS sockets, because the ``irc`` library speaks only SASL PLAIN. The server is the real
shell with its real TLS listener; the client certificates are bare self-signed ones made
here, as IRC users make them.
"""

from __future__ import annotations

import socket
import ssl
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from chatroom import admin
from chatroom.server.auth.passwords import Argon2Params, PasswordHasher
from chatroom.server.core.settings import Limits
from chatroom.server.net.tls import accepts_any_client_cert
from chatroom.server.store.factory import open_store
from tests.certs import make_self_signed
from tests.realserver import ServerThread, make_config

PASSWORD = "tr0ub4dor&3-long"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerThread]:
    yield from serve(tmp_path)


@pytest.fixture
def server_with_accounts(tmp_path: Path) -> Iterator[ServerThread]:
    """The operator ``admin`` and the users ``alice`` and ``bob`` exist before it starts."""
    config = make_config(tmp_path, Limits(flood_per_second=0))
    config.data_dir.mkdir(parents=True, exist_ok=True)
    store = open_store(config.store)
    hasher = PasswordHasher(Argon2Params(*config.argon2))
    admin.create_account(store, hasher, "admin", PASSWORD, oper=True)
    admin.create_account(store, hasher, "alice", PASSWORD)
    admin.create_account(store, hasher, "bob", PASSWORD)
    store.close()
    yield from serve(tmp_path)


def serve(tmp_path: Path) -> Iterator[ServerThread]:
    """A real server with its TLS listener, if this Python accepts self-signed client
    certificates (else the test is skipped)."""
    running = ServerThread(make_config(tmp_path, Limits(flood_per_second=0))).start()
    context = running.shell.tls_context if running.shell is not None else None
    if context is None or not accepts_any_client_cert(context):
        running.stop()
        pytest.skip("this Python cannot accept self-signed client certificates (docs/security.md)")
    yield running
    running.stop()


def make_client_cert(directory: Path, name: str) -> tuple[Path, Path, str]:
    return make_self_signed(directory, name)


class Line:
    """One raw TLS connection to the server, read line by line."""

    def __init__(self, server: ServerThread, cert: tuple[Path, Path, str] | None) -> None:
        context = ssl.create_default_context(cafile=str(server.config.data_dir / "tls-cert.pem"))
        if cert is not None:
            context.load_cert_chain(cert[0], cert[1])
        raw = socket.create_connection(("127.0.0.1", server.tls_port), timeout=10)
        self.sock = context.wrap_socket(raw, server_hostname="localhost")
        self.pending = b""
        self.seen: list[str] = []

    def send(self, *lines: str) -> None:
        self.sock.sendall("".join(f"{line}\r\n" for line in lines).encode())

    def expect(self, needle: str, timeout: float = 15.0) -> str:
        """Read until a line containing ``needle``; every line read is kept in ``seen``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            while b"\n" in self.pending:
                raw, self.pending = self.pending.split(b"\n", 1)
                line = raw.decode().rstrip("\r")
                self.seen.append(line)
                if needle in line:
                    return line
            chunk = self.sock.recv(65536)
            if not chunk:
                break
            self.pending += chunk
        raise AssertionError(f"never saw {needle!r}; last lines: {self.seen[-10:]}")

    def close(self) -> None:
        self.sock.close()


def register_with_certificate(server: ServerThread, cert: tuple[Path, Path, str]) -> None:
    """Connect with ``cert``, register alice with a password, then ``NS CERT ADD``."""
    line = Line(server, cert)
    try:
        line.send("NICK alice", "USER alice 0 * :Alice")
        line.expect(" 001 ")
        line.send(f"REGISTER * * {PASSWORD}")
        line.expect(" REGISTER SUCCESS ")
        line.send("NS CERT ADD")
        assert line.expect("added").endswith(f":{cert[2]} added: it now logs in to alice.")
        line.send("NS CERT LIST")
        assert line.expect(cert[2]).endswith(f":  {cert[2]}")
    finally:
        line.close()


def external_login(server: ServerThread, cert: tuple[Path, Path, str] | None) -> Line:
    """A new connection presenting ``cert`` answers ``AUTHENTICATE EXTERNAL`` with ``+``."""
    line = Line(server, cert)
    line.send("CAP LS 302", "CAP REQ :sasl", "NICK visitor", "USER v 0 * :V")
    line.expect(" ACK ")
    line.send("AUTHENTICATE EXTERNAL")
    line.expect("AUTHENTICATE +")
    line.send("AUTHENTICATE +")
    return line


def test_a_registered_certificate_logs_in_with_sasl_external_and_no_password(
    server: ServerThread, tmp_path: Path
) -> None:
    cert = make_client_cert(tmp_path, "alice")
    register_with_certificate(server, cert)
    line = external_login(server, cert)
    try:
        assert "SASL authentication successful" in line.expect(" 903 ")
        (logged_in,) = [text for text in line.seen if " 900 " in text]
        assert logged_in.endswith(":You are now logged in as alice")
        line.send("CAP END")
        line.expect(" 001 ")
        line.send("WHOIS visitor")
        assert line.expect(" 330 ").split()[3:5] == ["visitor", "alice"]
        assert line.expect(" 276 ").endswith(f"fingerprint {cert[2]}")
    finally:
        line.close()


def test_a_different_certificate_is_refused(server: ServerThread, tmp_path: Path) -> None:
    register_with_certificate(server, make_client_cert(tmp_path, "alice"))
    line = external_login(server, make_client_cert(tmp_path, "mallory"))
    try:
        assert "SASL authentication failed" in line.expect(" 904 ")
        assert not [text for text in line.seen if " 900 " in text]
    finally:
        line.close()


def test_a_client_without_a_certificate_still_connects_over_tls(
    server: ServerThread, tmp_path: Path
) -> None:
    register_with_certificate(server, make_client_cert(tmp_path, "alice"))
    line = external_login(server, None)
    try:
        line.expect(" 904 ")
        line.send("CAP END")
        assert " 001 visitor " in line.expect(" 001 ")
        line.send("WHOIS visitor")
        line.expect(" 318 ")
        assert not [text for text in line.seen if " 276 " in text]
    finally:
        line.close()


def identified(server: ServerThread, nick: str) -> Line:
    """A TLS connection without a certificate, logged in to ``nick`` with its password."""
    line = Line(server, None)
    line.send(f"NICK {nick}", f"USER {nick} 0 * :{nick}")
    line.expect(" 001 ")
    line.send(f"NS IDENTIFY {PASSWORD}")
    line.expect(" 900 ")
    return line


def test_oper_adds_a_certificate_to_another_account_which_then_logs_in_with_it(
    server_with_accounts: ServerThread, tmp_path: Path
) -> None:
    """The user who lost a key: an operator registers the new certificate for them."""
    server = server_with_accounts
    cert = make_client_cert(tmp_path, "alice")
    bob = identified(server, "bob")
    boss = identified(server, "admin")
    try:
        bob.send(f"NS CERT ADD alice {cert[2]}")
        assert "Only operators may manage" in bob.expect("another account's certificates")
        boss.send("NS CERT LIST alice")
        assert boss.expect("fingerprints are on").endswith(
            ":No certificate fingerprints are on alice."
        )
        boss.send(f"NS CERT ADD alice {cert[2]}")
        assert boss.expect("added").endswith(f":{cert[2]} added: it now logs in to alice.")
    finally:
        bob.close()
        boss.close()
    line = external_login(server, cert)
    try:
        assert "SASL authentication successful" in line.expect(" 903 ")
        (logged_in,) = [text for text in line.seen if " 900 " in text]
        assert logged_in.endswith(":You are now logged in as alice")
    finally:
        line.close()
