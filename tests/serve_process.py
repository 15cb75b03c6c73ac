"""``chatroom serve`` in a subprocess, for attacks that need a whole process: running out of
file descriptors is per process, so it cannot be reproduced by a server in a test thread.

The server can be started under a lower ``RLIMIT_NOFILE`` (set in the child before exec,
as ``ulimit -n`` would); its output goes to files, so no pipe can fill up and block it.
"""

from __future__ import annotations

import os
import re
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

from chatroom.config import Config

_WEB = re.compile(r"web client on (https?)://\S+:(\d+)/")
# Password hashing as cheap as argon2 allows: these tests are not about its cost. Whatever
# makes accounts for such a server (``chatroom admin create``) runs with the same.
CHEAP_ARGON2 = {"CHATROOM_ARGON2_MEMORY_KIB": "1024", "CHATROOM_ARGON2_TIME_COST": "1"}


def store_args(config: Config) -> tuple[str, ...]:
    """``--store URL`` when the tests' config puts the store elsewhere than the data
    directory (``CHATROOM_TEST_STORE=postgres``), so ``serve`` opens the same store."""
    return ("--store", config.store_url) if config.store_url else ()


class ServeProcess:
    """One ``chatroom serve`` on free ports (IRC and web, no TLS port)."""

    def __init__(
        self,
        tmp_path: Path,
        env: dict[str, str] | None = None,
        nofile: tuple[int, int] | None = None,
        args: tuple[str, ...] = (),
        *,
        wait: bool = True,
    ) -> None:
        """Starts it and, with ``wait``, waits until it says where it listens; without,
        call ``ready()`` later (several servers then start side by side)."""
        tmp_path.mkdir(parents=True, exist_ok=True)
        self.out_path = tmp_path / "serve-stdout.txt"
        self.err_path = tmp_path / "serve-stderr.txt"
        self._out = self.out_path.open("wb")
        self._err = self.err_path.open("wb")
        command = [
            *(sys.executable, "-m", "chatroom", "serve", "--port", "0", "--http-port", "0"),
            *("--tls-port", "off", "--data-dir", str(tmp_path / "data"), *args),
        ]

        def lower_limit() -> None:
            if nofile is not None:
                resource.setrlimit(resource.RLIMIT_NOFILE, nofile)

        self.proc = subprocess.Popen(
            command,
            stdout=self._out,
            stderr=self._err,
            env={**os.environ, **CHEAP_ARGON2, **(env or {})},
            preexec_fn=lower_limit if nofile is not None else None,
        )
        self.irc_port, self.web_scheme, self.web_port = 0, "", 0
        if wait:
            self.ready()

    def ready(self) -> ServeProcess:
        """Wait until it says where it listens; one that never does is stopped."""
        try:
            self.irc_port, self.web_scheme, self.web_port = self._wait_for_ports()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_for_ports(self) -> tuple[int, str, int]:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            text = self.stdout()
            irc = re.search(r"listening for IRC on \S+:(\d+)", text)
            web = _WEB.search(text)
            if irc and web:
                return int(irc.group(1)), web.group(1), int(web.group(2))
            assert self.proc.poll() is None, f"serve exited: {self.stderr()[-2000:]}"
            time.sleep(0.05)
        raise AssertionError(f"serve never said where it listens: {self.stdout()}")

    def stdout(self) -> str:
        return self.out_path.read_text(errors="replace")

    def said(self, text: str, timeout: float = 10.0) -> bool:
        """Whether ``text`` appears on stdout within ``timeout`` (it prints as it starts)."""
        deadline = time.monotonic() + timeout
        while text not in self.stdout():
            if time.monotonic() > deadline or self.proc.poll() is not None:
                return False
            time.sleep(0.05)
        return True

    def stderr(self) -> str:
        return self.err_path.read_text(errors="replace")

    def open_file_limit(self) -> tuple[int, int]:
        """The server's own RLIMIT_NOFILE (soft, hard), as /proc shows it."""
        for line in Path(f"/proc/{self.proc.pid}/limits").read_text().splitlines():
            if line.startswith("Max open files"):
                soft, hard = line.split()[3:5]
                return int(soft), int(hard)
        raise AssertionError("no open file limit in /proc")

    def stop(self) -> None:
        """Always safe: SIGTERM, then SIGKILL if it does not stop; closes the files."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.proc.wait(timeout=15)
        self._out.close()
        self._err.close()
