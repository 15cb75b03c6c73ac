"""SILENCE, KNOCK and the anti-guest modes probed as a pest would, on a real server with
the shipped defaults over raw sockets (docs/security.md, "Attacks tried")."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.realserver import ServerThread, Wire, guest_wire, make_config


@pytest.fixture
def port(tmp_path: Path) -> Iterator[int]:
    server = ServerThread(make_config(tmp_path)).start()
    yield server.port
    server.stop()


def settle(wire: Wire, tag: str) -> list[str]:
    """What arrived for ``wire`` up to the answer of a PING sent now."""
    wire.write(f"PING :{tag}")
    return wire.until(f"PONG chatroom.local {tag}")


def test_a_silenced_pest_cannot_reach_the_operator_through_knock(
    port: int, wires: list[Wire]
) -> None:
    alice = guest_wire(port, wires, "alice")
    alice.write("JOIN #quiet", "MODE #quiet +i", "JOIN #other", "MODE #other +i")
    alice.write("SILENCE +*!*pest@*")
    settle(alice, "ready")
    pest = guest_wire(port, wires, "pest")
    pest.write("KNOCK #quiet :you will read this anyway")
    assert any(" 711 pest #quiet " in line for line in settle(pest, "knocked"))
    assert not any(" 710 " in line for line in settle(alice, "after"))
    # Anyone else's knock still reaches her (another room: one knock per room at a time).
    other = guest_wire(port, wires, "visitor")
    other.write("KNOCK #other :hello")
    settle(other, "knocked")
    assert any(" 710 alice #other visitor!" in line for line in settle(alice, "later"))
