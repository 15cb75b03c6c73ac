"""The terminal app remembers a password in the system keyring, so coming back needs no
typing. Pilot against a real server; the keyring is an in-memory test backend."""

from __future__ import annotations

import asyncio
from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import Checkbox, Input

from chatroom.client.servers import SavedServer, ServerStore
from chatroom.client.vault import SERVICE, PasswordVault
from chatroom.tui.app import ChatApp
from chatroom.tui.screens.chat import ChatScreen
from chatroom.tui.screens.login import LoginScreen
from chatroom.tui.screens.servers import ServersScreen
from tests.keyrings import MemoryKeyring
from tests.realserver import ServerThread, make_config
from tests.tui.test_tui_pilot import PASSWORD, until


async def logged_in_and_chatting(pilot: Pilot[None], app: ChatApp) -> None:
    await until(pilot, lambda: isinstance(app.screen, ChatScreen))
    session = app.session
    assert session is not None
    await until(pilot, lambda: session.account == "alice")
    await until(pilot, lambda: "#lobby" in session.buffers and session.buffers["#lobby"].joined)
    await pilot.pause()


def test_a_remembered_password_logs_in_again_without_typing(
    tmp_path: Path, memory_keyring: MemoryKeyring
) -> None:
    """alice ticks "Remember the password" when creating her account; it is saved once
    the server accepted it. Next time `chatroom connect local` logs her in with nothing
    typed; from the server list, the form comes filled in and Enter connects. Removing
    the server forgets the password."""
    server = ServerThread(make_config(tmp_path)).start()
    store = ServerStore(tmp_path / "cfg")
    local = SavedServer("local", "127.0.0.1", server.port, False, "alice")
    store.put(local)

    async def first_time() -> None:
        app = ChatApp(store, local)
        async with app.run_test(size=(100, 30)) as pilot:
            await until(pilot, lambda: isinstance(app.screen, LoginScreen))
            screen = app.screen
            assert not screen.query_one("#remember", Checkbox).disabled
            screen.query_one("#password", Input).value = PASSWORD
            screen.query_one("#create", Checkbox).value = True
            screen.query_one("#remember", Checkbox).value = True
            await pilot.click("#connect")
            await until(pilot, lambda: isinstance(app.screen, ChatScreen))
            await until(pilot, lambda: bool(memory_keyring.entries))
            assert list(memory_keyring.entries.values()) == [PASSWORD]
            assert app.session is not None
            await logged_in_and_chatting(pilot, app)
            app.exit()

    async def from_the_command_line() -> None:
        app = ChatApp(store, store.get("local"))
        async with app.run_test(size=(100, 30)) as pilot:
            await until(pilot, lambda: isinstance(app.screen, ChatScreen))
            await logged_in_and_chatting(pilot, app)
            app.exit()

    async def from_the_server_list() -> None:
        app = ChatApp(store)
        async with app.run_test(size=(100, 30)) as pilot:
            assert isinstance(app.screen, ServersScreen)
            await pilot.press("enter")
            await until(pilot, lambda: isinstance(app.screen, LoginScreen))
            await until(pilot, lambda: app.screen.query_one("#password", Input).value != "")
            assert app.screen.query_one("#remember", Checkbox).value
            await pilot.press("enter")
            await until(pilot, lambda: isinstance(app.screen, ChatScreen))
            await logged_in_and_chatting(pilot, app)
            app.stop_session()
            app.switch_screen(ServersScreen(store, PasswordVault()))
            await until(pilot, lambda: isinstance(app.screen, ServersScreen))
            await pilot.press("d")
            await until(pilot, lambda: not memory_keyring.entries)
            app.exit()

    try:
        asyncio.run(first_time())
        asyncio.run(from_the_command_line())
        asyncio.run(from_the_server_list())
    finally:
        server.stop()
    assert (SERVICE, "alice@127.0.0.1:" + str(server.port)) not in memory_keyring.entries


def test_without_a_keyring_the_login_does_not_offer_to_remember(tmp_path: Path) -> None:
    """No backend (the autouse fixture's "fail" keyring): the box is disabled, and the
    login works as before."""
    server = ServerThread(make_config(tmp_path)).start()
    store = ServerStore(tmp_path / "cfg")
    app = ChatApp(store, SavedServer("local", "127.0.0.1", server.port, False, "tina"))

    async def scenario() -> None:
        async with app.run_test(size=(100, 30)) as pilot:
            await until(pilot, lambda: isinstance(app.screen, LoginScreen))
            assert app.screen.query_one("#remember", Checkbox).disabled
            await pilot.click("#connect")
            await until(pilot, lambda: isinstance(app.screen, ChatScreen))

    try:
        asyncio.run(scenario())
    finally:
        server.stop()
