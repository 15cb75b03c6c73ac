"""A real ZNC (Debian's ``znc``, installed by the Makefile) for the bouncer interop test.

It runs in the foreground with ``-D`` (every line it sends and receives goes to its log,
which the test reads: the pin it checked, the SASL login, any complaint from the server),
from a temporary data directory, listening on a free port of 127.0.0.1 only. Its
configuration is what ``znc --makeconf`` writes for the answers docs/clients.md gives: a
plain listener, one user with a password, the user modules makeconf enables, and no
network (the documented ``/znc`` commands make that). ZNC refuses to run as root and,
with ``--allow-root``, sleeps 30 seconds first, so under root it runs as ``nobody``.
"""

from __future__ import annotations

import hashlib
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

ZNC = Path(os.environ.get("CHATROOM_ZNC", "/usr/bin/znc"))


def free_port() -> int:
    """A port of 127.0.0.1 nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _version() -> str:
    """``1.8.2`` from ``ZNC 1.8.2+deb3.1 - https://znc.in``: the config's Version line."""
    out = subprocess.run([str(ZNC), "--version"], capture_output=True, text=True, timeout=30)
    found = re.search(r"ZNC (\d+\.\d+\.\d+)", out.stdout)
    return found.group(1) if found else "1.8.0"


def _config(port: int, user: str, password: str) -> str:
    """znc.conf as makeconf writes it (its salted sha256 password form included), with
    ZNC's waits between connection attempts (5 seconds between networks, 30 before the
    same server again) cut to a second: a test reconnects within seconds."""
    salt = secrets.token_hex(10)
    digest = hashlib.sha256((password + salt).encode()).hexdigest()
    return f"""Version = {_version()}
ConnectDelay = 1
ServerThrottle = 1
<Listener l>
\tHost = 127.0.0.1
\tPort = {port}
\tIPv4 = true
\tIPv6 = false
\tSSL = false
</Listener>

<User {user}>
\tPass = sha256#{digest}#{salt}#
\tAdmin = true
\tNick = {user}
\tAltNick = {user}_
\tIdent = {user}
\tLoadModule = chansaver
\tLoadModule = controlpanel
</User>
"""


class TempZnc:
    """One ZNC with one user; ``log()`` is its debug output so far."""

    def __init__(self, user: str, password: str, *, start_timeout: float = 30.0) -> None:
        if not ZNC.exists():
            raise RuntimeError(f"no {ZNC}: install Debian's znc (`make test` does)")
        self.root = Path(tempfile.mkdtemp(prefix="chatroom-znc-"))
        self.log_path = self.root / "znc.log"
        self.datadir = self.root / "data"
        self._proc: subprocess.Popen[bytes] | None = None
        self.port = 0
        for _attempt in range(5):  # another process may take the probed port first
            self.port = free_port()
            if self._start(user, password, start_timeout):
                return
        self.stop()
        raise RuntimeError(f"znc found no free port: {self.log()[-2000:]}")

    def _start(self, user: str, password: str, timeout: float) -> bool:
        """Start on ``self.port``; False if that port was taken, an error otherwise."""
        shutil.rmtree(self.datadir, ignore_errors=True)
        (self.datadir / "configs").mkdir(parents=True)
        (self.datadir / "configs" / "znc.conf").write_text(_config(self.port, user, password))
        uid = gid = None
        if os.geteuid() == 0:
            nobody = pwd.getpwnam("nobody")
            uid, gid = nobody.pw_uid, nobody.pw_gid
            self.root.chmod(0o711)  # nobody may pass through to its own data directory
            for path in (self.datadir, *self.datadir.rglob("*")):
                os.chown(path, uid, gid)
        with self.log_path.open("ab") as log:
            self._proc = subprocess.Popen(
                [str(ZNC), "--foreground", "--debug", "--no-color", "--datadir", str(self.datadir)],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env={**os.environ, "HOME": str(self.datadir)},
                user=uid,
                group=gid,
                extra_groups=[] if uid is not None else None,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                if "Unable to bind" in self.log():
                    return False
                raise RuntimeError(f"znc exited: {self.log()[-2000:]}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return True
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"znc did not listen within {timeout}s: {self.log()[-2000:]}")

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def wait_log(self, pattern: str, timeout: float = 30.0, start: int = 0) -> re.Match[str]:
        """The first match of regex ``pattern`` in the log from offset ``start`` on."""
        deadline = time.monotonic() + timeout
        while True:
            found = re.compile(pattern).search(self.log(), start)
            if found:
                return found
            if time.monotonic() > deadline:
                raise AssertionError(f"znc never logged {pattern!r}; last: {self.log()[-3000:]}")
            time.sleep(0.05)

    def stop(self) -> None:
        """SIGTERM, SIGKILL if it lingers; then the data directory goes."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.send_signal(signal.SIGTERM)
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(timeout=10)
        shutil.rmtree(self.root, ignore_errors=True)
