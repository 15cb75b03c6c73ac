"""A node that stops for longer than a heartbeat lives (SIGSTOP here; a VM frozen, a swap
storm) is declared lost by the others: its users QUIT for everyone. When it runs again
its entries are void, so it must not go on as a node that accepts clients and never
serves them (or holds the lease and ticks for nobody): it closes its clients, says why,
and exits with an error, for its service manager to start it again. The network is this
test's alone."""

from __future__ import annotations

import signal
import time

from chatroom.server.cluster.liveness import NODE_TTL_MS
from tests.cluster.support import Network, closed, guest, heard, join
from tests.realserver import Wire

NOTICED = 20.0  # seconds for the others to declare it lost (the contract is 10)


def test_a_node_paused_past_its_heartbeat_is_declared_lost_and_exits_when_it_wakes(
    network: Network, wires: list[Wire]
) -> None:
    pia = guest(network["a"].port, wires, "pia")
    sam = guest(network["c"].port, wires, "sam")
    for wire in (pia, sam):
        join(wire, "#pause")
    heard(pia, "sam", " JOIN #pause")

    paused = network["c"].process.proc
    paused.send_signal(signal.SIGSTOP)
    try:
        assert "node lost" in heard(pia, "sam", " QUIT ", limit=NOTICED)
        time.sleep(NODE_TTL_MS / 1000)  # paused well past its heartbeat's life
    finally:
        paused.send_signal(signal.SIGCONT)
    said = closed(sam, NOTICED)
    assert [line for line in said if line.startswith("ERROR") and "node lost" in line], said
    assert paused.wait(timeout=NOTICED) == 1
    assert "lost touch with the network" in network["c"].stderr()
    assert guest(network["a"].port, wires, "sam")  # the nick is free for its return
