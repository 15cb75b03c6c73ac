"""Secure login as a new user meets it: register over TLS, log in again, get refused.

The clients are the ``irc`` library (TLS and SASL PLAIN), plus a raw TLS socket for
SCRAM-SHA-256, which that library does not speak. The server uses its real argon2id
parameters and its real SQLite file.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import socket
import ssl
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from chatroom.server.core.settings import AccountSettings, Limits
from chatroom.server.store.factory import open_store
from chatroom.server.store.url import SqliteLocation
from tests.realserver import Client, ServerThread, make_config

PASSWORD = "tr0ub4dor&3-long"


@pytest.fixture
def secure_server(tmp_path: Path) -> Iterator[ServerThread]:
    config = make_config(tmp_path, Limits(flood_per_second=0))
    config = replace(
        config, core=replace(config.core, accounts=AccountSettings(nick_grace_seconds=1))
    )
    running = ServerThread(config).start()
    yield running
    running.stop()


def _pinned_context(server: ServerThread) -> ssl.SSLContext:
    """Trust exactly the server's self-signed certificate, as a pinning client would."""
    cert = server.config.data_dir / "tls-cert.pem"
    return ssl.create_default_context(cafile=str(cert))


def _register(server: ServerThread, nick: str) -> None:
    client = Client(server.tls_port, nick, tls=_pinned_context(server))
    try:
        client.wait_type("welcome")
        client.conn.send_raw(f"REGISTER * * {PASSWORD}")
        client.wait_for(
            lambda e: e.type == "all_raw_messages" and " REGISTER SUCCESS " in e.arguments[0]
        )
    finally:
        client.close()


def _sasl_plain_as_alice(server: ServerThread, password: str) -> Client:
    """alice over TLS, logging in with SASL PLAIN and ``password``."""
    return Client(
        server.tls_port, "alice", password, tls=_pinned_context(server), sasl_login="alice"
    )


def test_register_over_tls_then_log_in_again_with_sasl_plain(secure_server: ServerThread) -> None:
    _register(secure_server, "alice")
    again = _sasl_plain_as_alice(secure_server, PASSWORD)
    try:
        again.wait_type("welcome")
        logged_in = [line for line in again.raw_lines() if " 900 " in line]
        assert logged_in
        assert "You are now logged in as alice" in logged_in[0]
    finally:
        again.close()


def test_wrong_password_is_refused(secure_server: ServerThread) -> None:
    _register(secure_server, "alice")
    wrong = _sasl_plain_as_alice(secure_server, "not-the-password")
    try:
        wrong.wait_type("login_failed")
        refused = [line for line in wrong.raw_lines() if " 904 " in line]
        assert "SASL authentication failed" in refused[0]
        assert not [line for line in wrong.raw_lines() if " 900 " in line]
    finally:
        wrong.close()


def _tls_socket(server: ServerThread) -> ssl.SSLSocket:
    raw = socket.create_connection(("127.0.0.1", server.tls_port), timeout=10)
    return _pinned_context(server).wrap_socket(raw, server_hostname="localhost")


def _read_line_with(sock: ssl.SSLSocket, buffer: list[bytes], needle: str) -> str:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        data = b"".join(buffer)
        while b"\n" in data:
            line, data = data.split(b"\n", 1)
            buffer[:] = [data]
            text = line.decode().rstrip("\r")
            if needle in text:
                return text
        chunk = sock.recv(65536)
        if not chunk:
            break
        buffer[:] = [data + chunk]
    raise AssertionError(f"never saw {needle!r}")


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def test_scram_sha_256_login(secure_server: ServerThread) -> None:
    _register(secure_server, "alice")
    with _tls_socket(secure_server) as sock:
        buf: list[bytes] = []
        sock.sendall(b"CAP LS 302\r\nCAP REQ :sasl\r\nNICK alice\r\nUSER a 0 * :A\r\n")
        _read_line_with(sock, buf, "ACK")
        sock.sendall(b"AUTHENTICATE SCRAM-SHA-256\r\n")
        _read_line_with(sock, buf, "AUTHENTICATE +")
        bare = "n=alice,r=rOprNGfwEbeRWgbNEkqO"
        sock.sendall(f"AUTHENTICATE {_b64(f'n,,{bare}'.encode())}\r\n".encode())
        server_first = base64.b64decode(
            _read_line_with(sock, buf, "AUTHENTICATE").split()[-1]
        ).decode()
        attrs = dict(p.split("=", 1) for p in server_first.split(","))
        salted = hashlib.pbkdf2_hmac(
            "sha256", PASSWORD.encode(), base64.b64decode(attrs["s"]), int(attrs["i"])
        )
        client_key = hmac.digest(salted, b"Client Key", "sha256")
        without_proof = f"c={_b64(b'n,,')},r={attrs['r']}"
        auth = f"{bare},{server_first},{without_proof}".encode()
        signature = hmac.digest(hashlib.sha256(client_key).digest(), auth, "sha256")
        proof = bytes(a ^ b for a, b in zip(client_key, signature, strict=True))
        sock.sendall(
            f"AUTHENTICATE {_b64(f'{without_proof},p={_b64(proof)}'.encode())}\r\n".encode()
        )
        server_final = base64.b64decode(_read_line_with(sock, buf, "AUTHENTICATE").split()[-1])
        server_key = hmac.digest(salted, b"Server Key", "sha256")
        assert server_final == b"v=" + base64.b64encode(hmac.digest(server_key, auth, "sha256"))
        sock.sendall(b"AUTHENTICATE +\r\n")
        assert "SASL authentication successful" in _read_line_with(sock, buf, " 903 ")
        sock.sendall(b"CAP END\r\n")
        _read_line_with(sock, buf, " 001 ")


def test_guest_cannot_keep_a_registered_nickname(secure_server: ServerThread) -> None:
    _register(secure_server, "alice")
    guest = Client(secure_server.port, "alice")
    try:
        guest.wait_type("welcome")
        warned = guest.wait_for(lambda e: e.type == "privnotice" and "registered" in e.arguments[0])
        assert warned.source.nick == "NickServ"
        renamed = guest.wait_for(lambda e: e.type == "nick", timeout=10)
        assert renamed.target.startswith("Guest")
    finally:
        guest.close()


def test_fifty_wrong_guesses_in_a_row_are_throttled(secure_server: ServerThread) -> None:
    _register(secure_server, "alice")
    with _tls_socket(secure_server) as sock:
        buf: list[bytes] = []
        sock.sendall(b"CAP LS 302\r\nCAP REQ :sasl\r\nNICK guesser\r\nUSER g 0 * :G\r\n")
        _read_line_with(sock, buf, "ACK")
        answers = []
        for i in range(50):
            sock.sendall(b"AUTHENTICATE PLAIN\r\n")
            _read_line_with(sock, buf, "AUTHENTICATE +")
            payload = _b64(b"\0alice\0guess" + str(i).encode())
            sock.sendall(f"AUTHENTICATE {payload}\r\n".encode())
            answers.append(_read_line_with(sock, buf, " 904 "))
    throttled = [a for a in answers if "Too many failed logins" in a]
    assert len(throttled) >= 45
    # The real owner, from another address class (loopback still), is not locked out forever:
    # the policy is documented in docs/security.md and tested in the core tests.


def test_database_holds_only_argon2id_hashes(secure_server: ServerThread) -> None:
    _register(secure_server, "alice")
    _register(secure_server, "bob")
    store = open_store(secure_server.config.store)  # SQLite, or PostgreSQL in a run on it
    try:
        hashes = [account.password_hash for account in store.load().accounts.values()]
    finally:
        store.close()
    assert len(hashes) == 2
    assert all(h.startswith("$argon2id$") for h in hashes)
    if isinstance(secure_server.config.store, SqliteLocation):  # every byte of the files
        files = secure_server.config.store.directory.glob("chatroom.db*")
        assert PASSWORD.encode() not in b"".join(p.read_bytes() for p in files)
