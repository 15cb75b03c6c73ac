"""A network that lives long sees many node incarnations come and go (each restart of a
node is a new one). It must remember the ones that left only for as long as their late
entries could still arrive, not for as long as the network lives: after many restarts
the network's state (read here from the snapshot the lease holder writes) names only the
live incarnations, and the network works as before. The network is this test's alone."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
import redis

from chatroom.server.cluster.codec import load_state, mac_key
from chatroom.server.cluster.keys import names_of
from chatroom.server.cluster.replica import FORGET_SECONDS
from tests.cluster.support import Network, eventually, guest, heard, join
from tests.postgres_server import TempPostgres
from tests.realserver import Wire
from tests.redis_server import TempRedis

SNAPSHOT_EVERY = 20
RESTARTS = 6


@pytest.fixture(scope="module")
def network(
    tmp_path_factory: pytest.TempPathFactory, redis_server: TempRedis, postgres: TempPostgres
) -> Iterator[Network]:
    env = {"CHATROOM_CLUSTER_SNAPSHOT_EVERY": str(SNAPSHOT_EVERY)}
    running = Network(
        tmp_path_factory.mktemp("network"), redis_server, postgres.new_database(), env=env
    )
    try:
        running.start("a", "b")
        yield running
    finally:
        running.stop()


def _replica_in_snapshot(network: Network, client: redis.Redis) -> dict[str, Any]:
    data = client.get("chatroom:snapshot")
    assert isinstance(data, bytes), "no snapshot yet"
    key = mac_key(network.env["CHATROOM_CLUSTER_SECRET"])
    state = load_state(data, {"world": object(), "clock": object()}, key)
    return dict(state["replica"])


def test_after_many_restarts_the_network_remembers_only_its_live_incarnations(
    network: Network, wires: list[Wire]
) -> None:
    stay = guest(network["a"].port, wires, "stay")
    join(stay, "#restarts")
    for i in range(RESTARTS):  # each incarnation of b had a user, who quit with it
        mover = guest(network["b"].port, wires, f"mover{i}")
        join(mover, "#restarts")
        heard(stay, f"mover{i}", " JOIN #restarts")
        network.restart("b")
        heard(stay, f"mover{i}", " QUIT ")
    time.sleep(FORGET_SECONDS + 2)  # the last incarnation that left is old enough now

    client = redis.Redis.from_url(network.redis_url)
    try:
        live = set(names_of(client.zrange("chatroom:nodes", 0, -1)))
        assert len(live) == 2, live

        def only_live_remembered() -> bool:
            for i in range(SNAPSHOT_EVERY):  # entries enough for the next snapshot
                stay.write(f"PRIVMSG #restarts :line {i}")
            replica = _replica_in_snapshot(network, client)
            remembered = set(replica["dead"]) | set(replica["last_seq"])
            return remembered <= live

        eventually(only_live_remembered, "a snapshot that names only live incarnations", 20.0)
    finally:
        client.close()
    last = guest(network["b"].port, wires, "last")
    join(last, "#restarts")
    last.write("PRIVMSG #restarts :from the latest incarnation")
    heard(stay, "last", " PRIVMSG #restarts :from the latest incarnation")
