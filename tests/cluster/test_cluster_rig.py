"""The rig of the cluster tests checked on its own, with today's ``chatroom serve``: a
real Redis that keeps its data over a restart, and several server processes on one
PostgreSQL store that start, answer, and are named with their stderr when they fail."""

from __future__ import annotations

from pathlib import Path

import pytest
import redis

from tests import redis_server as redis_module
from tests.cluster.support import Network, barrier, guest
from tests.postgres_server import TempPostgres
from tests.realserver import Wire
from tests.redis_server import RedisMissingError, TempRedis


@pytest.mark.parametrize("kill", [False, True], ids=["stopped", "killed"])
def test_temp_redis_answers_ping_and_keeps_a_key_over_a_restart_on_the_same_port(
    kill: bool,
) -> None:
    with TempRedis() as server:
        url, pid = server.url(), server.pid
        with redis.Redis.from_url(url) as client:
            assert client.ping() is True
            client.set("chatroom:test", "kept")
        server.restart(kill=kill)
        assert server.url() == url
        assert server.pid != pid
        with redis.Redis.from_url(url) as client:
            assert client.get("chatroom:test") == b"kept"
        root = server.root
    assert not server.running
    assert not root.exists()


def test_temp_redis_without_redis_server_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(redis_module, "REDIS_SERVER", tmp_path / "redis-server")
    with pytest.raises(RedisMissingError, match="install Debian's redis-server"):
        TempRedis()


def test_separate_servers_on_one_store_start_side_by_side_and_answer(
    tmp_path: Path, postgres: TempPostgres, wires: list[Wire]
) -> None:
    with TempRedis() as server:
        network = Network(tmp_path, server, postgres.new_database(), cluster=False)
        try:
            network.create_account("admin", oper=True)
            first, second = network.start("a", "b")
            assert first.port != second.port
            for node in (first, second):
                wire = guest(node.port, wires, f"rig{node.name}")
                assert any("PONG" in line for line in barrier(wire))
        finally:
            network.stop()
        assert not first.alive
        assert not second.alive


def test_a_node_that_cannot_start_is_named_with_its_stderr(
    tmp_path: Path, postgres: TempPostgres
) -> None:
    with TempRedis() as server:
        network = Network(tmp_path, server, "nosuch://store", cluster=False)
        try:
            with pytest.raises(AssertionError, match=r"node broken did not start: (.|\n)*nosuch"):
                network.start("broken")
        finally:
            network.stop()
