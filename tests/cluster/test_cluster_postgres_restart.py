"""PostgreSQL restarts under a running network: clients on every node stay connected and
keep talking (the relay is Redis's), and once PostgreSQL is back, what is acknowledged is
saved again: a new account, and the room's history on every node."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial

import pytest

from tests.cluster.support import Network, barrier, eventually, guest, heard, join, names
from tests.postgres_server import TempPostgres
from tests.realserver import Wire
from tests.redis_server import TempRedis

HISTORY_CAPS = ("draft/chathistory", "batch", "server-time", "message-tags")


@pytest.fixture(scope="module")
def own_postgres() -> Iterator[TempPostgres]:
    """A PostgreSQL of this module's own: restarting it disturbs no other test."""
    server = TempPostgres()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def network(
    tmp_path_factory: pytest.TempPathFactory, redis_server: TempRedis, own_postgres: TempPostgres
) -> Iterator[Network]:
    running = Network(tmp_path_factory.mktemp("network"), redis_server, own_postgres.new_database())
    try:
        running.start("a", "b")
        yield running
    finally:
        running.stop()


def _in_history(wire: Wire, room: str, text: str) -> bool:
    wire.write(f"CHATHISTORY LATEST {room} * 50")
    return any(text in line for line in wire.until(("BATCH -", "FAIL")))


def test_a_postgresql_restart_loses_no_client_and_saving_resumes(
    network: Network, own_postgres: TempPostgres, wires: list[Wire]
) -> None:
    talker = guest(network["a"].port, wires, "pgtalker", *HISTORY_CAPS)
    listener = guest(network["b"].port, wires, "pglistener", *HISTORY_CAPS)
    join(talker, "#pgr")
    join(listener, "#pgr")
    talker.write("PRIVMSG #pgr :before the restart")
    heard(listener, "pgtalker", "before the restart")
    own_postgres.restart()
    talker.write("PRIVMSG #pgr :after the restart")
    heard(listener, "pgtalker", "after the restart")  # nobody was disconnected
    newcomer = guest(network["b"].port, wires, "pgnew", "draft/account-registration")
    reply = ""
    for _ in range(20):  # until the store answers again (its pool reconnects)
        newcomer.write("REGISTER * * :a-long-enough-password")
        reply = newcomer.until(("REGISTER SUCCESS", "FAIL REGISTER"))[-1]
        if "SUCCESS" in reply:
            break
        barrier(newcomer)
    assert "REGISTER SUCCESS" in reply, reply
    assert "pgnew" in network._cli("admin", "list", "--store", network.store_url)
    for reader in (talker, listener):
        eventually(
            partial(_in_history, reader, "#pgr", "after the restart"),
            "the line said after the restart is in the history on every node",
            limit=20,
        )
    assert names(talker, "#pgr") == names(listener, "#pgr")


def test_what_is_said_while_postgresql_is_down_is_in_the_history_once_it_is_back(
    network: Network, own_postgres: TempPostgres, wires: list[Wire]
) -> None:
    """Nothing acknowledged is lost: lines delivered while PostgreSQL is away are saved
    once it returns and every node's CHATHISTORY has them; an account asked for meanwhile
    is refused (not promised), and it does not appear later."""
    talker = guest(network["a"].port, wires, "downtalker", *HISTORY_CAPS)
    listener = guest(network["b"].port, wires, "downlistener", *HISTORY_CAPS)
    joiner = guest(network["b"].port, wires, "downjoiner", "draft/account-registration")
    join(talker, "#pgdown")
    join(listener, "#pgdown")
    own_postgres.take_down()
    try:
        for i in range(5):
            talker.write(f"PRIVMSG #pgdown :said while down {i}")
        heard(listener, "downtalker", "said while down 4")  # delivered live meanwhile
        joiner.write("REGISTER * * :a-long-enough-password")
        assert "FAIL REGISTER" in joiner.until(("REGISTER SUCCESS", "FAIL REGISTER"), 30)[-1]
    finally:
        own_postgres.start()
    for reader in (talker, listener):
        for i in range(5):
            eventually(
                partial(_in_history, reader, "#pgdown", f"said while down {i}"),
                f"line {i} said while PostgreSQL was down is in the history",
                limit=40,
            )
    assert "downjoiner" not in network._cli("admin", "list", "--store", network.store_url)


def test_after_a_postgresql_restart_the_first_register_succeeds_and_no_node_logs_a_traceback(
    network: Network, own_postgres: TempPostgres, wires: list[Wire]
) -> None:
    """The store's pooled connections die with the restart: the next use takes a fresh
    one instead of failing once on the dead one (a REGISTER refused though PostgreSQL is
    up again; "reading changes from the store failed" with a traceback in every node's
    log when it reloads after its listener reconnects)."""
    logged = {name: len(network[name].stderr()) for name in ("a", "b")}
    own_postgres.restart()
    newcomer = guest(network["a"].port, wires, "pgfirst", "draft/account-registration")
    newcomer.write("REGISTER * * :a-long-enough-password")
    assert "REGISTER SUCCESS" in newcomer.until(("REGISTER SUCCESS", "FAIL REGISTER"), 30)[-1]
    for name in ("a", "b"):
        eventually(
            lambda name=name: "store reloaded" in network[name].stderr()[logged[name] :],  # type: ignore[misc]
            f"node {name} reloaded the store after its listener reconnected",
            limit=20,
        )
        said = network[name].stderr()[logged[name] :]
        assert "Traceback" not in said, said
        assert "reading changes from the store failed" not in said, said
