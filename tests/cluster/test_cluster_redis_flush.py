"""Redis loses its keys while every node stays connected to it (a FLUSHALL by mistake, an
eviction under ``maxmemory``): the nodes' heartbeats are gone at once, but that is not
their death. No node is declared lost, each puts its beat back, the running nodes carry
on with the log from where they were, and messages flow as before. (A node cannot join
such a network: its log has lost its start; docs/cluster.md.) The network is this
test's alone."""

from __future__ import annotations

import time

import redis

from chatroom.server.cluster.liveness import NODE_TTL_MS
from tests.cluster.support import Network, barrier, eventually, guest, heard, join
from tests.realserver import Wire


def test_redis_losing_its_keys_declares_no_node_lost_and_the_network_goes_on(
    network: Network, wires: list[Wire]
) -> None:
    fay = guest(network["a"].port, wires, "fay")
    gus = guest(network["b"].port, wires, "gus")
    hal = guest(network["c"].port, wires, "hal")
    for wire in (fay, gus, hal):
        join(wire, "#flush")
    heard(fay, "hal", " JOIN #flush")
    time.sleep(NODE_TTL_MS / 1000)  # long enough in touch with Redis to declare nodes lost

    with redis.Redis.from_url(network.redis_url) as client:
        client.flushall()
        # The nodes beat in step (they started together), so each puts its beat back
        # before any checks the others'; keys lost again and again for a few seconds
        # (an eviction storm) leave nobody's beat there when the lease holder looks.
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            client.delete("chatroom:nodes")
            time.sleep(0.05)
    eventually(lambda: set(network.listed_nodes()) == {"a", "b", "c"}, "every node beats again")
    time.sleep(NODE_TTL_MS / 1000 + 2)  # the lease holder's checks for lost nodes have run
    for wire in (fay, gus, hal):
        said = barrier(wire)  # still connected
        assert not [line for line in said if "node lost" in line], said
    gus.write("PRIVMSG #flush :after the flush")
    heard(fay, "gus", " PRIVMSG #flush :after the flush")
    heard(hal, "gus", " PRIVMSG #flush :after the flush")
