"""``chatroom serve --workers N``: N nodes of one network on one machine sharing one port
(SO_REUSEPORT), so clients that land on different workers still share rooms; the parent
stops them all on SIGTERM."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cluster.support import Network, eventually, guest, heard, join
from tests.realserver import Wire

NODES = ()  # this module starts its own workers instead of the network's nodes


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def workers(network: Network, tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    port = _free_port()
    command = [
        *(sys.executable, "-m", "chatroom", "serve", "--workers", "2", "--node", "w"),
        *("--port", str(port), "--http-port", "off", "--tls-port", "off"),
        *("--data-dir", str(tmp_path / "data"), "--store", network.store_url),
        *("--cluster", network.redis_url),
    ]
    out = (tmp_path / "workers.txt").open("wb")
    parent = subprocess.Popen(
        command, stdout=out, stderr=subprocess.STDOUT, env={**os.environ, **network.env}
    )
    try:
        deadline = time.monotonic() + 30
        listening = f"listening for IRC on 127.0.0.1:{port}"
        # a worker joins the network before it opens the port: wait for both signs
        while (
            set(network.listed_nodes()) != {"w-1", "w-2"}
            or (tmp_path / "workers.txt").read_text().count(listening) < 2
        ):
            assert parent.poll() is None, (tmp_path / "workers.txt").read_text()
            assert time.monotonic() < deadline, (tmp_path / "workers.txt").read_text()
            time.sleep(0.2)
        yield parent, port
        said = (tmp_path / "workers.txt").read_text()
        assert "exited" not in said, said  # a worker that could not share the port dies
        assert said.count(listening) == 2, said
    finally:
        if parent.poll() is None:
            parent.send_signal(signal.SIGTERM)
            parent.wait(timeout=30)
        out.close()


def test_workers_share_one_port_and_their_clients_share_rooms(
    network: Network, workers: tuple[subprocess.Popen[bytes], int], wires: list[Wire]
) -> None:
    parent, port = workers
    people = [guest(port, wires, f"worker{i}") for i in range(6)]
    for person in people:
        join(person, "#workers")
    for i in range(1, 6):
        heard(people[0], f"worker{i}", " JOIN #workers")
    people[-1].write("PRIVMSG #workers :heard by every worker's clients")
    for person in people[:-1]:
        heard(person, "worker5", "heard by every worker's clients")
    eventually(lambda: _held(network) == 6, "the workers hold the 6 clients between them")
    # systemctl reload: the parent passes SIGHUP on and keeps running, as do the workers.
    parent.send_signal(signal.SIGHUP)
    time.sleep(1.0)
    assert parent.poll() is None
    people[0].write("PRIVMSG #workers :still here after the reload")
    for person in people[1:]:
        heard(person, "worker0", "still here after the reload")
    parent.send_signal(signal.SIGTERM)
    assert parent.wait(timeout=30) == 0
    assert not {"w-1", "w-2"} & set(network.listed_nodes())


def _held(network: Network) -> int:
    listed = network.listed_nodes()
    return sum(
        int(line.split("users=")[1].split()[0]) for line in listed.values() if "users=" in line
    )


def test_every_log_line_of_a_worker_names_its_node(
    network: Network, workers: tuple[subprocess.Popen[bytes], int], tmp_path: Path
) -> None:
    """The workers write to one stderr (one journal): a line that does not say which
    worker wrote it ("shutting down", "history write failed") could be any of them."""
    parent, _port = workers
    parent.send_signal(signal.SIGTERM)
    assert parent.wait(timeout=30) == 0
    logged = [
        line
        for line in (tmp_path / "workers.txt").read_text().splitlines()
        if line[:4].isdigit()  # the log's lines start with the date, the banner's do not
    ]
    assert logged
    unnamed = [line for line in logged if " node=w-1" not in line and " node=w-2" not in line]
    assert not unnamed, unnamed
    assert [line for line in logged if "shutting down" in line]
