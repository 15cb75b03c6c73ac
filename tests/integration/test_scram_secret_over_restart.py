"""SCRAM for a name without an account: the fake salt survives a restart of the server.

Before, the secret behind fake salts was made afresh at each start, so a name that does
not exist got a new salt after every restart while a real account kept its own: probing
the same name on both sides of a restart told the two apart.
"""

from __future__ import annotations

import base64
import os
import signal
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from chatroom.server.auth.server_secret import SECRET_FILENAME


def salt_for(port: int, name: str) -> str:
    """The salt the server offers ``name`` in its SCRAM-SHA-256 server-first message."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        client_first = base64.b64encode(f"n,,n={name},r=probe123".encode()).decode()
        sock.sendall(
            b"CAP LS 302\r\nCAP REQ :sasl\r\nNICK probe\r\nUSER p 0 * :p\r\n"
            b"AUTHENTICATE SCRAM-SHA-256\r\n" + f"AUTHENTICATE {client_first}\r\n".encode()
        )
        data = b""
        while True:
            chunk = sock.recv(65536)
            assert chunk, data
            data += chunk
            for line in data.split(b"\r\n"):
                if line.startswith(b"AUTHENTICATE ") and line != b"AUTHENTICATE +":
                    server_first = base64.b64decode(line.split(b" ", 1)[1]).decode()
                    attrs = dict(part.split("=", 1) for part in server_first.split(","))
                    return attrs["s"]


@contextmanager
def serving(data_dir: Path) -> Iterator[int]:
    """``chatroom serve`` in its own process (a restart must really be a new process)."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "chatroom",
            "serve",
            "--port",
            "0",
            "--tls-port",
            "off",
            "--http-port",
            "off",
            "--data-dir",
            str(data_dir),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None
        port = 0
        deadline = time.monotonic() + 20
        while not port and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if "listening for IRC on" in line:
                port = int(line.rsplit(":", 1)[1])
        assert port, "server never said where it listens"
        yield port
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            if proc.stdout is not None:
                proc.stdout.close()


def test_an_unknown_names_salt_is_the_same_after_a_restart(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    with serving(data_dir) as port:
        before = salt_for(port, "nobody")
        other = salt_for(port, "somebody")
    with serving(data_dir) as port:
        assert salt_for(port, "nobody") == before
        assert salt_for(port, "somebody") == other != before
    secret = data_dir / SECRET_FILENAME
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600


def test_an_unknown_names_salt_is_the_same_in_any_case_as_an_accounts(tmp_path: Path) -> None:
    """Comparing the salts of NAME and name must not tell an account from a name without
    one: before, an unknown name's fake salt changed with its case, an account's did not."""
    data_dir = tmp_path / "data"
    made = subprocess.run(
        [sys.executable, "-m", "chatroom", "admin", "create", "alice", "--password-stdin"],
        input="alice's password\n",
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "CHATROOM_SERVER_DATA_DIR": str(data_dir)},
        check=False,
    )
    assert made.returncode == 0, made.stderr
    with serving(data_dir) as port:
        assert salt_for(port, "ALICE") == salt_for(port, "alice")
        assert salt_for(port, "NOBODY") == salt_for(port, "nobody")
