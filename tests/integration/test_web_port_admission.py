"""The web port under a connection flood, against a real ``chatroom serve`` process.

The attack (issue 13): 1,100 silent HTTP connections from one address under ``ulimit -n
1024`` took every file descriptor; new IRC clients got no welcome and ``/healthz`` reset.
Here the server runs with a low open-file limit and one address opens thousands of
connections, half of them silent and half stopped in the middle of their headers. The
address keeps at most its quota (``limits.connections_per_address``), the rest is
answered 503 and closed at once, the IRC port and ``/healthz`` keep working for everyone
else, and what the address kept is closed after ``http.request_timeout``.
"""

from __future__ import annotations

import contextlib
import re
import resource
import selectors
import socket
import ssl
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.serve_process import ServeProcess

ATTACKER = "127.0.0.2"  # another loopback address: the victims below come from 127.0.0.1
HALF_REQUEST = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: slow"
PER_ADDRESS = 16  # limits.connections_per_address by default


@pytest.fixture(autouse=True)
def enough_descriptors_for_the_attacker() -> Iterator[None]:
    """The test process itself holds the flood's sockets."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 5000 if hard == resource.RLIM_INFINITY else min(hard, 5000)
    assert wanted >= 3000, f"the hard open-file limit ({hard}) is too low for this test"
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, wanted), hard))
    yield
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


class Flood:
    """Many TCP connections from one address; tracks which ones the server closed."""

    def __init__(self, port: int, count: int, half_sent: bool) -> None:
        self.selector = selectors.DefaultSelector()
        self.open: set[socket.socket] = set()
        self.answers: list[bytes] = []
        self.closed = 0
        self.failed_connects = 0
        for i in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind((ATTACKER, 0))
            sock.settimeout(2)
            try:
                sock.connect(("127.0.0.1", port))
                if half_sent and i % 2:
                    sock.sendall(HALF_REQUEST)
            except OSError:
                sock.close()
                self.failed_connects += 1
                if self.failed_connects > 20:
                    break  # the server stopped accepting; what was opened is the result
                continue
            sock.setblocking(False)
            self.open.add(sock)
            self.selector.register(sock, selectors.EVENT_READ)
            if i % 100 == 0:
                self.poll(0)  # read what the server already answered, as an attacker would

    def poll(self, timeout: float) -> None:
        for key, _ in self.selector.select(timeout):
            sock = key.fileobj
            assert isinstance(sock, socket.socket)
            try:
                data = sock.recv(4096)
            except BlockingIOError:
                continue
            except OSError:
                data = b""
            if data:
                self.answers.append(data)
                continue
            self.selector.unregister(sock)
            self.open.discard(sock)
            sock.close()
            self.closed += 1

    def wait_until_open_at_most(self, limit: int, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while len(self.open) > limit and time.monotonic() < deadline:
            self.poll(0.2)

    def close(self) -> None:
        for sock in self.open:
            sock.close()
        self.selector.close()


@contextlib.contextmanager
def flooding(port: int, count: int, half_sent: bool = True) -> Iterator[Flood]:
    flood = Flood(port, count, half_sent)
    try:
        yield flood
    finally:
        flood.close()


def irc_answer(port: int, until: bytes) -> bytes:
    """Sign on from 127.0.0.1; everything the server said up to ``until`` (or the close)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"NICK victim\r\nUSER v 0 * :V\r\n")
        data = b""
        while until not in data:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
        return data


def healthz(server: ServeProcess) -> int:
    url = f"http://127.0.0.1:{server.web_port}/healthz"
    with urllib.request.urlopen(url, timeout=10) as response:
        status: int = response.status
        return status


def test_one_address_cannot_fill_the_web_port(tmp_path: Path) -> None:
    server = ServeProcess(tmp_path, env={"CHATROOM_HTTP_REQUEST_TIMEOUT": "2"}, nofile=(512, 512))
    try:
        with flooding(server.web_port, 2000) as flood:
            flood.wait_until_open_at_most(PER_ADDRESS, seconds=20)
            assert len(flood.open) <= PER_ADDRESS, (
                f"{len(flood.open)} connections from one address still open"
                f" ({flood.failed_connects} connects failed)"
            )
            assert flood.failed_connects == 0, "the kernel, not the server, refused"
            assert any(answer.startswith(b"HTTP/1.1 503") for answer in flood.answers)
            # Everyone else is still served while the address holds its quota.
            assert b" 001 victim " in irc_answer(server.irc_port, until=b" 001 ")
            assert healthz(server) == 200
            # What the address kept is closed once the request timeout has passed.
            flood.wait_until_open_at_most(0, seconds=20)
            assert not flood.open, f"{len(flood.open)} idle connections never timed out"
        assert '"msg": "Traceback' not in server.stderr()
    finally:
        server.stop()


def test_the_open_file_reserve_refuses_before_the_kernel_does(tmp_path: Path) -> None:
    """With the per-address quota lifted, the file limit binds: the server raises its soft
    limit to the hard one, keeps a reserve, and answers the excess itself."""
    server = ServeProcess(
        tmp_path,
        env={
            "CHATROOM_LIMITS_CONNECTIONS_PER_ADDRESS": "100000",
            "CHATROOM_HTTP_REQUEST_TIMEOUT": "120",
        },
        nofile=(256, 512),
    )
    try:
        assert server.open_file_limit() == (512, 512)
        with flooding(server.web_port, 800, half_sent=False) as flood:
            flood.wait_until_open_at_most(512 - 128, seconds=20)
            held = len(flood.open)
            assert 0 < held <= 512 - 128, f"{held} connections held"
            assert flood.failed_connects == 0, "the kernel, not the server, refused"
            assert any(b"Server is full" in answer for answer in flood.answers)
            # A newcomer is told why instead of hanging in the kernel's queue.
            assert b"Server is full" in irc_answer(server.irc_port, until=b"ERROR")
            assert "file descriptor reserve reached" in server.stderr()
        # The flood gone, the places are free again.
        deadline = time.monotonic() + 10
        while True:
            answer = irc_answer(server.irc_port, until=b" 001 ")
            if b" 001 victim " in answer or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert b" 001 victim " in answer
        assert healthz(server) == 200
    finally:
        server.stop()


def test_one_address_cannot_fill_the_irc_tls_port_with_silent_handshakes(tmp_path: Path) -> None:
    """The IRC TLS port counted a connection only after its handshake: 1,000 silent ones
    from one address took every descriptor of a server under ``ulimit -n 512`` for the
    handshake's 10 seconds, again and again; new IRC clients got nothing and ``/healthz``
    timed out. Now it is counted at accept, as on the web port."""
    server = ServeProcess(tmp_path, nofile=(512, 512), args=("--tls-port", "0"))
    try:
        found = re.search(r"listening for IRC over TLS on \S+:(\d+)", server.stdout())
        assert found, server.stdout()
        # As many as the server's descriptors plus the kernel's accept queue: all connect.
        with flooding(int(found.group(1)), 600, half_sent=False) as flood:
            # Well inside the handshake timeout, which would close them all by itself.
            flood.wait_until_open_at_most(PER_ADDRESS, seconds=4)
            assert len(flood.open) <= PER_ADDRESS, (
                f"{len(flood.open)} connections from one address still open"
                f" ({flood.failed_connects} connects failed)"
            )
            assert flood.failed_connects == 0, "the kernel, not the server, refused"
            assert b" 001 victim " in irc_answer(server.irc_port, until=b" 001 ")
            assert healthz(server) == 200
            with socket.create_connection(("127.0.0.1", int(found.group(1))), timeout=10) as raw:
                context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE
                with context.wrap_socket(raw) as tls:  # another address still gets TLS
                    tls.sendall(b"NICK tlsvictim\r\nUSER v 0 * :V\r\n")
                    data = b""
                    while b" 001 " not in data and (chunk := tls.recv(65536)):
                        data += chunk
                    assert b" 001 tlsvictim " in data
            # What the address kept is closed by the handshake timeout (10 s).
            flood.wait_until_open_at_most(0, seconds=30)
            assert not flood.open, f"{len(flood.open)} silent handshakes never timed out"
    finally:
        server.stop()
