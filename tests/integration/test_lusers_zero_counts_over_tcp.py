"""LUSERS against a real server: modern.ircdocs.horse gives RPL_LUSEROP (252),
RPL_LUSERUNKNOWN (253) and RPL_LUSERCHANNELS (254) a *positive* integer (251 and 255 a
non-negative one), and RFC 2812 sends them "only if a non-zero count is found": with
nothing to count they are left out; 251 and 255, which MUST be sent, always are."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from tests.integration.moderation_support import PASSWORD, config_with_accounts
from tests.realserver import ServerThread, Wire, guest_wire


def _numerics(wire: Wire) -> dict[str, str]:
    """Each LUSERS numeric the server sent, with its count (the second parameter)."""
    wire.write("LUSERS", "PING done")
    got = {}
    for line in wire.until("PONG"):
        parts = line.split(" ")
        if len(parts) > 3 and parts[1] in ("251", "252", "253", "254", "255", "265", "266"):
            got[parts[1]] = parts[3]
    return got


def test_lusers_leaves_out_operators_unknown_connections_and_rooms_when_there_are_none(
    tmp_path: Path, wires: list[Wire]
) -> None:
    config = config_with_accounts(tmp_path)
    no_lobby = replace(config, core=replace(config.core, permanent_channels=()))
    server = ServerThread(no_lobby).start()
    try:
        alice = guest_wire(server.port, wires, "alice")
        assert set(_numerics(alice)) == {"251", "255", "265", "266"}
        half = Wire(server.port)  # connected, not registered: an unknown connection
        wires.append(half)
        half.write("NICK half", "PING x")
        half.until("PONG")
        alice.write("JOIN #garden", f"OPER admin {PASSWORD}")
        alice.until(" 381 ")
        counts = _numerics(alice)
        assert (counts["252"], counts["253"], counts["254"]) == ("1", "1", "1")
    finally:
        server.stop()
