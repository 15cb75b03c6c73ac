"""A command whose handler raises after changing something: the 400 is honest about it.

Dispatch keeps no undo, so a handler that fails halfway may leave part of its change in
place; the reply used to say "nothing was changed" regardless. The failing handler here
is the real AWAY handler followed by an exception, swapped into the command table of a
real server (same process, real sockets).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from chatroom.irc.message import Message
from chatroom.server.core.context import Context
from chatroom.server.core.dispatch import COMMANDS, load_commands
from chatroom.server.core.session import Session
from tests.realserver import ServerThread, Wire, guest_wire, make_config


@pytest.fixture
def away_then_crash(monkeypatch: pytest.MonkeyPatch) -> None:
    spec = load_commands()["AWAY"]

    def crashing(ctx: Context, session: Session, msg: Message) -> None:
        spec.handler(ctx, session, msg)  # the change is made...
        raise RuntimeError("a bug after the change")  # ...then the handler fails

    monkeypatch.setitem(COMMANDS, "AWAY", replace(spec, handler=crashing))


@pytest.fixture
def server(tmp_path: Path, away_then_crash: None) -> Iterator[ServerThread]:
    running = ServerThread(make_config(tmp_path)).start()
    yield running
    running.stop()


def test_a_handler_failing_after_a_change_does_not_claim_nothing_was_changed(
    server: ServerThread, wires: list[Wire]
) -> None:
    alice = guest_wire(server.port, wires, "alice")
    alice.write("AWAY :lunch")
    failure = alice.until(" 400 ")[-1]
    assert "nothing was changed" not in failure
    assert "AWAY :Internal error; the command may be partly applied; the server logged it" in (
        failure
    )
    # It was partly applied indeed, and the server goes on answering.
    bob = guest_wire(server.port, wires, "bob")
    bob.write("WHOIS alice")
    got = bob.until(" 318 ")
    assert any(" 301 bob alice lunch" in line for line in got), got
