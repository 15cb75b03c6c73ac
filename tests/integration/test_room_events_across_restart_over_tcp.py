"""A room's stored events across a restart, against a real server: a reader of the room's
history (CHATHISTORY with draft/event-playback) never sees a member join twice in a row."""

from __future__ import annotations

from pathlib import Path

from tests.integration.devices_support import serving
from tests.integration.moderation_support import config_with_accounts
from tests.integration.restart_support import (
    join_garden,
    running,
    signed_in,
    turn_always_on,
    welcomed,
)
from tests.realserver import Client, Wire, guest_wire

PLAYBACK = ("batch", "server-time", "message-tags", "draft/chathistory", "draft/event-playback")


def _events(port: int, wires: list[Wire]) -> list[str]:
    """(command, nick) of each line in #garden's history, as a playback client reads it."""
    reader = guest_wire(port, wires, "reader", *PLAYBACK)
    reader.write("JOIN #garden", "CHATHISTORY LATEST #garden * 50")
    reader.until(" 366 ")
    lines = [line for line in reader.until("BATCH -") if ";batch=" in line or "@batch=" in line]
    out = []
    for line in lines:
        source, command = line.split(" ")[1:3]
        out.append(f"{command} {source[1:].split('!')[0]}")
    return out


def test_an_always_on_user_restored_by_a_restart_is_not_recorded_joining_again(
    tmp_path: Path, clients: list[Client], wires: list[Wire]
) -> None:
    config = config_with_accounts(tmp_path, "alice")
    with running(config) as first:
        alice = welcomed(first.port, clients)
        join_garden(alice)
        turn_always_on(alice)
    with running(config) as second:
        welcomed(second.port, clients)  # alice comes back
        events = _events(second.port, wires)
        assert [e for e in events if e.endswith(" alice")] == ["JOIN alice"], events


def test_a_user_in_a_room_at_an_orderly_shutdown_is_recorded_leaving(
    tmp_path: Path, clients: list[Client], wires: list[Wire]
) -> None:
    config = config_with_accounts(tmp_path, "alice")
    with running(config) as first:
        alice = welcomed(first.port, clients)
        join_garden(alice)
        guest_wire(first.port, wires, "bob").write("JOIN #garden")  # keeps the room alive
    with running(config) as second:
        back = welcomed(second.port, clients)
        join_garden(back)
        events = _events(second.port, wires)
        assert [e for e in events if e.endswith(" alice")] == [
            "JOIN alice",
            "QUIT alice",
            "JOIN alice",
        ], events


def test_chatroom_serve_stopped_with_sigterm_records_its_users_leaving(
    tmp_path: Path, clients: list[Client], wires: list[Wire]
) -> None:
    config = config_with_accounts(tmp_path, "alice")  # the store serve runs on
    with serving(tmp_path, config) as first:  # stopped by SIGTERM: an orderly shutdown
        alice = welcomed(first.irc_port, clients)
        join_garden(alice)
    with serving(tmp_path, config) as second:
        back = signed_in(second.irc_port, clients)
        back.wait_for(lambda e: e.type == "join" and e.target == "#garden")  # kept rooms
        events = _events(second.irc_port, wires)
        assert events[:3] == ["JOIN alice", "QUIT alice", "JOIN alice"], events
