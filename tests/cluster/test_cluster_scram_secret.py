"""SCRAM answers a name without an account with a made-up salt derived from a secret, so
that a prober cannot tell it from a real account's (server/auth/server_secret.py). The
salt must not change when the whole network is restarted (how its settings change,
docs/cluster.md) while a real account's salt stays: comparing the two across a restart
would tell which names have accounts. The network is this test's alone."""

from __future__ import annotations

import base64

from tests.cluster.support import Network
from tests.realserver import Wire

NODES = ("a",)


def _salt_for(port: int, wires: list[Wire], name: str) -> str:
    wire = Wire(port)
    wires.append(wire)
    wire.write("CAP LS 302", "NICK prober", "USER prober 0 * :p", "CAP REQ :sasl")
    wire.until(" ACK ")
    wire.write("AUTHENTICATE SCRAM-SHA-256")
    wire.until("AUTHENTICATE +")
    first = base64.b64encode(f"n,,n={name},r=proberNonce123".encode()).decode()
    wire.write(f"AUTHENTICATE {first}")
    reply = [line for line in wire.until("AUTHENTICATE ") if line.startswith("AUTHENTICATE ")]
    server_first = base64.b64decode(reply[-1].split()[1]).decode()
    fields = dict(part.split("=", 1) for part in server_first.split(","))
    return fields["s"]


def test_a_name_without_an_account_keeps_its_scram_salt_across_a_network_restart(
    network: Network, wires: list[Wire]
) -> None:
    before = _salt_for(network["a"].port, wires, "nosuchaccount")
    assert _salt_for(network["a"].port, wires, "nosuchaccount") == before
    network.restart("a")  # the only node: the network is founded anew from PostgreSQL
    assert "founded the network" in network["a"].stderr()
    assert _salt_for(network["a"].port, wires, "nosuchaccount") == before
