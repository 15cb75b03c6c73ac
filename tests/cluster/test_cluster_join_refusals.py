"""A node that cannot be part of the network says why in one line and stops, and the
network does not list it: another secret (it could not read the log, and the network
would refuse what it writes), or other server settings (it would decide differently)."""

from __future__ import annotations

from pathlib import Path

from tests.cluster.support import Network
from tests.serve_process import ServeProcess

NODES = ("a",)


def _refused(network: Network, where: Path, env: dict[str, str], *args: str) -> str:
    stranger = ServeProcess(
        where,
        env={**network.env, **env},
        args=("--store", network.store_url, "--cluster", network.redis_url, "--node", "x", *args),
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
    assert set(network.listed_nodes()) == {"a"}


def test_a_node_with_other_server_settings_is_refused_naming_them(
    network: Network, tmp_path: Path
) -> None:
    said = _refused(network, tmp_path, {}, "--server-name", "elsewhere.example")
    assert "settings differ from the network's in server_name" in said, said
    assert set(network.listed_nodes()) == {"a"}
