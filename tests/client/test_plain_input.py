"""What ``chatroom connect --plain`` does with the lines a script pipes into it."""

from __future__ import annotations

import asyncio
import io
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

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


def typing_pipe() -> tuple[TextIO, TextIO]:
    """A real pipe as the client's stdin (its read end first), which the test types into
    line by line while the client runs, and closes for end of input."""
    read_end, write_end = os.pipe()
    return os.fdopen(read_end, "r"), os.fdopen(write_end, "w")


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


def test_after_a_reconnect_lines_still_go_to_the_room_they_went_to(server: ServerThread) -> None:
    """The connection drops and the client rejoins #lobby and #dev by itself: typed lines
    still go where they went (#lobby), not to the last room rejoined. Every rejoin used
    to make its room the current one, as if the user had typed /join."""
    bob = Client(server.port, "bob")
    bob.wait_type("welcome")
    for room in ("#lobby", "#dev"):
        bob.conn.join(room)
        bob.wait_type("join")
    stdin, typed = typing_pipe()
    out, err = io.StringIO(), io.StringIO()
    session = ClientSession("tina")
    endpoint = Endpoint("127.0.0.1", server.port, tls=False)

    def type_line(text: str) -> None:
        typed.write(text + "\n")
        typed.flush()

    async def scenario() -> int:
        client = asyncio.create_task(
            run_plain(endpoint, session, stdin=stdin, stdout=out, stderr=err)
        )
        type_line("/join #dev")
        type_line("/join #lobby")
        type_line("before the drop")
        await asyncio.to_thread(
            bob.wait_for, lambda e: e.type == "pubmsg" and e.arguments == ["before the drop"]
        )
        server.drop("tina")
        rejoined = ":tina!~tina@127.0.0.1 JOIN #dev"
        await asyncio.to_thread(
            bob.wait_for, lambda e: sum(line == rejoined for line in bob.raw_lines()) == 2
        )
        await asyncio.sleep(0.5)  # both rooms rejoined, in the order the server sends them
        type_line("after the drop")
        await asyncio.to_thread(
            bob.wait_for, lambda e: e.type == "pubmsg" and e.arguments == ["after the drop"]
        )
        typed.close()
        return await client

    try:
        assert asyncio.run(scenario()) == 0, err.getvalue()
        heard = [(e.target, e.arguments[0]) for e in bob.events if e.type == "pubmsg"]
        assert heard == [("#lobby", "before the drop"), ("#lobby", "after the drop")]
    finally:
        bob.close()
        typed.close()
        stdin.close()


def _dropped_once_in_the_lobby(server: ServerThread, session: ClientSession) -> tuple[str, str]:
    """``--plain`` joins #lobby as ``session``, the server drops it, it comes back and
    rejoins, then its input ends: what it printed (stdout) and said (stderr)."""
    bob = Client(server.port, "bob")
    stdin, typed = typing_pipe()
    out, err = io.StringIO(), io.StringIO()
    endpoint = Endpoint("127.0.0.1", server.port, tls=False)

    async def scenario() -> int:
        client = asyncio.create_task(
            run_plain(endpoint, session, stdin=stdin, stdout=out, stderr=err)
        )
        typed.write("/join #lobby\n")
        typed.flush()
        await asyncio.to_thread(bob.wait_for, lambda e: e.type == "join" and "tina" in e.source)
        server.drop("tina")
        await asyncio.to_thread(
            bob.wait_for,
            lambda e: (
                sum(line.endswith("JOIN #lobby") and "tina" in line for line in bob.raw_lines())
                == 2
            ),
        )
        await asyncio.sleep(0.5)  # what the server sends after the JOIN is printed
        typed.close()
        return await client

    try:
        bob.wait_type("welcome")
        bob.conn.join("#lobby")
        bob.wait_type("join")
        assert asyncio.run(scenario()) == 0, err.getvalue()
    finally:
        bob.close()
        typed.close()
        stdin.close()
    return out.getvalue(), err.getvalue()


def test_after_a_reconnect_the_welcome_and_motd_are_not_printed_again(
    server: ServerThread,
) -> None:
    """The first connection prints the welcome and the message of the day; after the
    connection drops and comes back, one line on stderr says the client is back, and the
    welcome and MOTD are not printed again (they used to come after every reconnect)."""
    printed, said = _dropped_once_in_the_lobby(server, ClientSession("tina"))
    welcome = [line for line in printed.splitlines() if "Welcome to the ChatRoom IRC" in line]
    assert len(welcome) == 1, printed
    assert len([line for line in printed.splitlines() if "Say hello in #lobby" in line]) == 1
    back = [line for line in said.splitlines() if line.startswith("chatroom: back")]
    assert back == ["chatroom: back: 127.0.0.1 again, as tina"], said
    assert said.count("Connected to") == 1, said


def test_after_a_reconnect_an_account_is_not_said_to_log_in_again(server: ServerThread) -> None:
    """An account's client: the first connection says once that the account was created;
    when the connection drops, the client logs in again with SASL and the one "back" line
    says so. A second "logged in as" line would read as news to the user."""
    session = ClientSession("tina", "tina-pass-123", create_account=True)
    _, said = _dropped_once_in_the_lobby(server, session)
    lines = [line for line in said.splitlines() if "tina" in line]
    assert lines == ["chatroom: created account tina", "chatroom: back: 127.0.0.1 again, as tina"]
    assert session.account == "tina"
