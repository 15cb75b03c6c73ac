"""Small surprises a daily user of the terminal app met, against a real server (Pilot).

Each test is one thing a person did and what they expected to see.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from textual import events
from textual.app import App, ComposeResult
from textual.pilot import Pilot
from textual.widget import Widget
from textual.widgets import Button, Input

from chatroom.client.servers import SavedServer, ServerStore
from chatroom.tui.app import ChatApp
from chatroom.tui.screens.chat import ChatScreen
from chatroom.tui.screens.login import LoginScreen
from chatroom.tui.screens.servers import ServersScreen
from chatroom.tui.widgets import ChatInput
from tests.realserver import Client, ServerThread, make_config
from tests.tui.test_tui_pilot import log_in, log_text, until

PASSWORD = "correct-horse-battery"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerThread]:
    config = make_config(tmp_path)
    limits = replace(config.core.limits, flood_burst=200, flood_backlog=200)
    running = ServerThread(make_config(tmp_path, limits)).start()
    yield running
    running.stop()


def app_for(server: ServerThread, tmp_path: Path, nick: str) -> tuple[ServerStore, SavedServer]:
    store = ServerStore(tmp_path / "cfg")
    local = SavedServer("local", "127.0.0.1", server.tls_port, True, nick)
    store.put(local)
    return store, local


@contextlib.asynccontextmanager
async def guest_in_lobby(app: ChatApp, nick: str = "alice") -> AsyncIterator[Pilot[None]]:
    """The app run by the pilot, logged in as guest ``nick`` and in #lobby."""
    async with app.run_test(size=(110, 32)) as pilot:
        await log_in(pilot, nick, "", create=False)
        await until(pilot, lambda: "You joined #lobby" in log_text(app))
        yield pilot


def test_topic_asked_in_a_room_without_one_says_there_is_none(
    server: ServerThread, tmp_path: Path
) -> None:
    store, local = app_for(server, tmp_path, "alice")
    app = ChatApp(store, local, accept_new_cert=True)

    async def scenario() -> None:
        async with guest_in_lobby(app) as pilot:
            await pilot.press(*"/topic", "enter")
            await until(pilot, lambda: "#lobby has no topic" in log_text(app))

    asyncio.run(scenario())


def test_typing_in_a_room_after_leaving_it_says_how_to_go_back_and_part_closes_it(
    server: ServerThread, tmp_path: Path
) -> None:
    store, local = app_for(server, tmp_path, "alice")
    app = ChatApp(store, local, accept_new_cert=True)
    bob = Client(server.port, "bob")
    bob.wait_type("welcome")
    bob.conn.join("#dev")
    bob.wait_type("join")

    async def scenario() -> None:
        async with guest_in_lobby(app) as pilot:
            await pilot.press(*"/join #dev", "enter")
            await until(pilot, lambda: "You joined #dev" in log_text(app))
            await pilot.press(*"/part", "enter")
            await until(pilot, lambda: "You left #dev" in log_text(app))
            await pilot.press(*"still here?", "enter")
            await until(pilot, lambda: "/join #dev to go back" in log_text(app))
            await pilot.press(*"/me waves", "enter")
            await until(pilot, lambda: log_text(app).count("/join #dev to go back") == 2)
            await pilot.press(*"/part", "enter")  # the window of a room left closes
            await until(
                pilot, lambda: app.session is not None and "#dev" not in app.session.buffers
            )

    asyncio.run(scenario())
    bob.close()


def test_enter_after_the_nickname_moves_to_the_password_instead_of_connecting(
    server: ServerThread, tmp_path: Path
) -> None:
    store = ServerStore(tmp_path / "cfg")
    local = SavedServer("local", "127.0.0.1", server.tls_port, True, "")
    store.put(local)
    app = ChatApp(store, local, accept_new_cert=True)

    async def scenario() -> None:
        async with app.run_test(size=(110, 32)) as pilot:
            await until(pilot, lambda: isinstance(app.screen, LoginScreen))
            screen = app.screen
            await until(pilot, lambda: screen.focused is screen.query_one("#nick", Input))
            await pilot.press(*"alice", "enter")
            await pilot.pause(0.5)
            assert app.session is None, "Enter in the nickname field connected as a guest"
            assert screen.focused is screen.query_one("#password", Input)
            await pilot.press("enter")  # empty password: a guest, as the label says
            await until(pilot, lambda: isinstance(app.screen, ChatScreen))

    asyncio.run(scenario())


def test_at_50_columns_every_button_of_the_servers_list_is_shown_whole(tmp_path: Path) -> None:
    store = ServerStore(tmp_path / "cfg")
    store.put(SavedServer("local", "127.0.0.1", 6697, True, "alice"))
    app = ChatApp(store)

    async def scenario() -> None:
        async with app.run_test(size=(50, 24)) as pilot:
            await until(pilot, lambda: isinstance(app.screen, ServersScreen))
            await pilot.pause(0.2)
            for button in app.screen.query(Button):
                row = button.parent
                assert isinstance(row, Widget)
                assert button.region.right <= row.region.right, f"{button.label} is cut off"

    asyncio.run(scenario())


def test_a_changed_certificate_shows_how_to_re_pin_on_a_24_row_terminal(
    server: ServerThread, tmp_path: Path
) -> None:
    store = ServerStore(tmp_path / "cfg")
    local = SavedServer("local", "127.0.0.1", server.tls_port, True, "alice", "ab" * 32)
    store.put(local)
    app = ChatApp(store, local)

    async def scenario() -> None:
        async with app.run_test(size=(60, 24)) as pilot:
            await log_in(pilot, "alice", "", create=False)
            status = app.screen.query_one("#status")
            await until(pilot, lambda: "--forget-pin" in str(status.render()))
            await pilot.pause(0.3)
            assert "forget-pin" in app.export_screenshot(), "the way out is below the screen"

    asyncio.run(scenario())


def test_page_up_at_the_top_of_a_room_brings_older_messages_from_the_server(
    server: ServerThread, tmp_path: Path
) -> None:
    bob = Client(server.port, "bob")
    bob.wait_type("welcome")
    bob.conn.join("#lobby")
    bob.wait_type("join")
    for i in range(80):
        bob.conn.privmsg("#lobby", f"line {i:03}")
    bob.conn.ping("fence")
    bob.wait_type("pong", timeout=30)
    store, local = app_for(server, tmp_path, "alice")
    app = ChatApp(store, local, accept_new_cert=True)

    async def scenario() -> None:
        async with app.run_test(size=(80, 24)) as pilot:
            await log_in(pilot, "alice", "", create=False)
            await until(pilot, lambda: "line 079" in log_text(app))
            assert "line 000" not in log_text(app)  # one page of history on joining
            for _ in range(12):
                await pilot.press("pageup")
                await pilot.pause(0.3)
                if "line 000" in log_text(app):
                    break
            await until(pilot, lambda: "line 000" in log_text(app))
            text = log_text(app)
            assert text.index("line 000") < text.index("line 079")
            assert text.count("line 050 ") + text.count("line 050\n") <= 1

    asyncio.run(scenario())
    bob.close()


def test_page_up_at_the_top_of_a_private_chat_brings_older_messages_from_the_server(
    server: ServerThread, tmp_path: Path
) -> None:
    store, local = app_for(server, tmp_path, "alice")
    first = ChatApp(store, local, accept_new_cert=True)

    async def make_account() -> None:
        async with first.run_test(size=(80, 24)) as pilot:
            await log_in(pilot, "alice", PASSWORD, create=True)
            await until(pilot, lambda: "You joined #lobby" in log_text(first))
            bob = Client(server.port, "bob")
            bob.wait_type("welcome")
            for i in range(80):
                bob.conn.privmsg("alice", f"line {i:03}")
            bob.conn.ping("fence")
            bob.wait_type("pong", timeout=30)
            chat = first.screen
            assert isinstance(chat, ChatScreen)
            await until(pilot, lambda: "bob" in chat.session.buffers)
            bob.close()

    asyncio.run(make_account())
    app = ChatApp(store, local, accept_new_cert=True)

    async def scenario() -> None:
        async with app.run_test(size=(80, 24)) as pilot:
            await log_in(pilot, "alice", PASSWORD, create=False)
            await until(pilot, lambda: isinstance(app.screen, ChatScreen))
            screen = app.screen
            assert isinstance(screen, ChatScreen)
            # The room is joined (it would take the view back) and the chat reopened.
            await until(pilot, lambda: "You joined #lobby" in log_text(app))
            await until(pilot, lambda: len(screen.session.logs.get("bob", [])) >= 50)
            screen.switch_to("bob")
            await until(pilot, lambda: "line 079" in log_text(app))
            assert "line 000" not in log_text(app)  # one page of history on reopening
            for _ in range(12):
                await pilot.press("pageup")
                await pilot.pause(0.3)
                if "line 000" in log_text(app):
                    break
            await until(pilot, lambda: "line 000" in log_text(app))
            text = log_text(app)
            assert text.index("line 000") < text.index("line 079")

    asyncio.run(scenario())


def test_after_a_failed_login_with_the_connect_button_enter_tries_again_and_create_is_pointed_to(
    server: ServerThread, tmp_path: Path
) -> None:
    store, local = app_for(server, tmp_path, "hana")
    app = ChatApp(store, local, accept_new_cert=True)

    async def scenario() -> None:
        async with app.run_test(size=(100, 32)) as pilot:
            await until(pilot, lambda: isinstance(app.screen, LoginScreen))
            screen = app.screen
            await until(pilot, lambda: bool(screen.query("#password")))
            screen.query_one("#password", Input).value = "no-such-account"
            screen.query_one("#connect", Button).focus()
            await pilot.press("enter")
            status = screen.query_one("#status")
            await until(pilot, lambda: "Wrong password" in str(status.render()))
            await pilot.pause(0.2)
            told = str(status.render())
            assert "no account named hana" in told
            assert 'Tick "Create a new account with this nickname"' in told
            assert screen.focused is screen.query_one("#connect", Button)
            await pilot.press("enter")  # tries again: still the login, not the servers
            await pilot.pause(0.3)
            assert isinstance(app.screen, LoginScreen)

    asyncio.run(scenario())


def test_pasting_several_lines_into_the_message_field_keeps_every_line() -> None:
    """Textual's Input would keep the first line and drop the rest: one line goes into
    the field, several go up whole (with what was typed around them) for the editor."""
    pasted: list[str] = []

    class Field(App[None]):
        def compose(self) -> ComposeResult:
            yield ChatInput(list)

        def on_chat_input_block_pasted(self, message: ChatInput.BlockPasted) -> None:
            pasted.append(message.text)

    app = Field()

    async def scenario() -> None:
        async with app.run_test() as pilot:
            field = app.query_one(ChatInput)
            field.focus()
            await pilot.press(*"see: ")
            field.post_message(events.Paste("first line\nsecond line\n\n  third\n"))
            await pilot.pause(0.2)
            assert pasted == ["see: first line\nsecond line\n\n  third\n"]
            assert field.value == "see: "
            field.post_message(events.Paste("just one line\n"))
            await pilot.pause(0.2)
            assert field.value == "see: just one line"
            assert len(pasted) == 1

    asyncio.run(scenario())


def test_a_nickname_with_a_space_is_refused_instead_of_cut_at_the_space(
    server: ServerThread, tmp_path: Path
) -> None:
    store, local = app_for(server, tmp_path, "alice")
    app = ChatApp(store, local, accept_new_cert=True)

    async def scenario() -> None:
        async with guest_in_lobby(app) as pilot:
            await pilot.press(*"/nick bad nick", "enter")
            await until(pilot, lambda: "A nickname is one word" in log_text(app))
            await pilot.press(*"/nick alice2", "enter")
            await until(pilot, lambda: "alice is now alice2" in log_text(app))
            assert "is now bad" not in log_text(app)

    asyncio.run(scenario())
