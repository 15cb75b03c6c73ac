"""A malformed line over TCP and WebSocket gets ``FAIL * INVALID_LINE`` before the PONG of
the PING that follows it (it was answered with silence; found by fuzz/fuzz_server.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.raw_support import Lines, TcpLines, WsLines, contains, register
from tests.realserver import ServerThread, make_config


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerThread]:
    running = ServerThread(make_config(tmp_path)).start()
    yield running
    running.stop()


@pytest.mark.parametrize(
    ("transport", "line"),
    # A CR in a WebSocket frame ends a line there (websocket.py), so "MOTD\r" is MOTD.
    [
        ("tcp", "LUSERS\0"),
        ("tcp", "MOTD\r"),
        ("tcp", "@label=x"),
        ("websocket", "LUSERS\0"),
        ("websocket", "PRIVMSG #a :b\0c"),
        ("websocket", "@label=x"),
    ],
)
def test_a_malformed_line_is_answered_before_the_next_pong(
    server: ServerThread, transport: str, line: str
) -> None:
    client: Lines = (
        TcpLines(server.port, "alice") if transport == "tcp" else WsLines(server.http_port, "alice")
    )
    try:
        register(client)
        client.send(line, "PING :barrier")
        pong = client.wait_for(contains("PONG"))
        before_pong = client.lines[: client.lines.index(pong)]
        assert " FAIL * INVALID_LINE :Malformed line ignored: " in before_pong[-1], before_pong
    finally:
        client.close()
