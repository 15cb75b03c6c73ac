"""What ``chatroom connect --plain`` does with the lines a script pipes into it."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Iterator
from pathlib import Path

import pytest

from chatroom.client.connection import Endpoint
from chatroom.client.plain import run_plain
from chatroom.client.session import ClientSession
from tests.realserver import Client, ServerThread, make_config


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerThread]:
    running = ServerThread(make_config(tmp_path)).start()
    yield running
    running.stop()


def test_piped_lines_wait_until_the_client_is_in_its_room(server: ServerThread) -> None:
    """The whole input is read at once, long before the welcome; each line still reaches
    #lobby (it used to be refused in the server window, or sent before registration)."""
    bob = Client(server.port, "bob")
    bob.wait_type("welcome")
    bob.conn.join("#lobby")
    bob.wait_type("join")
    out, err = io.StringIO(), io.StringIO()
    stdin = io.StringIO("first line\n/me waves\nlast line\n")
    endpoint = Endpoint("127.0.0.1", server.port, tls=False)
    session = ClientSession("tina")

    status = asyncio.run(run_plain(endpoint, session, stdin=stdin, stdout=out, stderr=err))

    assert status == 0, err.getvalue()
    bob.wait_for(lambda e: e.type == "pubmsg" and e.arguments == ["last line"])
    heard = [(e.type, e.arguments[0]) for e in bob.events if e.type in ("pubmsg", "action")]
    assert heard == [("pubmsg", "first line"), ("action", "waves"), ("pubmsg", "last line")]
    assert "server window" not in out.getvalue()
    bob.close()
