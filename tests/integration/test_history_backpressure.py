"""The history writer's queue is bounded: a flood from real clients slows the flooders
(their connections stop being read) instead of filling memory, loses no line, and leaves
everyone else served (net/backpressure.py)."""

from __future__ import annotations

import asyncio
import ssl
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TypeVar

import pytest

from chatroom.server.core.history import HistoryRecord
from chatroom.server.core.settings import Limits
from chatroom.server.net.shell import Shell
from tests.integration.raw_support import Lines, TcpLines, WsLines, contains, register
from tests.realserver import ServerThread, Wire, make_config

T = TypeVar("T")
ROOM = "#flood"


def _server(tmp_path: Path, queue_limit: int) -> ServerThread:
    """Flood control lifted (the queue is what must slow the senders), a small queue."""
    config = make_config(tmp_path, Limits(flood_burst=1_000_000, flood_per_second=0))
    history = replace(config.core.history, queue_limit=queue_limit)
    return ServerThread(replace(config, core=replace(config.core, history=history))).start()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerThread]:
    running = _server(tmp_path, queue_limit=20)
    yield running
    running.stop()


def _on_loop(server: ServerThread, fn: Callable[[Shell], T]) -> T:
    """Run ``fn(shell)`` on the server's event loop and return what it returned."""
    assert server.loop is not None
    assert server.shell is not None
    shell = server.shell

    async def call() -> T:
        return fn(shell)

    return asyncio.run_coroutine_threadsafe(call(), server.loop).result(10)


def _stored_lines(server: ServerThread) -> list[str]:
    """The texts of the room's stored PRIVMSGs, once the writer has written everything."""
    assert server.loop is not None
    assert server.shell is not None
    backends = server.shell.backends
    assert backends is not None
    asyncio.run_coroutine_threadsafe(backends.history_writer.flush(), server.loop).result(30)
    return [r.text for r in backends.history.export(ROOM) if r.command == "PRIVMSG"]


class _TlsLines(TcpLines):
    """``TcpLines`` over TLS (the server's self-signed certificate)."""

    def __init__(self, port: int, nick: str) -> None:
        super().__init__(port, nick)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        self.sock = context.wrap_socket(self.sock, server_hostname="localhost")


def _client(server: ServerThread, transport: str, nick: str) -> Lines:
    if transport == "tls":
        return _TlsLines(server.tls_port, nick)
    if transport == "ws":
        return WsLines(server.http_port, nick)
    return TcpLines(server.port, nick)


def _slow_down_the_disk(server: ServerThread) -> threading.Event:
    """Make the history store's writes wait until the returned event is set, as a slow
    disk would (the writer thread waits; the event loop does not)."""
    assert server.shell is not None
    assert server.shell.backends is not None
    store = server.shell.backends.history
    write = store.append
    disk_free = threading.Event()

    def slow_append(records: Sequence[HistoryRecord]) -> None:
        disk_free.wait(30)
        write(records)

    store.append = slow_append  # type: ignore[method-assign]
    return disk_free


@pytest.mark.parametrize("transport", ["tcp", "tls", "ws"])
def test_a_flooding_connection_is_paused_while_a_reader_still_gets_pong(
    server: ServerThread, transport: str
) -> None:
    disk_free = _slow_down_the_disk(server)
    flooder = _client(server, transport, "flooder")
    reader = TcpLines(server.port, "reader")
    try:
        register(flooder)
        register(reader)
        flooder.send(f"JOIN {ROOM}")
        flooder.wait_for(contains(f"JOIN {ROOM}"))
        reader.send(f"JOIN {ROOM}")
        reader.wait_for(contains(" 366 "))
        sent = [f"line {i}" for i in range(100)]
        flooder.send(*(f"PRIVMSG {ROOM} :{text}" for text in sent))
        reader.wait_for(contains(":line 10"))  # the queue fills (JOINs count too) by 18

        def flooder_is_held(shell: Shell) -> bool:
            gate = shell.history_backpressure
            return gate is not None and any(conn.held for conn in gate.held)

        for _ in range(200):
            if _on_loop(server, flooder_is_held):
                break
            time.sleep(0.02)
        assert _on_loop(server, flooder_is_held), "the flooder was never paused"
        reader.send("PING :still-here")
        reader.wait_for(contains("PONG"))  # served while the flooder waits
        assert _on_loop(server, flooder_is_held), "the flooder was let go too early"
        assert not any(":line 99" in line for line in reader.lines)

        disk_free.set()
        reader.wait_for(contains(":line 99"))
        assert _stored_lines(server) == sent
    finally:
        disk_free.set()
        flooder.close()
        reader.close()


def _flood(port: int, nick: str, count: int, errors: list[BaseException]) -> None:
    """One raw client: join, send ``count`` lines as fast as the socket takes them, then
    wait for the answer to a PING sent after them (every line was read by then)."""
    try:
        wire = Wire(port)
        wire.write(f"NICK {nick}", f"USER {nick} 0 * :{nick}")
        wire.until(" 376 ")
        wire.write(f"JOIN {ROOM}")
        wire.until(" 366 ")
        wire.write(*(f"PRIVMSG {ROOM} :{nick} {i}" for i in range(count)), "PING :done")
        wire.until("PONG", limit=120)
        wire.close()
    except BaseException as exc:  # reported by the test thread
        errors.append(exc)


def test_a_flood_from_many_clients_never_passes_the_queue_bound_and_loses_no_line(
    tmp_path: Path,
) -> None:
    limit, flooders, each = 64, 4, 1500
    server = _server(tmp_path, queue_limit=limit)
    try:
        errors: list[BaseException] = []
        threads = [
            threading.Thread(target=_flood, args=(server.port, f"f{n}", each, errors))
            for n in range(flooders)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(180)
        assert not errors, errors
        stored = _stored_lines(server)

        def measures(shell: Shell) -> tuple[int, int]:
            assert shell.backends is not None
            assert shell.history_backpressure is not None
            return shell.backends.history_writer.peak_backlog, shell.history_backpressure.holds

        peak, holds = _on_loop(server, measures)
    finally:
        server.stop()
    assert holds > 0, "the flood never filled the queue: the test proves nothing"
    # Each flooder is paused right after the input that reached the bound: the queue can
    # pass it by at most one line per flooder (net/backpressure.py).
    assert peak <= limit + flooders
    assert len(stored) == flooders * each
    for n in range(flooders):
        mine = [text for text in stored if text.startswith(f"f{n} ")]
        assert mine == [f"f{n} {i}" for i in range(each)]  # all there, in order
