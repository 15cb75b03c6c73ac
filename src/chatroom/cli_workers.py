"""``chatroom serve --workers N``: N nodes of one network on this machine, one per core.

Each worker is an ordinary ``chatroom serve`` node (``--node NAME-i``) of the network that
``cluster.url`` names; they share the listening ports with ``SO_REUSEPORT``, so the
kernel spreads new connections over them, and clients see one server. This process only
starts them, restarts one that dies (its users were declared lost by the others and
reconnect), and stops them all on SIGINT/SIGTERM. A worker that fails again and again
right after its start (Redis unreachable, a port taken, settings the network refuses)
would fail forever: then this process stops them all and exits 1, so that the service
manager sees the failure instead of a restart loop.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from types import FrameType

from chatroom.config import Config, ConfigError
from chatroom.server.net import tls

RESTART_SECONDS = 1.0
STOP_SECONDS = 10.0
QUICK_FAILURE_SECONDS = 15.0  # a worker that fails sooner after its start failed to start
QUICK_FAILURES = 3  # in a row, for one worker: then give up


def _ports(config: Config) -> list[str]:
    """The worker's listener flags; ports must be fixed to be shared."""
    flags = []
    for flag, key, port in (
        ("--port", "listen.port", config.listen.port),
        ("--tls-port", "listen.tls_port", config.tls.port),
        ("--http-port", "listen.http_port", config.listen.http_port),
    ):
        if port == 0:
            raise ConfigError(
                f"--workers shares the ports between the nodes: give {key} ({flag}) a fixed"
                " port, or 'off'"
            )
        flags += [flag, "off" if port is None else str(port)]
    return flags


def worker_command(config: Config, config_file: str | None, index: int) -> list[str]:
    command = [sys.executable, "-m", "chatroom", "serve", *_ports(config)]
    if config_file is not None:
        command += ["--config", config_file]
    command += ["--host", config.listen.host, "--data-dir", str(config.data_dir)]
    command += ["--store", config.store_url, "--cluster", config.cluster_url]
    command += ["--node", f"{config.node}-{index}", "--server-name", config.core.server_name]
    return command


def run_workers(config: Config, config_file: str | None, count: int, log_args: list[str]) -> int:
    if not config.cluster_url:
        raise ConfigError(
            "--workers runs several nodes of one network: set cluster.url (--cluster"
            " redis://HOST:PORT/DB) and a postgresql:// store.url (docs/cluster.md)"
        )
    commands = [worker_command(config, config_file, i) + log_args for i in range(1, count + 1)]
    if config.tls.port is not None and config.tls.cert is None:
        # Made once here: the workers would otherwise race to create it.
        tls.ensure_self_signed(config.data_dir, config.core.server_name)
    env = {**os.environ, "CHATROOM_LISTEN_REUSE_PORT": "true"}
    stopping = False

    def stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    workers: list[subprocess.Popen[bytes]] = []

    def pass_on(signum: int, frame: FrameType | None) -> None:
        # SIGHUP (systemctl reload) is each worker's: it reads its TLS files again. Its
        # default action would end this process and leave the workers without a parent.
        for worker in workers:
            if worker.poll() is None:
                worker.send_signal(signal.SIGHUP)

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGHUP, pass_on)
    workers += [subprocess.Popen(command, env=env) for command in commands]
    started = [time.monotonic()] * count
    quick_failures = [0] * count
    gave_up = False
    print(f"chatroom: {count} workers of node {config.node} started", flush=True)
    while not stopping:
        time.sleep(0.2)
        for i, worker in enumerate(workers):
            if worker.poll() is None or stopping:
                continue
            name = f"{config.node}-{i + 1}"
            quick = worker.returncode != 0 and time.monotonic() - started[i] < QUICK_FAILURE_SECONDS
            quick_failures[i] = quick_failures[i] + 1 if quick else 0
            if quick_failures[i] >= QUICK_FAILURES:
                print(
                    f"chatroom: worker {name} failed {QUICK_FAILURES} times right after"
                    " starting (its error is above); stopping every worker",
                    file=sys.stderr,
                    flush=True,
                )
                stopping = gave_up = True
                break
            print(
                f"chatroom: worker {name} exited ({worker.returncode}); restarting it",
                file=sys.stderr,
                flush=True,
            )
            time.sleep(RESTART_SECONDS)
            workers[i] = subprocess.Popen(commands[i], env=env)
            started[i] = time.monotonic()
    for worker in workers:
        if worker.poll() is None:
            worker.terminate()
    deadline = time.monotonic() + STOP_SECONDS
    for worker in workers:
        try:
            worker.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
    return 1 if gave_up else 0
