"""Shutting the server down: everyone is told why, nobody is told that the others quit."""

from __future__ import annotations

from chatroom.server.harness import Harness
from tests.server.support import codes, room


def test_shutdown_tells_each_client_why_and_sends_no_quit_of_the_others() -> None:
    """Every connection goes at once: a QUIT per room-mate before the ERROR would fill
    each room with "left (Server shutting down)" lines (what the web client showed)."""
    h = Harness()
    clients = room(h, "alice", "bob", "carol")
    h.world.close_all("Server shutting down")
    h.pump()
    for client in clients:
        msgs = client.take()
        assert codes(msgs) == ["ERROR"], (client.nick, codes(msgs))
        assert msgs[0].params[0].endswith("(Server shutting down)")
        assert client.closed_reason == "Server shutting down"
    assert not h.world.sessions


def test_shutdown_leaves_a_permanent_room_in_place() -> None:
    h = Harness()
    room(h, "alice", "bob", chan="#lobby")
    h.world.close_all("Server shutting down")
    h.pump()
    assert h.world.rooms.find("#lobby") is not None
