"""The log stays short and late nodes still join: every few entries the lease holder writes
the network's state (a snapshot), the log before it is trimmed, and a node that starts
afterwards begins from the snapshot and knows everything that happened before it.

Also here, because it spans nodes over time: an always-on user stays in its rooms after
its device on one node leaves, and its next device, on another node, takes up its place.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis

from tests.cluster.support import (
    Network,
    eventually,
    guest,
    heard,
    join,
    login,
    names,
)
from tests.postgres_server import TempPostgres
from tests.realserver import Wire
from tests.redis_server import TempRedis

SNAPSHOT_EVERY = 25


@pytest.fixture(scope="module")
def network(
    tmp_path_factory: pytest.TempPathFactory, redis_server: TempRedis, postgres: TempPostgres
) -> Iterator[Network]:
    env = {"CHATROOM_CLUSTER_SNAPSHOT_EVERY": str(SNAPSHOT_EVERY)}
    running = Network(
        tmp_path_factory.mktemp("network"), redis_server, postgres.new_database(), env=env
    )
    try:
        running.create_account("keeper")
        running.start("a", "b")
        yield running
    finally:
        running.stop()


def test_a_node_that_starts_after_the_log_was_trimmed_knows_the_whole_network(
    network: Network, wires: list[Wire]
) -> None:
    talker = guest(network["a"].port, wires, "talker")
    join(talker, "#snap")
    talker.write("TOPIC #snap :set before the snapshot")
    for i in range(3 * SNAPSHOT_EVERY):
        talker.write(f"PRIVMSG #snap :line {i}")
    client = redis.Redis.from_url(network.redis_url)
    try:
        eventually(lambda: bool(client.exists("chatroom:snapshot")), "a snapshot was written")
        eventually(
            lambda: client.xlen("chatroom:log") < 2 * SNAPSHOT_EVERY,
            "the log was trimmed behind the snapshot",
        )
    finally:
        client.close()
    (late,) = network.start("c")
    assert "started from a snapshot" in late.stderr()
    newcomer = guest(late.port, wires, "newcomer")
    answer = join(newcomer, "#snap")
    assert any("set before the snapshot" in line for line in answer), answer
    assert "@talker" in names(newcomer, "#snap")
    newcomer.write("PRIVMSG #snap :hello from the late node")
    heard(talker, "newcomer", "hello from the late node")


def test_an_always_on_user_stays_after_leaving_one_node_and_returns_on_another(
    network: Network, wires: list[Wire]
) -> None:
    first = login(network["a"].port, wires, "keeper")
    first.write("PRIVMSG NickServ :SET ALWAYS-ON ON")
    first.until("ALWAYS-ON is now ON")
    join(first, "#kept")
    watcher = guest(network["b"].port, wires, "watcher2", "away-notify")
    join(watcher, "#kept")
    first.close()
    wires.remove(first)
    heard(watcher, "keeper", " AWAY")  # the network saw its device go: it stays, away
    watcher.write("PRIVMSG #kept :said while keeper is away")
    assert "@keeper" in names(watcher, "#kept")  # nobody saw it leave
    again = login(network["b"].port, wires, "keeper", "", "server-time")
    burst = again.until(" 366 ")
    assert any(" JOIN #kept" in line for line in burst), burst
    again.until("said while keeper is away")  # what it missed, replayed
