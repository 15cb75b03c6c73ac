"""Redis away for a while, but for less than a node's heartbeat lives (a restart, a short
network hiccup): every client stays connected, what happened while Redis was away takes
effect once it is back (a client that left, a nick change, a join, a client that
connected), nobody is declared lost for the beats that could not be sent, and the network
converges on the live connections; each node's log tells of the outage in a few lines,
not in one per retry. (An outage longer than a heartbeat lives disconnects the clients:
test_cluster_redis_long_outage.py.) The network is this test's alone."""

from __future__ import annotations

import time
from functools import partial

from chatroom.server.cluster.liveness import NODE_TTL_MS
from chatroom.server.outage import REPEAT_SECONDS
from tests.cluster.support import Network, barrier, eventually, guest, heard, join, names
from tests.realserver import Wire

# Seconds Redis is down: well below a heartbeat's life, counting the second before the
# stop since the last beat and the time the nodes take to reach Redis again.
AWAY = NODE_TTL_MS / 1000 - 4
RECOVERED = 15.0  # seconds for the nodes to reconnect and apply what waited


def _live_members_listed(wire: Wire) -> bool:
    return {name.lstrip("@+") for name in names(wire, "#away")} == {"ann", "bea", "cid2"}


def test_clients_stay_over_a_redis_outage_shorter_than_a_heartbeat_and_it_converges(
    network: Network, wires: list[Wire]
) -> None:
    ann = guest(network["a"].port, wires, "ann")
    bea = guest(network["b"].port, wires, "bea")
    cid = guest(network["c"].port, wires, "cid")
    dot = guest(network["b"].port, wires, "dot")
    for wire in (ann, bea, cid, dot):
        join(wire, "#away")
    heard(ann, "dot", " JOIN #away")

    network.redis.stop()
    dot.close()  # leaves while the network cannot hear of it
    cid.write("NICK cid2", "JOIN #away2", "PRIVMSG #away :said while Redis was away")
    late = Wire(network["a"].port)  # connects while Redis is away: welcomed once it is back
    wires.append(late)
    late.write("NICK late", "USER late 0 * :late")
    time.sleep(AWAY)
    network.redis.start_again()

    late.until(" 376 ", RECOVERED)
    assert "NICK cid2" in heard(ann, "cid", " NICK ", RECOVERED)
    heard(bea, "cid2", " PRIVMSG #away :said while Redis was away", RECOVERED)
    for wire in (ann, bea, cid):
        eventually(partial(_live_members_listed, wire), "#away lists the live members", RECOVERED)
    time.sleep(NODE_TTL_MS / 1000 + 2)  # a lease holder's check for lost nodes has run
    for wire in (ann, bea, cid, late):
        said = barrier(wire)  # still connected, and nobody was declared lost
        assert not [line for line in said if "node lost" in line], said
    ann.write("PRIVMSG #away :after the outage")
    heard(bea, "ann", " PRIVMSG #away :after the outage")
    heard(cid, "ann", " PRIVMSG #away :after the outage")
    taker = Wire(network["c"].port)
    wires.append(taker)
    taker.write("NICK cid2", "USER t 0 * :t")
    taker.until(" 433 ")  # still held, by the live connection
    assert guest(network["c"].port, wires, "dot")  # freed: its connection is gone

    for name in ("a", "b", "c"):  # the loops retried every 0.2 s; the log says it seldom
        logged = network[name].stderr()
        failing = [line for line in logged.splitlines() if "failed; retrying" in line]
        assert 1 <= len(failing) <= 3 * (1 + int(AWAY // REPEAT_SECONDS)), failing
        assert "reading the log from Redis works again" in logged
