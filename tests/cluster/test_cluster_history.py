"""History is the network's: what members said on two nodes is served by CHATHISTORY on
every node, in order, with the msgids the members saw live (unique across nodes)."""

from __future__ import annotations

import time

from tests.cluster.support import Network, barrier, guest, heard, join, tags, trailing
from tests.realserver import Wire

CAPS = ("batch", "server-time", "message-tags", "draft/chathistory")


def test_chathistory_from_any_node_returns_what_was_said_on_every_node(
    network: Network, wires: list[Wire]
) -> None:
    quinn = guest(network["a"].port, wires, "quinn", *CAPS)
    rosa = guest(network["b"].port, wires, "rosa", *CAPS)
    join(quinn, "#hist")
    join(rosa, "#hist")
    heard(quinn, "rosa", " JOIN #hist")
    quinn.write("PRIVMSG #hist :first, said on a")
    live = [heard(rosa, "quinn", " PRIVMSG #hist :first, said on a")]
    rosa.write("PRIVMSG #hist :second, said on b")
    live.append(heard(quinn, "rosa", " PRIVMSG #hist :second, said on b"))
    msgids = [tags(line).get("msgid") for line in live]
    assert all(msgids), live
    assert msgids[0] != msgids[1]

    cleo = guest(network["c"].port, wires, "cleo", *CAPS)
    join(cleo, "#hist")
    barrier(cleo)  # past any replay on join
    for asker in (quinn, rosa, cleo):
        assert _latest(asker, "#hist", 2) == [
            (msgids[0], "first, said on a"),
            (msgids[1], "second, said on b"),
        ]


def _latest(wire: Wire, room: str, count: int) -> list[tuple[str, str]]:
    """``CHATHISTORY LATEST``'s messages as (msgid, text), asked again for a few seconds
    until ``count`` are there (a node may write its lines a moment after relaying them)."""
    deadline = time.monotonic() + 10
    while True:
        wire.write(f"CHATHISTORY LATEST {room} * 50", "PING history")
        lines = wire.until(" PONG ")
        said = [
            (tags(line).get("msgid", ""), trailing(line))
            for line in lines
            if " PRIVMSG " in line and "batch" in tags(line)
        ]
        if len(said) >= count or time.monotonic() > deadline:
            return said
        time.sleep(0.2)
