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


CAPS = ("message-tags", "batch", "draft/multiline")


def test_a_silenced_pests_every_kind_of_private_line_is_dropped_unseen(
    port: int, wires: list[Wire]
) -> None:
    alice = guest_wire(port, wires, "alice", *CAPS)
    alice.write("SILENCE +*!*pest@*")
    settle(alice, "ready")
    pest = guest_wire(port, wires, "pest", *CAPS)
    pest.write(
        "PRIVMSG alice :hi",
        "NOTICE alice :hi",
        "@+typing=active TAGMSG alice",
        "PRIVMSG alice :\x01VERSION\x01",
        "BATCH +b draft/multiline alice",
        "@batch=b PRIVMSG alice :one",
        "@batch=b PRIVMSG alice :two",
        "BATCH -b",
        "JOIN #pestroom",
        "INVITE alice #pestroom",
        "NICK renamed",  # the mask is on the user name: a new nick changes nothing
        "PRIVMSG alice :and now?",
    )
    assert any(" 341 pest alice #pestroom" in line for line in settle(pest, "sent"))
    seen = settle(alice, "after")
    assert not [line for line in seen if "pest" in line or "renamed" in line], seen


def test_an_accounts_only_room_refuses_a_guests_every_way_of_speaking(
    port: int, wires: list[Wire]
) -> None:
    alice = guest_wire(port, wires, "alice")
    alice.write("JOIN #members", "MODE #members +M")
    settle(alice, "ready")
    guest = guest_wire(port, wires, "guest", *CAPS)
    guest.write(
        "JOIN #members",
        "NOTICE #members :n",
        "@+typing=active TAGMSG #members",
        "PRIVMSG @#members :to the ops",
        "PRIVMSG +#members :to the voices",
        "BATCH +b draft/multiline #members",
        "@batch=b PRIVMSG #members :one",
        "BATCH -b",
    )
    refused = [line for line in settle(guest, "sent") if " 404 guest #members " in line]
    assert len(refused) == 4, refused  # NOTICE is never answered
    seen = settle(alice, "after")
    assert [line for line in seen if "guest!" in line] == [
        line for line in seen if " JOIN #members" in line
    ], seen


def test_knocking_on_a_secret_room_answers_as_for_no_room(port: int, wires: list[Wire]) -> None:
    alice = guest_wire(port, wires, "alice")
    alice.write("JOIN #hidden", "MODE #hidden +si")
    settle(alice, "ready")
    visitor = guest_wire(port, wires, "visitor")
    visitor.write("KNOCK #hidden", "KNOCK #nowhere")
    answers = [line.split(" ", 3)[1:] for line in settle(visitor, "k")[:-1]]
    assert answers == [
        ["403", "visitor", "#hidden :No such channel"],
        ["403", "visitor", "#nowhere :No such channel"],
    ]
    assert not any(" 710 " in line for line in settle(alice, "after"))


def _answers(wire: Wire, tag: str) -> list[str]:
    """The numerics ``wire`` got, without the source and its own nick."""
    return [
        " ".join(line.split(" ")[1:2] + line.split(" ")[3:])
        for line in settle(wire, tag)
        if line.startswith(":chatroom.local ") and " PONG " not in line
    ]


def test_a_silenced_sender_is_answered_as_anyone_else_so_it_cannot_tell(
    port: int, wires: list[Wire]
) -> None:
    alice = guest_wire(port, wires, "alice")
    alice.write("AWAY :at lunch", "SILENCE +*!*pest@*")
    settle(alice, "ready")
    lines = (
        "PRIVMSG alice :hi",
        "BATCH +b draft/multiline alice",
        "@batch=b PRIVMSG alice :one",
        "BATCH -b",
        "INVITE alice #{}",
    )
    seen = {}
    for nick in ("pest", "friend"):
        sender = guest_wire(port, wires, nick, *CAPS)
        sender.write(f"JOIN #{nick}")
        settle(sender, "joined")
        sender.write(*(line.format(nick) for line in lines))
        seen[nick] = [answer.replace(nick, "NICK") for answer in _answers(sender, "sent")]
    assert seen["pest"] == seen["friend"], seen
    assert seen["pest"].count("301 alice :at lunch") == 3, seen


def test_user_mode_plus_r_keeps_a_guests_every_kind_of_private_line_out(
    port: int, wires: list[Wire]
) -> None:
    alice = guest_wire(port, wires, "alice", *CAPS)
    alice.write("MODE alice +R")
    assert any(" MODE alice +R" in line for line in settle(alice, "ready"))
    guest = guest_wire(port, wires, "drifter", *CAPS)
    guest.write(
        "NOTICE alice :n",
        "@+typing=active TAGMSG alice",
        "PRIVMSG alice :\x01VERSION\x01",
        "BATCH +b draft/multiline alice",
        "@batch=b PRIVMSG alice :one",
        "BATCH -b",
        "JOIN #drift",
        "INVITE alice #drift",
    )
    refused = [line for line in settle(guest, "sent") if " 477 drifter alice " in line]
    assert len(refused) == 4, refused  # all but the NOTICE, which is never answered
    assert not [line for line in settle(alice, "after") if "drifter" in line]
