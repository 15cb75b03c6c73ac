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


def test_tls_to_the_plain_irc_port_says_to_add_no_tls(
    server: ServerThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`chatroom connect 127.0.0.1:6667` (TLS is the default): the plain port never
    answers the TLS hello, and the message says what to change instead of "TimeoutError"."""
    monkeypatch.setattr("chatroom.client.connection.CONNECT_TIMEOUT", 1.0)
    out, err = io.StringIO(), io.StringIO()
    endpoint = Endpoint("127.0.0.1", server.port, tls=True)
    status = asyncio.run(
        run_plain(endpoint, ClientSession("tina"), stdin=io.StringIO(""), stdout=out, stderr=err)
    )
    assert status != 0
    assert "add --no-tls" in err.getvalue()


def test_plain_irc_to_a_port_that_hangs_up_says_it_may_be_the_tls_port() -> None:
    """What the TLS port does with plain IRC: it closes before any welcome. The line piped
    in for the room is dropped with the connection, not run in the server window."""

    async def attempt() -> tuple[int, str, str]:
        async def hang_up(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            writer.close()

        listener = await asyncio.start_server(hang_up, "127.0.0.1", 0)
        port = listener.sockets[0].getsockname()[1]
        out, err = io.StringIO(), io.StringIO()
        async with listener:
            status = await run_plain(
                Endpoint("127.0.0.1", port, tls=False),
                ClientSession("tina"),
                stdin=io.StringIO("hello there\n"),
                stdout=out,
                stderr=err,
            )
        return status, out.getvalue(), err.getvalue()

    status, shown, said = asyncio.run(attempt())
    assert status != 0
    assert "connect without --no-tls" in said
    assert shown == ""


def test_piped_lines_after_a_join_go_to_the_room_joined(server: ServerThread) -> None:
    """``/join #dev`` then a line: the line goes to #dev, as the line mode promises (the
    last room joined), not to #lobby because #dev's JOIN had not come back yet. A
    ``/query`` switches at once, and says so on stderr, as a ``/join`` of a room one is
    already in does."""
    bob = Client(server.port, "bob")
    bob.wait_type("welcome")
    for room in ("#lobby", "#dev"):
        bob.conn.join(room)
        bob.wait_type("join")
    out, err = io.StringIO(), io.StringIO()
    stdin = io.StringIO(
        "in the lobby\n/join #dev\nin dev\n/query bob\njust to bob\n/join #lobby\nlobby again\n"
    )
    endpoint = Endpoint("127.0.0.1", server.port, tls=False)

    status = asyncio.run(
        run_plain(endpoint, ClientSession("tina"), stdin=stdin, stdout=out, stderr=err)
    )

    assert status == 0, err.getvalue()
    bob.wait_for(lambda e: e.type == "pubmsg" and e.arguments == ["lobby again"])
    heard = [(e.target, e.arguments[0]) for e in bob.events if e.type in ("pubmsg", "privmsg")]
    assert heard == [
        ("#lobby", "in the lobby"),
        ("#dev", "in dev"),
        ("bob", "just to bob"),
        ("#lobby", "lobby again"),
    ]
    assert "chatroom: your lines now go to bob\n" in err.getvalue()
    assert "chatroom: your lines now go to #lobby\n" in err.getvalue()
    bob.close()
