"""The terminal app (Textual Pilot, real server): deleting messages with /delete, seeing a
deletion made by someone else, and room events in scrollback (draft/event-playback)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from chatroom.client.servers import SavedServer, ServerStore
from chatroom.tui.app import ChatApp
from chatroom.tui.screens.chat import ChatScreen
from tests.realserver import Client, ServerThread, Wire
from tests.tui.test_tui_pilot import log_in, log_text, until


def _operator(server: ServerThread, room: str) -> Wire:
    """opal, first in ``room`` (so its operator), with the redaction capability."""
    wire = Wire(server.port)
    caps = "message-tags echo-message draft/message-redaction"
    wire.write("CAP LS 302", f"CAP REQ :{caps}", "NICK opal", "USER opal 0 * :opal", "CAP END")
    wire.until(" 376 ")
    wire.write(f"JOIN {room}", "PING joined")
    wire.until("PONG")
    return wire


def test_delete_my_message_and_see_an_operator_delete_another(
    server: ServerThread, tmp_path: Path
) -> None:
    opal = _operator(server, "#den")
    app = ChatApp(
        ServerStore(tmp_path / "cfg"), SavedServer("local", "127.0.0.1", server.port, False, "dave")
    )

    async def scenario() -> None:
        async with app.run_test(size=(110, 32)) as pilot:
            await log_in(pilot, "dave", "", create=False)
            await until(pilot, lambda: isinstance(app.screen, ChatScreen))
            await pilot.press(*"/join #den", "enter")
            session = app.session
            assert session is not None
            await until(pilot, lambda: "#den" in session.buffers and session.buffers["#den"].joined)

            await pilot.press(*"a line with a typo", "enter")
            await until(pilot, lambda: "a line with a typo" in log_text(app))
            opal.until("a line with a typo")
            await pilot.press(*"/delete wrong words", "enter")
            relayed = opal.until(" REDACT ")[-1]
            assert relayed.endswith(" :wrong words")
            await until(pilot, lambda: "message deleted: wrong words" in log_text(app))
            assert "a line with a typo" not in log_text(app)

            await pilot.press(*"please remove this one", "enter")
            said = opal.until("please remove this one")[-1]
            msgid = said[1:].split(" ", 1)[0].split(";")[0].removeprefix("msgid=")
            opal.write(f"REDACT #den {msgid} :off topic")
            await until(pilot, lambda: "message deleted by opal: off topic" in log_text(app))
            assert "please remove this one" not in log_text(app)
            opal.close()

    asyncio.run(scenario())


def test_scrollback_shows_who_came_and_went_without_changing_the_members(
    server: ServerThread, tmp_path: Path
) -> None:
    tess = Client(server.port, "tess")
    tess.wait_type("welcome")
    tess.conn.join("#lobby")
    tess.wait_type("join")
    tess.conn.privmsg("#lobby", "anyone around?")
    tess.conn.part("#lobby", "later")
    tess.conn.ping("synced")
    tess.wait_type("pong")
    app = ChatApp(
        ServerStore(tmp_path / "cfg"), SavedServer("local", "127.0.0.1", server.port, False, "dave")
    )

    async def scenario() -> None:
        async with app.run_test(size=(110, 32)) as pilot:
            await log_in(pilot, "dave", "", create=False)
            await until(pilot, lambda: isinstance(app.screen, ChatScreen))
            await until(pilot, lambda: "tess left (later)" in log_text(app))
            text = log_text(app)
            assert (
                text.index("tess joined") < text.index("anyone around?") < text.index("tess left")
            )
            session = app.session
            assert session is not None
            assert "tess" not in session.buffers["#lobby"].members

    asyncio.run(scenario())
    tess.close()
