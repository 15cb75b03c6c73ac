"""A node that dies without a word (SIGKILL) is noticed by the others: within the
heartbeat's 10 s its users QUIT with "node lost" for everyone else, the others keep
chatting, it leaves ``chatroom admin nodes``, and its users can come back on another
node with their nicks. The network is this test's alone."""

from __future__ import annotations

from tests.cluster.support import Network, eventually, guest, heard, join, names
from tests.realserver import Wire

NOTICED = 20.0  # seconds; the contract is 10, the rest is margin for a shared machine


def test_a_node_killed_with_sigkill_quits_its_users_for_everyone_with_node_lost(
    network: Network, wires: list[Wire]
) -> None:
    uma = guest(network["a"].port, wires, "uma")
    vic = guest(network["b"].port, wires, "vic")
    wes = guest(network["c"].port, wires, "wes")
    for wire in (uma, vic, wes):
        join(wire, "#lost")
    heard(uma, "wes", " JOIN #lost")
    heard(vic, "wes", " JOIN #lost")

    network["c"].kill()
    for wire in (uma, vic):
        assert "node lost" in heard(wire, "wes", " QUIT ", limit=NOTICED)
    uma.write("PRIVMSG #lost :still chatting")
    heard(vic, "uma", " PRIVMSG #lost :still chatting")
    for wire in (uma, vic):
        assert {"uma", "vic"} <= {name.lstrip("@+") for name in names(wire, "#lost")}
        assert "wes" not in {name.lstrip("@+") for name in names(wire, "#lost")}
    eventually(lambda: set(network.listed_nodes()) == {"a", "b"}, "c left the node list")
    # The lease holder tells the operator, in one line, whom and what it cost and what to do.
    said = [
        line
        for node in ("a", "b")
        for line in network[node].stderr().splitlines()
        if "node lost" in line
    ]
    assert len(said) == 1, said
    for words in ("no heartbeat", "users=1", "start it again"):
        assert words in said[0], said
    assert "incarnation=c~" in said[0], said

    back = guest(network["a"].port, wires, "wes")  # reconnected elsewhere, same nick
    join(back, "#lost")
    heard(vic, "wes", " JOIN #lost")
