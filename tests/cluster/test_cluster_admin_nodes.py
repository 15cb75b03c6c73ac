"""``chatroom admin nodes --cluster URL`` lists the live nodes, one line each starting
with the node's name, with how many users each holds; a node that stops leaves it."""

from __future__ import annotations

import re
import time

from tests.cluster.support import Network, guest
from tests.realserver import Wire


def test_admin_nodes_lists_every_live_node_with_how_many_users_it_holds(
    network: Network, wires: list[Wire]
) -> None:
    guest(network["a"].port, wires, "one")
    guest(network["a"].port, wires, "two")
    guest(network["b"].port, wires, "three")
    _listed_soon(network, {"a": 2, "b": 1, "c": 0})
    network["c"].process.stop()
    _listed_soon(network, {"a": 2, "b": 1})


def _listed_soon(network: Network, expected: dict[str, int]) -> None:
    """The listing shows ``expected`` (node: users) within a few heartbeats."""
    deadline = time.monotonic() + 15
    while True:
        listed = network.listed_nodes()
        counts = {name: _counts(line) for name, line in listed.items()}
        if set(listed) == set(expected) and all(
            expected[name] in counts[name] for name in expected
        ):
            return
        assert time.monotonic() < deadline, f"expected {expected}, listed {listed}"
        time.sleep(0.2)


def _counts(line: str) -> set[int]:
    """The numbers on a node's line after its name (one of them is its user count)."""
    rest = line.split(None, 1)[1] if len(line.split(None, 1)) > 1 else ""
    return {int(word) for word in re.findall(r"\b\d+\b", rest)}
