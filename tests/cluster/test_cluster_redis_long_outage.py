"""Redis away for longer than a node's heartbeat lives (a slow restart, a host rebooting).
A node cannot tell that from being cut off alone (test_cluster_node_cut_off.py), when the
others declare it lost: so every node tells its clients why and closes them (they would
only talk to nobody meanwhile) and refuses new ones. When Redis is back, no node is
declared lost for the beats nobody could send: every node reads the log up to its end,
serves again, and the clients come back, to any node, with their nicks. The network is
this test's alone."""

from __future__ import annotations

import time

from chatroom.server.cluster.liveness import NODE_TTL_MS
from tests.cluster.support import Network, barrier, closed, guest, heard, join
from tests.realserver import Wire

AWAY = NODE_TTL_MS / 1000 + 3  # seconds Redis is down: every heartbeat has expired
TOLD = NODE_TTL_MS / 1000 + 10  # seconds for a node to give up on its link
RECOVERED = 20.0  # seconds for the nodes to reach Redis and read the log to its end


def test_a_redis_outage_longer_than_a_heartbeat_closes_clients_with_the_reason_then_all_serve(
    network: Network, wires: list[Wire]
) -> None:
    users = {name: guest(network[name].port, wires, f"long{name}") for name in ("a", "b", "c")}
    for wire in users.values():
        join(wire, "#long")
    heard(users["a"], "longc", " JOIN #long")

    network.redis.stop()
    started = time.monotonic()
    for wire in users.values():
        said = closed(wire, TOLD)
        errors = [line for line in said if line.startswith("ERROR")]
        assert errors, said
        assert "lost its link to the network" in errors[-1], said
    time.sleep(max(0.0, AWAY - (time.monotonic() - started)))
    network.redis.start_again()

    back = {}
    deadline = time.monotonic() + RECOVERED
    for name in ("a", "b", "c"):  # each node welcomes clients again, the old nicks free
        while True:
            attempt = Wire(network[name].port)
            wires.append(attempt)
            attempt.write(f"NICK long{name}", f"USER long{name} 0 * :back")
            lines = attempt.until((" 376 ", "ERROR", " 433 "), RECOVERED)
            if " 376 " in lines[-1]:
                back[name] = attempt
                break
            assert time.monotonic() < deadline, f"node {name} never served again: {lines[-3:]}"
            time.sleep(0.5)
    for wire in back.values():
        join(wire, "#long")
    back["a"].write("PRIVMSG #long :after the long outage")
    heard(back["b"], "longa", " PRIVMSG #long :after the long outage")
    heard(back["c"], "longa", " PRIVMSG #long :after the long outage")
    time.sleep(NODE_TTL_MS / 1000 + 2)  # a lease holder's check for lost nodes has run
    for name, wire in back.items():
        said = barrier(wire)  # still connected: nobody was declared lost
        assert not [line for line in said if "node lost" in line], said
        assert network[name].alive
