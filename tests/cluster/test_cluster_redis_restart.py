"""Redis restarts (same port, its append-only data kept) under a running network: every
client stays connected, and afterwards the network works as before: a message sent after
the restart reaches members on the other nodes, NAMES agree again, a held nick is still
held. The network is this test's alone."""

from __future__ import annotations

from collections.abc import Callable

from tests.cluster.support import Network, barrier, eventually, guest, heard, join, names
from tests.realserver import Wire

RECOVERED = 15.0  # seconds for a node to reconnect to Redis and catch up


def test_clients_stay_connected_over_a_redis_restart_and_messages_flow_afterwards(
    network: Network, wires: list[Wire]
) -> None:
    xan = guest(network["a"].port, wires, "xan")
    yul = guest(network["b"].port, wires, "yul")
    zed = guest(network["c"].port, wires, "zed")
    for wire in (xan, yul, zed):
        join(wire, "#redis")
    heard(xan, "zed", " JOIN #redis")
    heard(yul, "zed", " JOIN #redis")
    xan.write("PRIVMSG #redis :before the restart")
    heard(yul, "xan", " PRIVMSG #redis :before the restart")
    heard(zed, "xan", " PRIVMSG #redis :before the restart")

    network.redis.restart()
    for wire in (xan, yul, zed):
        barrier(wire)  # still connected: the node answers
    xan.write("PRIVMSG #redis :after the restart")
    heard(yul, "xan", " PRIVMSG #redis :after the restart", limit=RECOVERED)
    heard(zed, "xan", " PRIVMSG #redis :after the restart", limit=RECOVERED)
    zed.write("PRIVMSG yul :privately, after the restart")
    heard(yul, "zed", " PRIVMSG yul :privately, after the restart", limit=RECOVERED)

    for wire in (xan, yul, zed):
        eventually(_lists(wire, {"xan", "yul", "zed"}), "NAMES agree again", RECOVERED)
    taker = Wire(network["c"].port)
    wires.append(taker)
    taker.write("NICK xan", "USER x 0 * :x")
    taker.until(" 433 ")
    late = guest(network["b"].port, wires, "late")
    join(late, "#redis")
    heard(xan, "late", " JOIN #redis")


def _lists(wire: Wire, everyone: set[str]) -> Callable[[], bool]:
    return lambda: {name.lstrip("@+") for name in names(wire, "#redis")} == everyone
