"""Replies in order over real sockets: a command and a PING in one write get the command's
whole answer before the PONG, whatever the command waits on (argon2id in a worker process,
a commit, a history query). Other connections are never held up.

Raw lines are used because the point is the order of lines on the wire, which a client
library would hide behind its events.
"""

from __future__ import annotations

import asyncio
import base64
import sqlite3
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import aiohttp
import psycopg
import pytest

from chatroom.server.store.url import SqliteLocation, StoreLocation
from tests.integration.moderation_support import PASSWORD, config_with_accounts
from tests.realserver import ServerThread, Wire, guest_wire


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerThread]:
    running = ServerThread(config_with_accounts(tmp_path, "alice")).start()
    yield running
    running.stop()


def guest(server: ServerThread, wires: list[Wire], nick: str, *caps: str) -> Wire:
    return guest_wire(server.port, wires, nick, *caps)


def words(lines: list[str]) -> list[str]:
    """The command word of each line (tags and source skipped)."""
    out = []
    for line in lines:
        parts = line.split(" ")
        while parts and (parts[0].startswith("@") or parts[0].startswith(":")):
            parts = parts[1:]
        out.append(parts[0] if parts else "")
    return out


def test_oper_answer_comes_before_the_pong(server: ServerThread, wires: list[Wire]) -> None:
    wire = guest(server, wires, "admin")
    wire.write(f"OPER admin {PASSWORD}", "PING barrier")
    got = words(wire.until("PONG"))
    assert "381" in got


def test_register_success_comes_before_the_pong(server: ServerThread, wires: list[Wire]) -> None:
    wire = guest(server, wires, "newbie", "draft/account-registration")
    wire.write(f"REGISTER * * {PASSWORD}", "PING barrier")
    got = wire.until("PONG")
    assert any(" REGISTER SUCCESS " in line for line in got), got


def test_nickserv_identify_answer_comes_before_the_pong(
    server: ServerThread, wires: list[Wire]
) -> None:
    wire = guest(server, wires, "alice")
    wire.write(f"PRIVMSG NickServ :IDENTIFY {PASSWORD}", "PING barrier")
    assert "900" in words(wire.until("PONG"))


def test_pass_login_welcome_comes_before_the_pong(server: ServerThread, wires: list[Wire]) -> None:
    wire = Wire(server.port)
    wires.append(wire)
    wire.write(f"PASS alice:{PASSWORD}", "NICK alice", "USER a 0 * :A", "PING barrier")
    got = words(wire.until("PONG"))
    assert got.index("900") < got.index("001")


def test_pipelined_sasl_plain_login_then_join_arrive_in_order(
    server: ServerThread, wires: list[Wire]
) -> None:
    wire = Wire(server.port)
    wires.append(wire)
    blob = base64.b64encode(f"\0alice\0{PASSWORD}".encode()).decode()
    wire.write(
        "CAP LS 302",
        "CAP REQ :sasl",
        "NICK alice",
        "USER a 0 * :A",
        "AUTHENTICATE PLAIN",
        f"AUTHENTICATE {blob}",
        "CAP END",
        "JOIN #lobby",
        "PING barrier",
    )
    got = words(wire.until("PONG"))
    assert got.index("903") < got.index("001") < got.index("JOIN") < got.index("366")


def test_chathistory_whole_batch_comes_before_the_pong(
    server: ServerThread, wires: list[Wire]
) -> None:
    caps = ("batch", "server-time", "message-tags", "draft/chathistory")
    wire = guest(server, wires, "reader", *caps)
    wire.write("JOIN #lobby", "PRIVMSG #lobby :one", "PRIVMSG #lobby :two", "PING said")
    wire.until("PONG")
    wire.write("CHATHISTORY LATEST #lobby * 10", "PING barrier")
    got = wire.until("PONG")
    kinds = words(got)
    assert kinds[0] == "BATCH"
    assert kinds[-2:] == ["BATCH", "PONG"]
    assert sum(" PRIVMSG #lobby " in line for line in got) == 2


@contextmanager
def write_locked(location: StoreLocation, sqlite_file: Path, tables: str) -> Iterator[None]:
    """Hold a write lock from another connection: SQLite's on ``sqlite_file``, or on
    PostgreSQL an exclusive lock on ``tables``, which every write to them waits for."""
    if isinstance(location, SqliteLocation):
        blocker = sqlite3.connect(sqlite_file, timeout=1, isolation_level=None)
        try:
            blocker.execute("BEGIN IMMEDIATE")
            yield
        finally:
            blocker.rollback()
            blocker.close()
        return
    with psycopg.connect(location.conninfo) as conn:
        conn.execute(f"LOCK TABLE {tables} IN EXCLUSIVE MODE")
        try:
            yield
        finally:
            conn.rollback()


def history_locked(location: StoreLocation) -> AbstractContextManager[None]:
    """The history's write lock: every line stored waits for it."""
    path = location.history_path if isinstance(location, SqliteLocation) else Path()
    return write_locked(location, path, "messages")


def store_locked(location: StoreLocation) -> AbstractContextManager[None]:
    """The store's write lock, on every table the commits of the test below write."""
    path = location.store_path if isinstance(location, SqliteLocation) else Path()
    tables = "server_bans, account_metadata, read_markers, account_options, channels"
    return write_locked(location, path, tables)


def test_a_slow_history_query_does_not_delay_another_connections_pong(
    server: ServerThread, wires: list[Wire]
) -> None:
    """The history writer is stuck behind a lock another process holds on history.db: the
    asker waits for its answer, everyone else goes on."""
    caps = ("batch", "server-time", "message-tags", "draft/chathistory")
    slow = guest(server, wires, "slow", *caps)
    other = guest(server, wires, "other")
    slow.write("JOIN #lobby", "PING joined")
    slow.until("PONG")
    with history_locked(server.config.store):  # the writer's next commit waits for this
        slow.write("PRIVMSG #lobby :stuck behind the lock", "CHATHISTORY LATEST #lobby * 5")
        slow.write("PING barrier")
        other.write("PING quick")
        assert "PONG" in words(other.until("PONG", limit=3))
        assert slow.quiet_for(0.5)
    got = slow.until("PONG")
    assert words(got)[-2:] == ["BATCH", "PONG"]
    assert any("stuck behind the lock" in line for line in got)


def test_answers_that_wait_for_a_store_commit_come_before_the_pong(
    server: ServerThread, wires: list[Wire]
) -> None:
    """Saved changes (a server ban, account metadata, a read marker, a NickServ setting, a
    ChanServ registration) are answered after their commit: while another process holds
    the store's write lock nothing comes, and then the whole answer comes before the PONG."""
    caps = ("batch", "draft/metadata-2", "draft/read-marker")
    wire = guest(server, wires, "admin", *caps)
    other = guest(server, wires, "other")
    wire.write(f"OPER admin {PASSWORD}", "JOIN #den", "PING ready")
    wire.until("PONG")
    with store_locked(server.config.store):  # the server's next commit waits for this
        wire.write(
            "BAN *@192.0.2.9 :testing",
            "METADATA * SET display-name :Ada",
            "MARKREAD #den timestamp=2026-01-01T00:00:00.000Z",
            "PRIVMSG NickServ :SET MULTICLIENT OFF",
            "PRIVMSG ChanServ :REGISTER #den",
            "PING barrier",
        )
        other.write("PING quick")
        assert "PONG" in words(other.until("PONG", limit=3))
        assert wire.quiet_for(0.5)
    got = wire.until("PONG")
    text = "\n".join(got)
    for answer in (
        "Banned ",
        " 761 ",
        " MARKREAD #den ",
        "MULTICLIENT is now OFF",
        "is now registered",
    ):
        assert answer in text, (answer, got)


def test_a_redact_waits_for_the_history_store_and_comes_before_the_pong(
    server: ServerThread, wires: list[Wire]
) -> None:
    caps = ("batch", "server-time", "message-tags", "echo-message", "draft/message-redaction")
    wire = guest(server, wires, "writer", *caps)
    wire.write("JOIN #lobby", "PRIVMSG #lobby :regrettable", "PING said")
    echo = next(line for line in wire.until("PONG") if "regrettable" in line)
    msgid = dict(tag.split("=", 1) for tag in echo[1:].split(" ", 1)[0].split(";"))["msgid"]
    with history_locked(server.config.store):
        wire.write(f"REDACT #lobby {msgid} :oops", "PING barrier")
        assert wire.quiet_for(0.5)
    assert words(wire.until("PONG"))[-2:] == ["REDACT", "PONG"]


def test_a_bot_that_logs_in_speaks_and_hangs_up_at_once_is_heard(
    server: ServerThread, wires: list[Wire]
) -> None:
    """A notifier bot sends its whole session in one write and closes the socket: the lines
    held behind its login still run (JOIN, PRIVMSG, its QUIT with its own words), and
    then its nick is free again."""
    room = guest(server, wires, "watcher")
    room.write("JOIN #builds", "PING joined")
    room.until("PONG")
    bot = Wire(server.port)
    bot.write(
        f"PASS alice:{PASSWORD}",
        "NICK alice",
        "USER a 0 * :A",
        "JOIN #builds",
        "PRIVMSG #builds :build 42 passed",
        "QUIT :done",
    )
    bot.close()
    heard = room.until(" QUIT ")
    assert any(line.endswith(" JOIN #builds") for line in heard), heard
    assert any(line.endswith(" PRIVMSG #builds :build 42 passed") for line in heard), heard
    assert heard[-1].endswith(" QUIT :Quit: done"), heard
    again = Wire(server.port)
    wires.append(again)
    again.write(f"PASS alice:{PASSWORD}", "NICK alice", "USER a 0 * :A")
    assert " 001 alice " in again.until((" 001 ", " 433 "))[-1]


def test_over_websocket_the_oper_answer_comes_before_the_pong(server: ServerThread) -> None:
    async def talk() -> list[str]:
        url = f"http://127.0.0.1:{server.http_port}/ws"
        origin = f"http://127.0.0.1:{server.http_port}"
        async with (
            aiohttp.ClientSession() as session,
            session.ws_connect(url, protocols=("text.ircv3.net",), origin=origin) as ws,
        ):
            for line in ("NICK admin", "USER a 0 * :A"):
                await ws.send_str(line)
            got: list[str] = []
            while not any(" 376 " in line for line in got):
                got.append((await ws.receive(timeout=10)).data)
            await ws.send_str(f"OPER admin {PASSWORD}")
            await ws.send_str("PING barrier")
            got = []
            while not got or " PONG " not in got[-1]:
                got.append((await ws.receive(timeout=10)).data)
            return got

    assert "381" in words(asyncio.run(talk()))


def test_over_websocket_a_client_that_closes_right_after_logging_in_is_still_heard(
    server: ServerThread, wires: list[Wire]
) -> None:
    room = guest(server, wires, "watcher")
    room.write("JOIN #builds", "PING joined")
    room.until("PONG")

    async def speak_and_close() -> None:
        url = f"http://127.0.0.1:{server.http_port}/ws"
        origin = f"http://127.0.0.1:{server.http_port}"
        async with (
            aiohttp.ClientSession() as session,
            session.ws_connect(url, protocols=("text.ircv3.net",), origin=origin) as ws,
        ):
            for line in (
                f"PASS alice:{PASSWORD}",
                "NICK alice",
                "USER a 0 * :A",
                "JOIN #builds",
                "PRIVMSG #builds :deployed",
            ):
                await ws.send_str(line)
            # leaving the block closes the WebSocket at once, before the login is checked

    asyncio.run(speak_and_close())
    heard = room.until(" QUIT ")
    assert any(line.endswith(" PRIVMSG #builds deployed") for line in heard), heard
