"""The Textual app with hostile text from other users, driven by Pilot against a real server.

Nothing another user chooses may act on the terminal (escape sequences are shown, not
sent) or be read as Textual markup (``[/]`` would stop the app, ``[link=...]`` disguise a
link); IRC formatting is drawn as formatting.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from rich.segment import Segment
from textual.strip import Strip
from textual.widgets import Static

from chatroom import admin
from chatroom.client.servers import SavedServer, ServerStore
from chatroom.server.store.factory import open_store
from chatroom.tui.app import ChatApp
from chatroom.tui.screens.chat import ChatScreen
from chatroom.tui.screens.login import LoginScreen
from chatroom.tui.widgets import MessageLog
from tests.realserver import Client, ServerThread, make_config
from tests.tui.test_tui_pilot import log_in, log_text, until

ESCAPES = "\x1b]0;pwned\x07\x1b[2J\x9b31m"
MARKUP = "[/] [bold]not bold[/bold] [link=http://evil.example]click[/link]"


def controls_in(strips: list[Strip]) -> list[str]:
    """Every C0/C1 control that would be written to the terminal for these lines."""
    return [
        text
        for strip in strips
        for text, _, _ in strip
        if any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in text)
    ]


def flat(text: str) -> str:
    """Text with line wrapping undone (the log wraps long lines at spaces)."""
    return " ".join(text.split())


def segments_of(strips: list[Strip]) -> list[Segment]:
    return [segment for strip in strips for segment in strip]


def test_escape_codes_and_markup_from_other_users_are_shown_as_text(
    server: ServerThread, tmp_path: Path
) -> None:
    store = ServerStore(tmp_path / "cfg")
    app = ChatApp(store, SavedServer("local", "127.0.0.1", server.port, False, "dave"))

    async def scenario() -> None:
        async with app.run_test(size=(160, 32)) as pilot:
            bob = Client(server.port, "bob")
            bob.wait_type("welcome")
            bob.conn.join("#den")  # the first in a new room is its operator
            bob.wait_type("join")
            bob.conn.topic("#den", f"topic {ESCAPES} {MARKUP}")
            await log_in(pilot, "dave", "", create=False)
            await until(pilot, lambda: isinstance(app.screen, ChatScreen))
            await pilot.press(*"/join #den", "enter")
            session = app.session
            assert session is not None
            await until(pilot, lambda: session.active == "#den")

            bob.conn.privmsg("#den", f"msg {ESCAPES} {MARKUP}")
            bob.conn.privmsg("#den", "\x02strong\x02 \x0304,01red on black\x03 plain")
            bob.conn.action("#den", f"waves {ESCAPES}")
            bob.conn.notice("#den", f"note {ESCAPES} {MARKUP}")
            await until(pilot, lambda: "note" in log_text(app))
            await pilot.pause()

            log = app.screen.query_one("#log", MessageLog)
            text = flat(log_text(app))
            assert controls_in(list(log.lines)) == []
            assert f"msg ␛]0;pwned␇␛[2J␛[31m {MARKUP}" in text
            assert "waves ␛]0;pwned␇" in text
            assert f"note ␛]0;pwned␇␛[2J␛[31m {MARKUP}" in text
            styled = {seg.text: seg.style for seg in segments_of(list(log.lines))}
            strong = styled["strong"]
            assert strong is not None
            assert strong.bold
            red = next(s for t, s in styled.items() if "red on black" in t)
            assert red is not None
            assert red.color is not None
            assert red.color.triplet is not None
            assert red.color.triplet.hex == "#ff0000"

            topic = app.screen.query_one("#topic", Static)
            shown = topic.render_lines(topic.region.reset_offset)
            assert controls_in(shown) == []
            topic_text = flat("".join(seg.text for seg in segments_of(shown)))
            assert "topic ␛]0;pwned␇␛[2J␛[31m [/] [bold]not bold[/bold]" in topic_text
            bob.close()

    asyncio.run(scenario())


def test_a_ban_reason_with_markup_and_escapes_is_shown_literally_at_login(
    tmp_path: Path,
) -> None:
    """The server's ERROR text (here a ban reason an operator typed) reaches the login
    screen's status line: it must be shown as it is, and must not crash the app."""
    config = make_config(tmp_path)
    db = open_store(config.store)
    admin.add_ban(db, "eve", f"{MARKUP} {ESCAPES}")
    db.close()
    server = ServerThread(config).start()
    store = ServerStore(tmp_path / "cfg")
    app = ChatApp(store, SavedServer("local", "127.0.0.1", server.port, False, "eve"))

    async def scenario() -> None:
        async with app.run_test(size=(200, 32)) as pilot:
            await log_in(pilot, "eve", "", create=False)
            screen = app.screen
            assert isinstance(screen, LoginScreen)
            status = screen.query_one("#status", Static)
            await until(pilot, lambda: "banned" in str(status.render()))
            await pilot.pause()
            shown = status.render_lines(status.region.reset_offset)
            assert controls_in(shown) == []
            text = "".join(seg.text for seg in segments_of(shown))
            assert "[/] [bold]not bold[/bold] [link=http://evil.example]click[/link]" in text
            assert "␛]0;pwned␇" in text
            assert app.is_running

    try:
        asyncio.run(scenario())
    finally:
        server.stop()
