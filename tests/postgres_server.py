"""A real PostgreSQL 15 for the tests and the benchmark: Debian's ``postgresql-15``
(installed by the Makefile), a throwaway cluster in a temporary directory, reached on a
Unix socket in that directory only (no TCP port), stopped and deleted at the end.

The tests run as root, and PostgreSQL refuses to run as root: ``initdb`` and ``pg_ctl``
then run as the ``postgres`` user (``runuser``), in a directory that user owns.
"""

from __future__ import annotations

import itertools
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

PG_BIN = Path(os.environ.get("CHATROOM_PG_BIN", "/usr/lib/postgresql/15/bin"))
_databases = itertools.count(1)


class PostgresMissingError(RuntimeError):
    """The PostgreSQL server programs are not installed."""


class TempPostgres:
    """One cluster; ``url(db)`` names a database in it, ``new_database()`` makes one."""

    def __init__(self, *, durable: bool = False) -> None:
        """``durable=False`` (tests) turns fsync off: the tests kill ChatRoom, never the
        machine, so PostgreSQL's own crash safety is not what they check, and the disk is
        shared. The benchmark keeps PostgreSQL's defaults (``durable=True``)."""
        if not (PG_BIN / "initdb").exists():
            raise PostgresMissingError(
                f"no {PG_BIN / 'initdb'}: install Debian's postgresql-15 (`make test` does)"
            )
        self.root = Path(tempfile.mkdtemp(prefix="chatroom-pg-"))
        self.data = self.root / "data"
        self._owner = self._pick_owner()
        if self._owner is not None:
            uid, gid = self._owner
            os.chown(self.root, uid, gid)
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust",
                  "-E", "UTF8", "--locale=C", "--no-sync")  # fmt: skip
        options = f"-k {self.root} -c listen_addresses='' -c max_connections=200"
        if not durable:
            options += " -c fsync=off -c full_page_writes=off"
        self._options = options
        self.start()

    def start(self) -> None:
        """Start the cluster (again, after ``kill``: PostgreSQL recovers from its WAL)."""
        self._run("pg_ctl", "-D", str(self.data), "-o", self._options, "-l",
                  str(self.root / "log"), "-w", "-t", "60", "start")  # fmt: skip

    @staticmethod
    def _pick_owner() -> tuple[int, int] | None:
        if os.geteuid() != 0:
            return None
        entry = pwd.getpwnam("postgres")
        return entry.pw_uid, entry.pw_gid

    def _run(self, program: str, *args: str) -> None:
        command = [str(PG_BIN / program), *args]
        if self._owner is not None:
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"{program} failed: {done.stderr or done.stdout}")

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@/{database}?host={self.root}"

    def new_database(self) -> str:
        """A fresh, empty database; its URL."""
        import psycopg

        name = f"chatroom_test_{os.getpid()}_{next(_databases)}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def restart(self) -> None:
        """Stop and start again on the same socket and data (a database upgrade or a
        crash the service manager recovers from): every client connection is cut."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-l", str(self.root / "log"),
                  "-w", "-t", "60", "restart")  # fmt: skip

    def kill(self) -> None:
        """SIGKILL the postmaster, as the OOM killer or a power cut would: its backends
        notice and exit; returns once they all have, so ``start`` can run again."""
        lock_file = self.data / "postmaster.pid"
        os.kill(int(lock_file.read_text().split()[0]), signal.SIGKILL)
        deadline = time.monotonic() + 60
        while _cluster_processes(self.data) and time.monotonic() < deadline:
            time.sleep(0.05)
        # The dead postmaster may linger as a zombie nobody reaps here, and PostgreSQL
        # takes a lock file naming a live pid as a server still running: with every
        # process of the cluster gone, the stale locks go (the data directory's and the
        # socket's), as an operator would remove them.
        lock_file.unlink(missing_ok=True)
        for socket_lock in self.root.glob(".s.PGSQL.*.lock"):
            socket_lock.unlink(missing_ok=True)

    def take_down(self) -> None:
        """Stop it, keeping its data, until ``start``: a test acts while it is away."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "-t", "60", "stop")

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


def _cluster_processes(data: Path) -> list[int]:
    """The pids of processes still attached to the cluster in ``data`` (its postmaster's
    children have it as their working directory)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if (entry / "cwd").resolve() == data.resolve():
                found.append(int(entry.name))
        except OSError:
            continue
    return found
