"""One node out of Redis's reach while the others still reach it (a broken link, a
firewall): for the others its heartbeat stops, so they declare it lost and its users QUIT
"node lost". Its own clients must not go on talking to nobody until the link returns: once
the link has been down for as long as a heartbeat lives, the node tells them why and
closes them, so they reconnect to another node, and refuses new ones. When the link
returns it reads that it was declared lost and exits, for its service manager to start
it again, even if the log was trimmed past its own "lost" meanwhile (it cannot apply
what follows a gap). The cut is a relay between that node and Redis that the test stops (the
network is this test's alone)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis

from chatroom.server.cluster.liveness import NODE_TTL_MS
from tests.cluster.proxy import CuttableProxy
from tests.cluster.support import Network, closed, eventually, guest, heard, join, metric
from tests.postgres_server import TempPostgres
from tests.realserver import Wire
from tests.redis_server import TempRedis

NOTICED = 20.0  # seconds for the others to declare it lost (the contract is 10)
SNAPSHOT_EVERY = 20  # entries between snapshots, after which the log is trimmed


@pytest.fixture(scope="module")
def proxy(redis_server: TempRedis) -> Iterator[CuttableProxy]:
    relay = CuttableProxy(redis_server.port)
    yield relay
    relay.close()


@pytest.fixture(scope="module")
def network(
    tmp_path_factory: pytest.TempPathFactory,
    redis_server: TempRedis,
    postgres: TempPostgres,
    proxy: CuttableProxy,
) -> Iterator[Network]:
    env = {"CHATROOM_CLUSTER_SNAPSHOT_EVERY": str(SNAPSHOT_EVERY)}
    running = Network(
        tmp_path_factory.mktemp("network"), redis_server, postgres.new_database(), env=env
    )
    running.redis_urls["c"] = proxy.url()
    try:
        running.start("a", "b", "c")
        yield running
    finally:
        running.stop()


def test_a_node_cut_off_from_redis_disconnects_its_clients_with_the_reason_and_exits_later(
    network: Network, proxy: CuttableProxy, wires: list[Wire]
) -> None:
    pia = guest(network["a"].port, wires, "pia")
    sam = guest(network["c"].port, wires, "sam")
    for wire in (pia, sam):
        join(wire, "#cut")
    heard(pia, "sam", " JOIN #cut")

    proxy.cut()
    try:
        assert "node lost" in heard(pia, "sam", " QUIT ", limit=NOTICED)
        said = closed(sam, NOTICED)  # told, not left talking to nobody
        errors = [line for line in said if line.startswith("ERROR")]
        assert errors, said
        assert "lost its link to the network" in errors[-1], said
        newcomer = Wire(network["c"].port)
        wires.append(newcomer)
        refused = closed(newcomer, 10.0)  # no new client while cut off
        assert any("lost its link to the network" in line for line in refused), refused
        assert metric(network, "c", "chatroom_node_link_lost") == 1  # for the operator
        back = guest(network["b"].port, wires, "sam")  # its client reconnects elsewhere
        join(back, "#cut")
        heard(pia, "sam", " JOIN #cut")
        _talk_until_the_log_starts_after(pia, network, _redis_ms(network))
    finally:
        proxy.mend()
    cut = network["c"].process.proc
    assert cut.wait(timeout=NOTICED + NODE_TTL_MS / 1000) == 1  # declared lost: it exits
    assert "lost touch with the network" in network["c"].stderr()


def _redis_ms(network: Network) -> int:
    with redis.Redis.from_url(network.redis_url) as client:
        seconds, micros = client.time()
    return int(seconds) * 1000 + int(micros) // 1000


def _talk_until_the_log_starts_after(wire: Wire, network: Network, ms: int) -> None:
    """Lines in a room until the log's first entry is newer than ``ms``: everything
    before, the cut-off node's "lost" among it, was trimmed behind a snapshot."""

    def trimmed() -> bool:
        for i in range(SNAPSHOT_EVERY):
            wire.write(f"PRIVMSG #cut :line {i}")
        with redis.Redis.from_url(network.redis_url) as client:
            first = client.xrange("chatroom:log", count=1)
        return bool(first) and int(first[0][0].split(b"-")[0]) > ms

    eventually(trimmed, "the log was trimmed past the cut-off node's loss", 20.0)
