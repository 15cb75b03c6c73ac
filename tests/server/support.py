"""Small helpers shared by the core tests: reading replies and filling a room."""

from __future__ import annotations

from chatroom.irc.message import Message
from chatroom.server.harness import Harness, SimClient


def codes(msgs: list[Message]) -> list[str]:
    """The commands (numerics) of the replies, in order."""
    return [m.command for m in msgs]


def first(msgs: list[Message], command: str) -> Message:
    return next(m for m in msgs if m.command == command)


def one(msgs: list[Message], command: str) -> Message:
    """The single reply with ``command``; fails with the whole reply list otherwise."""
    found = [m for m in msgs if m.command == command]
    assert len(found) == 1, codes(msgs)
    return found[0]


def room(h: Harness, *nicks: str, chan: str = "#room") -> list[SimClient]:
    """Clients that all joined ``chan``; the first one created it and holds ops."""
    clients = [h.connect(nick) for nick in nicks]
    join_all(clients, chan)
    return clients


def join_all(clients: list[SimClient], chan: str) -> None:
    """Existing clients join ``chan``, in order; what the joins sent them is discarded."""
    for client in clients:
        client.send(f"JOIN {chan}")
    for client in clients:
        client.take()
