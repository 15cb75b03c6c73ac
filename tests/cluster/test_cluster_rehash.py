"""Changing a network's settings without stopping it: the operator edits the config file
on every node, then sends REHASH once, on any node. The node that is asked reads its
file; its new settings go through the log, so every node adopts them at the same entry
(they must decide alike), and the network remembers them, so a node restarted later with
the edited file joins. Before, REHASH was refused and a node restarted with the edited
file was refused too: the only way was to stop every node. The network is this test's."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cluster.support import Network, eventually, guest, login
from tests.postgres_server import TempPostgres
from tests.realserver import Wire
from tests.redis_server import TempRedis


def _motd(text: str) -> str:
    return f'[server]\nmotd = ["{text}"]\n'


@pytest.fixture(scope="module")
def config_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("etc") / "chatroom.toml"  # "the same file on every node"
    path.write_text(_motd("before the change"))
    return path


@pytest.fixture(scope="module")
def network(
    tmp_path_factory: pytest.TempPathFactory,
    redis_server: TempRedis,
    postgres: TempPostgres,
    config_file: Path,
) -> Iterator[Network]:
    running = Network(
        tmp_path_factory.mktemp("network"),
        redis_server,
        postgres.new_database(),
        env={"CHATROOM_CONFIG": str(config_file)},
    )
    try:
        running.create_account("admin", oper=True)
        running.start("a", "b")
        yield running
    finally:
        running.stop()


def _motd_seen(wire: Wire) -> str:
    wire.write("MOTD")
    return "\n".join(line for line in wire.until(" 376 ") if " 372 " in line)


def test_rehash_on_one_node_changes_the_settings_of_every_node_and_restarts_keep_them(
    network: Network, config_file: Path, wires: list[Wire]
) -> None:
    on_b = guest(network["b"].port, wires, "motdreader")
    assert "before the change" in _motd_seen(on_b)
    config_file.write_text(_motd("after the change"))
    boss = login(network["a"].port, wires, "admin")
    boss.write("REHASH")
    answer = boss.until((" 382 ", "FAIL REHASH"))
    assert " 382 " in answer[-1], answer
    eventually(lambda: "after the change" in _motd_seen(on_b), "node b adopted the new MOTD")
    network.restart("b")  # with the edited file: the network's settings now
    on_b = guest(network["b"].port, wires, "motdreader2")
    assert "after the change" in _motd_seen(on_b)
    assert "after the change" in _motd_seen(boss)
