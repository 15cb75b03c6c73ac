"""A node that cannot be part of the network says why in one line and stops, and the
network does not list it: another secret (it could not read the log, and the network
would refuse what it writes), or other server settings (it would decide differently).
A node given the name of a live node is warned."""

from __future__ import annotations

from pathlib import Path

from tests.cluster.support import Network
from tests.serve_process import ServeProcess

NODES = ("a",)


def _refused(
    network: Network, where: Path, env: dict[str, str], *args: str, node: str = "x"
) -> str:
    stranger = ServeProcess(
        where,
        env={**network.env, **env},
        args=("--store", network.store_url, "--cluster", network.redis_url, "--node", node, *args),
        wait=False,
    )
    try:
        assert stranger.proc.wait(timeout=60) == 1
        return stranger.stderr()
    finally:
        stranger.stop()


def test_a_node_with_another_secret_is_refused_and_says_so(
    network: Network, tmp_path: Path
) -> None:
    said = _refused(network, tmp_path, {"CHATROOM_CLUSTER_SECRET": "another" * 8})
    assert "not signed with this node's cluster.secret" in said, said
    assert "Traceback" not in said
    assert "joined the network" not in said, said  # it did not: no line may say so
    assert set(network.listed_nodes()) == {"a"}


def test_a_node_with_other_server_settings_is_refused_naming_them(
    network: Network, tmp_path: Path
) -> None:
    said = _refused(network, tmp_path, {}, "--server-name", "elsewhere.example")
    assert "settings differ from the network's in server_name" in said, said
    # What to do: restarting the nodes one at a time cannot change them (each is refused).
    assert "send REHASH as an operator on a running node" in said, said
    assert "joined the network" not in said, said
    assert set(network.listed_nodes()) == {"a"}


def test_a_node_given_a_live_node_s_name_warns_of_it(network: Network, tmp_path: Path) -> None:
    """Refused here for its settings (so it stops by itself), after the warning: the same
    warning comes when it joins, which a node restarted after a crash does too."""
    said = _refused(network, tmp_path, {}, "--server-name", "elsewhere.example", node="a")
    assert "another live node has this node's name" in said, said
