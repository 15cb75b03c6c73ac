"""Pasting several lines into the terminal client (tui/screens/block.py): shown in an
editor, sent only on Ctrl+S, as one draft/multiline message with its line breaks; a real
server, a raw client that asked for draft/multiline and an `irc` library client that did
not."""

from __future__ import annotations

import asyncio
from pathlib import Path

from textual import events
from textual.pilot import Pilot
from textual.widgets import TextArea

from chatroom.irc.message import parse
from chatroom.tui.app import ChatApp
from chatroom.tui.screens.block import BlockEditor
from chatroom.tui.screens.chat import ChatScreen
from chatroom.tui.widgets import ChatInput
from tests.realserver import Client, ServerThread, Wire, guest_wire
from tests.tui.test_tui_daily_use import app_for, guest_in_lobby
from tests.tui.test_tui_pilot import log_text, until

CODE = "def area(r):\n    return 3.14 * r * r\n\n# that is all\n"


async def _paste(app: ChatApp, pilot: Pilot[None], typed: str, block: str) -> None:
    """Type ``typed`` in the message field, then paste ``block`` there: the editor opens."""
    field = app.screen.query_one("#input", ChatInput)
    field.focus()
    await pilot.press(*typed)
    field.post_message(events.Paste(block))
    await until(pilot, lambda: isinstance(app.screen, BlockEditor))


def test_a_pasted_block_is_sent_as_one_message_with_its_lines_after_ctrl_s(
    server: ServerThread, tmp_path: Path, wires: list[Wire]
) -> None:
    bob = guest_wire(server.port, wires, "bob", "batch", "draft/multiline")
    bob.write("JOIN #lobby")
    bob.until(" 366 ")
    carl = Client(server.port, "carl")
    carl.wait_type("welcome")
    carl.conn.join("#lobby")
    carl.wait_type("join")
    store, local = app_for(server, tmp_path, "alice")
    app = ChatApp(store, local, accept_new_cert=True)

    async def scenario() -> None:
        async with guest_in_lobby(app) as pilot:
            await _paste(app, pilot, "see: ", CODE)
            assert app.screen.query_one(TextArea).text == "see: " + CODE
            await pilot.press("ctrl+s")
            await until(pilot, lambda: isinstance(app.screen, ChatScreen))
            await until(pilot, lambda: "# that is all" in log_text(app))
            shown = log_text(app)
            assert "see: def area(r):" in shown
            assert "    return 3.14 * r * r" in shown
            assert app.screen.query_one("#input", ChatInput).value == ""

    try:
        asyncio.run(scenario())
        got = [parse(line) for line in bob.until("BATCH -")]
        opened = next(i for i, m in enumerate(got) if m.command == "BATCH")
        assert got[opened].params[1:] == ("draft/multiline", "#lobby")
        assert [m.params for m in got[opened + 1 : -1]] == [
            ("#lobby", "see: def area(r):"),
            ("#lobby", "    return 3.14 * r * r"),
            ("#lobby", ""),
            ("#lobby", "# that is all"),
        ]
        # Without the capability, the server sends each non-blank line on its own.
        carl.wait_for(lambda e: e.type == "pubmsg" and e.arguments == ["# that is all"])
        said = [e.arguments[0] for e in carl.events if e.type == "pubmsg"]
        assert said == ["see: def area(r):", "    return 3.14 * r * r", "# that is all"]
    finally:
        carl.close()


def test_escape_in_the_paste_editor_sends_nothing_and_keeps_what_was_typed(
    server: ServerThread, tmp_path: Path, wires: list[Wire]
) -> None:
    bob = guest_wire(server.port, wires, "bob")
    bob.write("JOIN #lobby")
    bob.until(" 366 ")
    store, local = app_for(server, tmp_path, "alice")
    app = ChatApp(store, local, accept_new_cert=True)

    async def scenario() -> None:
        async with guest_in_lobby(app) as pilot:
            await _paste(app, pilot, "typed", "pasted into\nthe wrong window\n")
            await pilot.press("escape")
            await until(pilot, lambda: isinstance(app.screen, ChatScreen))
            assert app.screen.query_one("#input", ChatInput).value == "typed"
            await pilot.press("enter")
            await until(pilot, lambda: "typed" in log_text(app))

    asyncio.run(scenario())
    said = [parse(line) for line in bob.until("PRIVMSG #lobby")]
    assert [m.params for m in said if m.command == "PRIVMSG"] == [("#lobby", "typed")]
    # Up to alice's QUIT (the app closed), the pasted lines never came.
    later = bob.until(" QUIT ")
    assert [line for line in later if "wrong window" in line] == []
