"""Churn over real sockets: many connections that register, join, talk, part and quit
leave the running server's tables as big as they were (docs/security.md, "Abuse limits").

Counts of cycles and ``len`` of tables only; waiting for the server to finish closing is
bounded by a generous deadline and never asserted on.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from chatroom.server.core.settings import Limits
from tests.realserver import ServerThread, Wire, guest_wire, make_config

CYCLES = 60


@pytest.fixture
def churn_server(tmp_path: Path) -> Iterator[ServerThread]:
    limits = Limits(connections_per_address=1000, connects_per_address_per_minute=100_000)
    server = ServerThread(make_config(tmp_path, limits=limits)).start()
    yield server
    server.stop()


def _sizes(server: ServerThread) -> dict[str, int]:
    shell = server.shell
    assert shell is not None
    world = shell.world
    gate = shell.history_backpressure
    assert gate is not None
    return {
        "connections": len(shell.connections),
        "sessions": len(world.sessions),
        "nicks": len(world.nicks),
        "rooms": len(world.rooms),
        "per_address": sum(world.per_address.values()),
        "monitor": len(world.monitor.lists) + len(world.monitor.watchers),
        "invitees": len(world.rooms.invitees),
        "invitations_of_stays": len(getattr(world.nicks.find("stays"), "invited", ())),
        "answers": len(world.answers),
        "held_for_history": len(gate.held),
    }


def _settled(server: ServerThread, expected: dict[str, int]) -> dict[str, int]:
    """The sizes once the server has handled the last QUITs (or after the deadline)."""
    deadline = time.monotonic() + 10.0
    sizes = _sizes(server)
    while sizes != expected and time.monotonic() < deadline:
        time.sleep(0.05)
        sizes = _sizes(server)
    return sizes


def _once_only_stays_is_connected(server: ServerThread) -> dict[str, int]:
    """The sizes after the first cycle's connection is gone: the baseline to compare with.

    The server may still be closing that connection when its ERROR arrives, so the
    baseline waits for one connection (``stays``) rather than taking whatever it sees.
    """
    deadline = time.monotonic() + 10.0
    sizes = _sizes(server)
    while sizes["connections"] != 1 and time.monotonic() < deadline:
        time.sleep(0.05)
        sizes = _sizes(server)
    assert sizes["connections"] == 1, sizes
    return sizes


def _cycle(port: int, index: int, wires: list[Wire]) -> None:
    wire = guest_wire(port, wires, f"churn{index}", "batch", "server-time")
    wire.write(
        "MONITOR + stays,nobody",
        "JOIN #room",
        "PRIVMSG #room :hello",
        f"JOIN #tmp{index}",
        f"PRIVMSG #tmp{index} :x",
        f"INVITE stays #tmp{index}",
        f"PART #tmp{index}",
        f"PRIVMSG churn{index + 1000} :anyone?",
        "QUIT :bye",
    )
    wire.until("ERROR")
    wire.close()


def test_sixty_socket_connections_that_come_and_go_leave_the_servers_tables_as_they_were(
    churn_server: ServerThread, wires: list[Wire]
) -> None:
    stays = guest_wire(churn_server.port, wires, "stays")
    stays.write("JOIN #room")
    stays.until(" 366 ")
    _cycle(churn_server.port, 0, wires)
    before = _once_only_stays_is_connected(churn_server)
    for index in range(1, CYCLES + 1):
        _cycle(churn_server.port, index, wires)
    assert _settled(churn_server, before) == before
    stays.write("PING :alive")
    stays.until("alive")
