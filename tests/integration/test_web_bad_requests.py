"""Malformed HTTP requests to the web port get their 400 without filling the server's log.

Before, each one (a NUL in a header, too many headers) wrote an ERROR with a ten-line
traceback, so anyone who could reach the port could fill the operator's log at will.
"""

from __future__ import annotations

import socket
import time
from pathlib import Path

from tests.serve_process import ServeProcess

BAD_REQUESTS = [
    b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Forwarded-For: 1.2.3.4\x00\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n" + b"".join(b"X-%d: a\r\n" % i for i in range(200)),
    b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: -5\r\n\r\n",
]


def status_of(port: int, request: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(request)
        return conn.recv(200).split(b"\r\n", 1)[0]


def test_malformed_requests_are_refused_without_an_error_in_the_log(tmp_path: Path) -> None:
    server = ServeProcess(tmp_path)
    try:
        statuses = [status_of(server.web_port, request) for request in BAD_REQUESTS]
        assert status_of(server.web_port, b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        time.sleep(0.2)
        log = server.stderr()
    finally:
        server.stop()
    assert all(b" 400 " in status for status in statuses), statuses
    assert "Traceback" not in log
    assert " ERROR " not in log
