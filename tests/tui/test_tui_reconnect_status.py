"""The status line tells the truth about the login after an automatic reconnect."""

from __future__ import annotations

import asyncio
from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import Static

from chatroom.client.servers import SavedServer, ServerStore
from chatroom.tui.app import ChatApp
from chatroom.tui.screens.chat import ChatScreen
from tests.realserver import ServerThread, make_config
from tests.tui.test_tui_pilot import PASSWORD, log_in, until


def wendy_app(server: ServerThread, tmp_path: Path) -> ChatApp:
    """The app as wendy, with a fresh saved-server store, pointed at the test server."""
    store = ServerStore(tmp_path / "cfg")
    return ChatApp(store, SavedServer("local", "127.0.0.1", server.port, False, "wendy"))


async def logged_in_status(pilot: Pilot[None]) -> Static:
    """Creates wendy's account and logs in; the chat screen's status line is returned."""
    await log_in(pilot, "wendy", PASSWORD, create=True)
    app = pilot.app
    await until(pilot, lambda: isinstance(app.screen, ChatScreen))
    return app.screen.query_one("#status", Static)


def test_status_says_logged_in_again_after_an_automatic_reconnect(tmp_path: Path) -> None:
    """The server drops the connection; the app reconnects and logs in again with SASL.
    The status line said "(guest)" from then on, because it was drawn when the connection
    opened, before the server confirmed the login."""
    server = ServerThread(make_config(tmp_path)).start()
    app = wendy_app(server, tmp_path)

    async def scenario() -> None:
        async with app.run_test(size=(120, 30)) as pilot:
            status = await logged_in_status(pilot)

            def shown() -> str:
                return str(status.render())

            await until(pilot, lambda: "logged in as wendy" in shown())
            session = app.session
            assert session is not None

            shell, loop = server.shell, server.loop
            assert shell is not None
            assert loop is not None
            for conn in list(shell.connections.values()):
                loop.call_soon_threadsafe(conn.abort)
            await until(pilot, lambda: not session.registered, timeout=5)
            await until(pilot, lambda: session.registered and session.account == "wendy", 15)
            await until(pilot, lambda: "logged in as wendy" in shown())
            assert "guest" not in shown()
            assert not status.has_class("offline")

    try:
        asyncio.run(scenario())
    finally:
        server.stop()


def test_status_names_the_new_nick_after_nick(tmp_path: Path) -> None:
    """/nick renamed us everywhere but the status line, which kept the old nick."""
    server = ServerThread(make_config(tmp_path)).start()
    app = wendy_app(server, tmp_path)

    async def scenario() -> None:
        async with app.run_test(size=(120, 30)) as pilot:
            status = await logged_in_status(pilot)
            await until(pilot, lambda: "wendy (logged in as wendy)" in str(status.render()))
            app.submit("#lobby", "/nick wendy2")
            await until(pilot, lambda: "wendy2 (logged in as wendy)" in str(status.render()))

    try:
        asyncio.run(scenario())
    finally:
        server.stop()


def test_status_says_you_are_away_until_you_are_back(tmp_path: Path) -> None:
    """/away: the status line says so while it lasts, as WeeChat's and Irssi's do (only
    the one "You are marked as away" line said it, soon scrolled away)."""
    server = ServerThread(make_config(tmp_path)).start()
    app = wendy_app(server, tmp_path)

    async def scenario() -> None:
        async with app.run_test(size=(120, 30)) as pilot:
            status = await logged_in_status(pilot)
            await until(pilot, lambda: "wendy (logged in as wendy)" in str(status.render()))
            assert "away" not in str(status.render())
            app.submit("#lobby", "/away at lunch")
            await until(pilot, lambda: "· away ·" in str(status.render()))
            app.submit("#lobby", "/away")
            await until(pilot, lambda: "away" not in str(status.render()))

    try:
        asyncio.run(scenario())
    finally:
        server.stop()
