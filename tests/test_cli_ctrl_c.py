"""Ctrl-C on ``chatroom serve`` in a terminal: the terminal sends SIGINT to the whole
foreground process group, the password workers included. The server shuts down as on
SIGTERM, and nothing else is printed: no worker's KeyboardInterrupt traceback breaking
the log (one JSON object per line with ``--log-format json``)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.serve_process import CHEAP_ARGON2


def test_ctrl_c_stops_serve_with_only_log_lines_and_exit_0(tmp_path: Path) -> None:
    command = [
        *(sys.executable, "-m", "chatroom", "serve", "--port", "0", "--http-port", "off"),
        *("--tls-port", "off", "--data-dir", str(tmp_path / "data"), "--log-format", "json"),
    ]
    err_path = tmp_path / "stderr.txt"
    with err_path.open("wb") as err:
        proc = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
            env={**os.environ, **CHEAP_ARGON2},
            start_new_session=True,  # its own group, as a shell's foreground job
        )
        try:
            assert proc.stdout is not None
            assert "listening for IRC on" in proc.stdout.readline()
            deadline = time.monotonic() + 20
            while not _a_worker_runs(proc.pid):
                assert time.monotonic() < deadline, "no password worker ever started"
                time.sleep(0.1)
            os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C does
            assert proc.wait(timeout=20) == 0
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
            if proc.stdout is not None:
                proc.stdout.close()
    lines = err_path.read_text().splitlines()
    assert "Traceback (most recent call last):" not in lines
    assert [json.loads(line)["level"] for line in lines]  # every line is a JSON object


def _a_worker_runs(pid: int) -> bool:
    """Whether the server's group holds a password worker: a process forked by the
    multiprocessing fork server, whose command line it shares (two such lines)."""
    done = subprocess.run(
        ["ps", "-o", "args=", "-g", str(pid)], capture_output=True, text=True, check=False
    )
    return done.stdout.count("multiprocessing.forkserver") >= 2
