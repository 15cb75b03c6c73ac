"""``/metrics`` on a network: each node reports its own sockets (``chatroom_node_*``) and
the network's totals (``chatroom_users``: every node applies every entry)."""

from __future__ import annotations

import urllib.request
from functools import partial

from tests.cluster.support import Network, barrier, eventually, guest, heard, join, metric
from tests.realserver import Wire

NODES = ("a", "b")
DELIVERED = "chatroom_messages_delivered_total"


_metric = metric  # the same helper, shared with the cut-off test


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
    assert [_metric(network, n, "chatroom_node_link_lost") for n in NODES] == [0, 0]


def _counts(network: Network, node: str, name: str, value: float) -> bool:
    return _metric(network, node, name) == value


def test_deliveries_are_counted_by_the_node_that_writes_them(
    network: Network, wires: list[Wire]
) -> None:
    """Each node writes only its own members' sockets, so its delivery counter is its
    own share; the network's deliveries are the sum over the nodes (docs/cluster.md)."""
    talker = guest(network["b"].port, wires, "dtalker")
    hearers = [guest(network["a"].port, wires, nick) for nick in ("dhear1", "dhear2")]
    for wire in (talker, *hearers):
        join(wire, "#deliver")
    heard(talker, "dhear2", " JOIN #deliver")
    before = {node: _metric(network, node, DELIVERED) for node in NODES}
    talker.write("PRIVMSG #deliver :counted where it is written")
    for wire in hearers:
        heard(wire, "dtalker", "counted where it is written")
    barrier(talker)  # node b has applied the message too
    after = {node: _metric(network, node, DELIVERED) for node in NODES}
    assert after["a"] - before["a"] == 2
    assert after["b"] - before["b"] == 0


def test_each_node_s_metrics_name_the_node_that_answered(network: Network) -> None:
    """The workers of ``--workers`` share one web port and the kernel picks which one
    answers a scrape: without its name in the answer, one worker's counters could not be
    told from another's (they seem to jump back and forth)."""
    for node in NODES:
        process = network[node].process
        url = f"{process.web_scheme}://127.0.0.1:{process.web_port}/metrics"
        with urllib.request.urlopen(url, timeout=10) as answer:
            text = answer.read().decode()
        info = [line for line in text.splitlines() if line.startswith("chatroom_node_info{")]
        assert len(info) == 1, text
        assert f'node="{node}"' in info[0], info
        assert f'incarnation="{node}~' in info[0], info
        assert info[0].endswith(" 1.0"), info
