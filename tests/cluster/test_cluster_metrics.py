"""``/metrics`` on a network: each node reports its own sockets (``chatroom_node_*``) and
the network's totals (``chatroom_users``: every node applies every entry)."""

from __future__ import annotations

import urllib.request
from functools import partial

from tests.cluster.support import Network, eventually, guest
from tests.realserver import Wire

NODES = ("a", "b")


def _metric(network: Network, node: str, name: str) -> float:
    process = network[node].process
    url = f"{process.web_scheme}://127.0.0.1:{process.web_port}/metrics"
    with urllib.request.urlopen(url, timeout=10) as answer:
        text = answer.read().decode()
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError(f"{name} not in /metrics of node {node}")


def test_each_node_reports_its_own_sockets_and_the_network_s_totals(
    network: Network, wires: list[Wire]
) -> None:
    guest(network["a"].port, wires, "metric1")
    guest(network["a"].port, wires, "metric2")
    guest(network["b"].port, wires, "metric3")
    assert _metric(network, "a", "chatroom_node_connections") == 2
    assert _metric(network, "b", "chatroom_node_connections") == 1
    for node in NODES:
        eventually(
            partial(_counts, network, node, "chatroom_users", 3),
            f"node {node} counts the network's 3 users",
        )
    eventually(
        lambda: sum(_metric(network, n, "chatroom_node_lease") for n in NODES) == 1,
        "exactly one node holds the lease",
    )


def _counts(network: Network, node: str, name: str, value: float) -> bool:
    return _metric(network, node, name) == value
