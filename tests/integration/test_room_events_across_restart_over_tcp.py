"""A room's stored events across a restart, against a real server: a reader of the room's
history (CHATHISTORY with draft/event-playback) never sees a member join twice in a row."""

from __future__ import annotations

from pathlib import Path

from tests.integration.moderation_support import PASSWORD, config_with_accounts
from tests.realserver import Client, ServerThread, Wire, guest_wire
from tests.serve_process import ServeProcess, store_args

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
    first = ServerThread(config).start()
    try:
        alice = Client(first.port, "alice", PASSWORD, sasl_login="alice")
        clients.append(alice)
        alice.wait_type("welcome")
        alice.conn.join("#garden")
        alice.wait_for(lambda e: e.type == "join" and e.target == "#garden")
        alice.conn.privmsg("NickServ", "SET ALWAYS-ON ON")
        alice.wait_for(lambda e: e.type == "privnotice" and "ALWAYS-ON is now ON" in str(e))
    finally:
        first.stop()
    second = ServerThread(config).start()
    try:
        back = Client(second.port, "alice", PASSWORD, sasl_login="alice")
        clients.append(back)
        back.wait_type("welcome")
        events = _events(second.port, wires)
        assert [e for e in events if e.endswith(" alice")] == ["JOIN alice"], events
    finally:
        second.stop()


def test_a_user_in_a_room_at_an_orderly_shutdown_is_recorded_leaving(
    tmp_path: Path, clients: list[Client], wires: list[Wire]
) -> None:
    config = config_with_accounts(tmp_path, "alice")
    first = ServerThread(config).start()
    try:
        alice = Client(first.port, "alice", PASSWORD, sasl_login="alice")
        clients.append(alice)
        alice.wait_type("welcome")
        alice.conn.join("#garden")
        alice.wait_for(lambda e: e.type == "join" and e.target == "#garden")
        guest_wire(first.port, wires, "bob").write("JOIN #garden")  # keeps the room alive
    finally:
        first.stop()
    second = ServerThread(config).start()
    try:
        back = Client(second.port, "alice", PASSWORD, sasl_login="alice")
        clients.append(back)
        back.wait_type("welcome")
        back.conn.join("#garden")
        back.wait_for(lambda e: e.type == "join" and e.target == "#garden")
        events = _events(second.port, wires)
        assert [e for e in events if e.endswith(" alice")] == [
            "JOIN alice",
            "QUIT alice",
            "JOIN alice",
        ], events
    finally:
        second.stop()


def test_chatroom_serve_stopped_with_sigterm_records_its_users_leaving(
    tmp_path: Path, clients: list[Client], wires: list[Wire]
) -> None:
    config = config_with_accounts(tmp_path, "alice")  # the store serve runs on
    first = ServeProcess(tmp_path, args=store_args(config))
    try:
        alice = Client(first.irc_port, "alice", PASSWORD, sasl_login="alice")
        clients.append(alice)
        alice.wait_type("welcome")
        alice.conn.join("#garden")
        alice.wait_for(lambda e: e.type == "join" and e.target == "#garden")
    finally:
        first.stop()  # SIGTERM: an orderly shutdown
    second = ServeProcess(tmp_path, args=store_args(config))
    try:
        back = Client(second.irc_port, "alice", PASSWORD, sasl_login="alice")
        clients.append(back)
        back.wait_for(lambda e: e.type == "join" and e.target == "#garden")  # kept rooms
        events = _events(second.irc_port, wires)
        assert events[:3] == ["JOIN alice", "QUIT alice", "JOIN alice"], events
    finally:
        second.stop()
