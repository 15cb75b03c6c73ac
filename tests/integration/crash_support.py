"""A real ``chatroom serve`` in a subprocess (only a real process can be SIGKILLed), the
``chatroom admin`` command beside it, and a raw line client: shared by the crash tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from chatroom.irc.message import Message, ParseError, parse

# Flood limits off so the load is real; cheap argon2 so registrations come fast.
SERVE_ENV = {
    "CHATROOM_LIMITS_FLOOD_PER_SECOND": "0",
    "CHATROOM_LIMITS_FLOOD_BURST": "100000",
    "CHATROOM_LIMITS_CONNECTIONS_PER_ADDRESS": "1000",
    "CHATROOM_LIMITS_CONNECTS_PER_ADDRESS_PER_MINUTE": "100000",
    "CHATROOM_ACCOUNTS_REGISTRATIONS_PER_HOUR": "0",
    "CHATROOM_ARGON2_MEMORY_KIB": "1024",
    "CHATROOM_ARGON2_TIME_COST": "1",
    "CHATROOM_HISTORY_CHATHISTORY_LIMIT": "1000",
}
SERVE = [sys.executable, "-m", "chatroom", "serve", "--port", "0", "--tls-port", "off",
         "--http-port", "off"]  # fmt: skip


# ----------------------------------------------------------------------------- processes


class Server:
    """One ``chatroom serve`` subprocess; its output goes to files, so no pipe can fill."""

    def __init__(self, data_dir: Path, logs: Path, store_url: str = "") -> None:
        self.data_dir = data_dir
        self.store_url = store_url or f"sqlite://{data_dir.resolve()}"
        logs.mkdir(parents=True, exist_ok=True)
        self._out_path = logs / f"stdout-{time.monotonic_ns()}.txt"
        self._out = self._out_path.open("wb")
        self._err = (logs / f"stderr-{time.monotonic_ns()}.txt").open("wb")
        self.proc = subprocess.Popen(
            [*SERVE, "--data-dir", str(data_dir), "--store", self.store_url],
            stdout=self._out,
            stderr=self._err,
            env={**os.environ, **SERVE_ENV},
        )
        self.port = self._wait_for_port()

    def _wait_for_port(self) -> int:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            for line in self._out_path.read_text().splitlines():
                if "listening for IRC on" in line:
                    return int(line.rsplit(":", 1)[1])
            assert self.proc.poll() is None, f"server exited with {self.proc.returncode}"
            time.sleep(0.05)
        raise AssertionError("server never said where it listens")

    def reap(self) -> None:
        """Always safe: kill if still running, wait, close the files."""
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=30)
        self._out.close()
        self._err.close()


@contextmanager
def serving(data_dir: Path, logs: Path, store_url: str = "") -> Iterator[Server]:
    server = Server(data_dir, logs, store_url)
    try:
        yield server
    finally:
        server.reap()


def admin(
    data_dir: Path, *args: str, stdin: str = "", store_url: str = ""
) -> subprocess.CompletedProcess[str]:
    """``chatroom admin ...`` in its own process, with the server's cheap argon2."""
    store = ["--store", store_url] if store_url else []
    return subprocess.run(
        [sys.executable, "-m", "chatroom", "admin", *args, "--data-dir", str(data_dir), *store],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, **SERVE_ENV},
    )


# ----------------------------------------------------------------------------- a raw client


class LineClient:
    """A plain socket speaking IRC line by line, so nothing hides what the server sent."""

    def __init__(self, port: int, timeout: float = 15.0) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self._buf = b""
        self._unread: list[Message] = []
        self.eof = False

    def send(self, *lines: str) -> None:
        self.sock.sendall("".join(line + "\r\n" for line in lines).encode())

    def read(self) -> list[Message]:
        """The next batch of complete lines (at least one unless the peer closed)."""
        if self._unread:
            out, self._unread = self._unread, []
            return out
        while b"\n" not in self._buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                self.eof = True
                return []
            self._buf += chunk
        *lines, self._buf = self._buf.split(b"\n")
        out = []
        for line in lines:
            try:
                out.append(parse(line.rstrip(b"\r")))
            except ParseError:
                continue
        return out

    def poll(self, seconds: float) -> list[Message]:
        """The complete lines that arrive within about ``seconds``; maybe none."""
        previous = self.sock.gettimeout()
        self.sock.settimeout(seconds)
        try:
            return self.read()
        except TimeoutError:
            return []  # a partial line stays buffered for the next read
        finally:
            self.sock.settimeout(previous)

    def until(self, done: Callable[[Message], bool], deadline: float = 15.0) -> list[Message]:
        """Everything read up to and including the first message ``done`` accepts."""
        seen: list[Message] = []
        end = time.monotonic() + deadline
        while time.monotonic() < end:
            batch = self.read()
            if not batch and self.eof:
                break
            for i, msg in enumerate(batch):
                if done(msg):
                    seen.extend(batch[: i + 1])
                    self._unread = batch[i + 1 :]
                    return seen
            seen.extend(batch)
        raise AssertionError(f"not seen in time; last lines: {seen[-5:]}")

    def close(self) -> None:
        self.sock.close()


def welcomed(msg: Message) -> bool:
    return msg.command == "001"
