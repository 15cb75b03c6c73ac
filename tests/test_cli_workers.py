"""``chatroom serve --workers N`` restarts a worker that dies, but one that cannot start
(here: its Redis is unreachable) would fail forever: the parent gives up, stops every
worker and exits 1 naming the worker, so that systemd sees a failed service instead of
a parent that looks healthy while it restarts workers in a loop."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

from tests.serve_process import CHEAP_ARGON2


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])  # nobody listens there once the probe closes


def test_workers_that_keep_failing_at_start_stop_the_parent_with_an_error(
    tmp_path: Path,
) -> None:
    nowhere = _closed_port()
    command = [
        *(sys.executable, "-m", "chatroom", "serve", "--workers", "2", "--node", "w"),
        *("--port", str(_closed_port()), "--http-port", "off", "--tls-port", "off"),
        *("--data-dir", str(tmp_path / "data"), "--cluster", f"redis://127.0.0.1:{nowhere}/0"),
        *("--store", f"postgresql://nobody@127.0.0.1:{nowhere}/none"),
    ]
    env = {**os.environ, **CHEAP_ARGON2, "CHATROOM_CLUSTER_SECRET": "s" * 64}
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 1, done.stderr[-2000:]
    assert "failed 3 times right after starting" in done.stderr, done.stderr[-2000:]
    assert "Traceback" not in done.stderr, done.stderr[-2000:]
