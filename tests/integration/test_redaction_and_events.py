"""draft/message-redaction and draft/event-playback against the real server: raw lines over
TCP and WebSocket (the order and the tags are the point), the ``irc`` library as a client
without either capability, and SQLite across a restart."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp

from tests.realserver import Client, ServerThread, Wire, make_config

REDACT_CAPS = "message-tags echo-message server-time batch draft/message-redaction"
READER_CAPS = "message-tags server-time batch draft/chathistory"


def _tags(line: str) -> dict[str, str]:
    if not line.startswith("@"):
        return {}
    section = line[1:].split(" ", 1)[0]
    return {key: value for key, _, value in (item.partition("=") for item in section.split(";"))}


def _wire(
    wires: list[Wire], server: ServerThread, nick: str, caps: str, *, join: str | None = "#lobby"
) -> Wire:
    wire = Wire(server.port)
    wires.append(wire)
    wire.write("CAP LS 302", f"CAP REQ :{caps}", f"NICK {nick}", f"USER {nick} 0 * :{nick}")
    wire.write("CAP END")
    wire.until(" 376 ")
    if join:
        wire.write(f"JOIN {join}", "PING joined")
        wire.until("PONG")
    return wire


def _inside_batch(lines: list[str]) -> list[str]:
    """The commands of the lines inside the chathistory batch, in order."""
    return [line.split(" ")[2] for line in lines if "batch=" in line.split(" ", 1)[0]]


def test_redact_over_tcp_reaches_capable_members_only_and_survives_a_restart(
    tmp_path: Path, wires: list[Wire]
) -> None:
    server = ServerThread(make_config(tmp_path)).start()
    try:
        alice = _wire(wires, server, "alice", REDACT_CAPS)
        bob = _wire(wires, server, "bob", REDACT_CAPS)
        carol = Client(server.port, "carol")  # the irc library, no capabilities
        carol.wait_type("welcome")
        carol.conn.join("#lobby")
        carol.wait_type("endofnames")
        alice.write("PRIVMSG #lobby :kept", "PRIVMSG #lobby :a regrettable line", "PING said")
        said = alice.until("PONG")
        msgid = _tags(next(line for line in said if "regrettable" in line))["msgid"]
        carol.wait_for(lambda e: e.type == "pubmsg" and e.arguments == ["a regrettable line"])

        alice.write(f"REDACT #lobby {msgid} :my mistake", "PING barrier")
        answer = alice.until("PONG")
        assert f"REDACT #lobby {msgid} :my mistake" in answer[-2]  # before the PONG
        relayed = bob.until(" REDACT ")
        assert (
            relayed[-1].split(" ", 1)[1]
            == f":alice!~alice@127.0.0.1 REDACT #lobby {msgid} :my mistake"
        )
        carol.conn.send_raw("PING carol-barrier")
        carol.wait_for(lambda e: e.type == "pong")
        assert not [line for line in carol.raw_lines() if " REDACT " in line]
        carol.close()
    finally:
        server.stop()

    again = ServerThread(make_config(tmp_path)).start()
    try:
        reader = _wire(wires, again, "reader", READER_CAPS)
        reader.write("CHATHISTORY LATEST #lobby * 10")
        batch = reader.until("BATCH -")
        texts = [line.split(" PRIVMSG #lobby ")[1] for line in batch if " PRIVMSG " in line]
        assert texts == ["kept"]
    finally:
        again.stop()


def test_redact_refusals_over_tcp(server: ServerThread, wires: list[Wire]) -> None:
    alice = _wire(wires, server, "alice", REDACT_CAPS)
    bob = _wire(wires, server, "bob", REDACT_CAPS)
    alice.write("PRIVMSG #lobby :mine", "PING said")
    msgid = _tags(next(line for line in alice.until("PONG") if " PRIVMSG " in line))["msgid"]
    bob.write(f"REDACT #lobby {msgid}", "REDACT #lobby no-such-id", "REDACT #elsewhere x")
    bob.write("PING done")
    fails = [line.split(" ", 2)[2] for line in bob.until("PONG") if " FAIL " in line]
    assert fails == [
        f"REDACT REDACT_FORBIDDEN #lobby {msgid} :You are not authorised to delete this message",
        "REDACT UNKNOWN_MSGID #lobby no-such-id :This message does not exist or is too old",
        "REDACT INVALID_TARGET #elsewhere :You cannot delete messages from #elsewhere",
    ]


def test_event_playback_over_tcp_and_after_a_restart(tmp_path: Path, wires: list[Wire]) -> None:
    """JOIN, TOPIC, PART and QUIT come back only to clients that asked for events."""
    server = ServerThread(make_config(tmp_path)).start()
    try:
        alice = Client(server.port, "alice")
        alice.wait_type("welcome")
        alice.conn.join("#room")
        alice.wait_type("endofnames")
        alice.conn.privmsg("#room", "hello")
        alice.conn.topic("#room", "events are kept")
        alice.conn.part("#room", "see you")
        alice.conn.quit("bye")
        alice.wait_type("disconnect")
    finally:
        server.stop()

    again = ServerThread(make_config(tmp_path)).start()
    try:
        player = _wire(wires, again, "player", f"{READER_CAPS} draft/event-playback", join="#room")
        player.write("CHATHISTORY LATEST #room * 10")
        assert _inside_batch(player.until("BATCH -")) == [
            "JOIN",
            "PRIVMSG",
            "TOPIC",
            "PART",
            "JOIN",
        ]
        plain = _wire(wires, again, "plain", READER_CAPS, join="#room")
        plain.write("CHATHISTORY LATEST #room * 10")
        assert _inside_batch(plain.until("BATCH -")) == ["PRIVMSG"]
    finally:
        again.stop()


def test_redact_and_event_playback_over_websocket(server: ServerThread) -> None:
    async def talk() -> tuple[list[str], list[str]]:
        url = f"http://127.0.0.1:{server.http_port}/ws"
        origin = f"http://127.0.0.1:{server.http_port}"
        async with (
            aiohttp.ClientSession() as session,
            session.ws_connect(url, protocols=("text.ircv3.net",), origin=origin) as ws,
        ):

            async def until(needle: str) -> list[str]:
                got: list[str] = []
                while not got or needle not in got[-1]:
                    got.append((await ws.receive(timeout=10)).data)
                return got

            caps = f"{REDACT_CAPS} draft/chathistory draft/event-playback"
            for line in ("CAP LS 302", f"CAP REQ :{caps}", "NICK webby", "USER w 0 * :W"):
                await ws.send_str(line)
            await ws.send_str("CAP END")
            await until(" 376 ")
            await ws.send_str("JOIN #web")
            await ws.send_str("PRIVMSG #web :from the browser")
            said = await until(" PRIVMSG ")
            msgid = _tags(said[-1])["msgid"]
            await ws.send_str(f"REDACT #web {msgid}")
            await ws.send_str("PING barrier")
            deleted = await until(" PONG ")
            await ws.send_str("CHATHISTORY LATEST #web * 10")
            return deleted, await until("BATCH -")

    deleted, history = asyncio.run(talk())
    assert any(" REDACT #web " in line for line in deleted)
    assert _inside_batch(history) == ["JOIN", "REDACT"]
