"""A real Redis for the cluster tests: Debian's ``redis-server`` (installed by the Makefile)
in a temporary directory, on a free port of 127.0.0.1 only, stopped and deleted at the end.

It keeps its data the way a production node's Redis would (``appendonly yes`` with an
fsync per write, no RDB snapshots), so a test can stop or kill it and start it again on
the same port and directory (``restart``) and find what was written before: the fault
tests check that ChatRoom nodes survive exactly that.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

REDIS_SERVER = Path(os.environ.get("CHATROOM_REDIS_SERVER", "/usr/bin/redis-server"))


class RedisMissingError(RuntimeError):
    """The ``redis-server`` program is not installed."""


def free_port() -> int:
    """A port of 127.0.0.1 nobody listens on right now (Redis cannot take port 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class TempRedis:
    """One ``redis-server``; ``url(db)`` names one of its databases."""

    def __init__(self, *, start_timeout: float = 30.0) -> None:
        if not REDIS_SERVER.exists():
            raise RedisMissingError(
                f"no {REDIS_SERVER}: install Debian's redis-server (`make test` does)"
            )
        self.root = Path(tempfile.mkdtemp(prefix="chatroom-redis-"))
        self.log_path = self.root / "redis.log"
        self._timeout = start_timeout
        self._proc: subprocess.Popen[bytes] | None = None
        self.port = 0
        for _attempt in range(5):  # another process may take the probed port first
            self.port = free_port()
            if self._start():
                return
        self.close()
        raise RuntimeError(f"redis-server found no free port: {self.log()[-2000:]}")

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self.running and self._proc is not None else None

    def log(self) -> str:
        """What redis-server wrote to its log file (all starts of it, in order)."""
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def _start(self) -> bool:
        """Start on ``self.port``; False if that port was taken, an error for anything else."""
        command = [
            str(REDIS_SERVER),
            *("--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.root)),
            *("--appendonly", "yes", "--appendfsync", "always", "--save", ""),
            *("--daemonize", "no", "--logfile", str(self.log_path)),
        ]
        logged = len(self.log())
        with (self.root / "stderr.txt").open("wb") as stderr:  # the child keeps its own copy
            self._proc = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=stderr
            )
        deadline = time.monotonic() + self._timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                said = self.log()[logged:] + (self.root / "stderr.txt").read_text(errors="replace")
                if "Address already in use" in said:
                    return False
                raise RuntimeError(f"redis-server exited ({self._proc.returncode}): {said[-2000:]}")
            if self._answers_ping():
                return True
            time.sleep(0.02)
        self.kill()
        raise RuntimeError(f"redis-server never answered PING: {self.log()[-2000:]}")

    def _answers_ping(self) -> bool:
        """PING in Redis's own protocol, on a plain socket (no client pool to clean up)."""
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as conn:
                conn.sendall(b"PING\r\n")
                return conn.recv(64).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        """SIGTERM, as systemd stops it: Redis finishes its append-only file and exits."""
        self._end(signal.SIGTERM)

    def kill(self) -> None:
        """SIGKILL: gone at once; with an fsync per write, nothing acknowledged is lost."""
        self._end(signal.SIGKILL)

    def _end(self, how: signal.Signals) -> None:
        if self._proc is None:
            return
        if self._proc.poll() is None:
            self._proc.send_signal(how)
        try:
            self._proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait(timeout=15)

    def restart(self, *, kill: bool = False) -> None:
        """Stop (or kill) and start again on the same port with the same data."""
        if kill:
            self.kill()
        else:
            self.stop()
        self.start_again()

    def start_again(self) -> None:
        """Start after ``stop`` or ``kill``, on the same port with the same data: a test
        may do what it likes while Redis is away in between."""
        if not self._start():
            raise RuntimeError(f"port {self.port} was taken while Redis was down")

    def close(self) -> None:
        """Always safe: stops Redis and deletes its directory."""
        try:
            self.kill()
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> TempRedis:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()
