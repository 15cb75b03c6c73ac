"""Read markers across two devices, with Textual's Pilot and a real ``chatroom serve``.

alice has the app open on her laptop and on her phone (two apps, two devices of the user
``alice``: the phone logs in to the account and shares the laptop's nick and rooms). bob
writes in #den: both show one unread line there. She reads #den on the laptop: the
phone's count goes to zero without her touching it, and when bob writes again and she
opens #den on the phone, its "new messages" line sits under what she already read on the
laptop, not above it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.pilot import Pilot

from chatroom.client.servers import SavedServer, ServerStore
from chatroom.tui.app import ChatApp
from chatroom.tui.screens.chat import ChatScreen
from chatroom.tui.widgets import RoomList
from tests.integration.moderation_support import PASSWORD, config_with_accounts
from tests.realserver import Client, ServerThread
from tests.tui.test_tui_pilot import log_in, log_text, until


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerThread]:
    running = ServerThread(config_with_accounts(tmp_path, "alice")).start()
    yield running
    running.stop()


def rooms_text(app: ChatApp) -> str:
    rooms = app.screen.query_one("#rooms", RoomList)
    return "\n".join(str(rooms.get_option_at_index(i).prompt) for i in range(rooms.option_count))


def unread(app: ChatApp, room: str) -> int:
    session = app.session
    assert session is not None
    buf = session.buffers.get(room)
    return buf.unread if buf is not None else -1


async def in_den_then_lobby(pilot: Pilot[None]) -> None:
    """Join #den (the app shows it), then go back to #lobby (Ctrl+P)."""
    app = pilot.app
    assert isinstance(app, ChatApp)
    await pilot.press(*"/join #den", "enter")
    await until(pilot, lambda: app.session is not None and app.session.active == "#den")
    await pilot.press("ctrl+p")
    await until(pilot, lambda: app.session is not None and app.session.active == "#lobby")


def test_reading_a_room_on_one_device_clears_its_count_and_moves_its_line_on_the_other(
    server: ServerThread, tmp_path: Path
) -> None:
    laptop_store = ServerStore(tmp_path / "laptop")
    phone_store = ServerStore(tmp_path / "phone")
    laptop = ChatApp(laptop_store, SavedServer("local", "127.0.0.1", server.port, False, "alice"))
    phone = ChatApp(
        phone_store, SavedServer("local", "127.0.0.1", server.port, False, "alicephone")
    )

    async def scenario() -> None:
        async with laptop.run_test(size=(110, 32)) as a, phone.run_test(size=(110, 32)) as b:
            await log_in(a, "alice", PASSWORD, create=False)  # SASL
            await until(a, lambda: laptop.session is not None and laptop.session.account)
            await until(a, lambda: "You joined #lobby" in log_text(laptop))
            # The phone logs in to the same account: it becomes a second device of the
            # user alice (same nick, same rooms); nobody sees a second alice.
            await log_in(b, "alice", PASSWORD, create=False)
            await until(b, lambda: isinstance(phone.screen, ChatScreen))
            await until(b, lambda: "You joined #lobby" in log_text(phone))
            await until(b, lambda: phone.session is not None and phone.session.nick == "alice")
            await in_den_then_lobby(a)
            # The laptop's JOIN reached the phone too: #den is open there as well.
            await until(b, lambda: phone.session is not None and "#den" in phone.session.buffers)

            bob = Client(server.port, "bob")
            bob.wait_type("welcome")
            bob.conn.join("#den")
            bob.wait_type("join")
            bob.conn.privmsg("#den", "first")
            await until(a, lambda: unread(laptop, "#den") == 1 and unread(phone, "#den") == 1)
            await until(a, lambda: "#den (1)" in rooms_text(laptop))
            await until(b, lambda: "#den (1)" in rooms_text(phone))

            await a.press("ctrl+n")  # alice reads #den on the laptop
            await until(a, lambda: "first" in log_text(laptop))
            await until(b, lambda: unread(phone, "#den") == 0)
            await until(b, lambda: "#den (1)" not in rooms_text(phone))
            await a.press("ctrl+p")
            await until(a, lambda: laptop.session is not None and laptop.session.active == "#lobby")

            bob.conn.privmsg("#den", "second")
            await until(a, lambda: unread(laptop, "#den") == 1 and unread(phone, "#den") == 1)
            await b.press("ctrl+n")  # and opens #den on the phone
            await until(b, lambda: "second" in log_text(phone))
            shown = log_text(phone)
            assert shown.index("first") < shown.index("new messages") < shown.index("second")
            bob.close()

    asyncio.run(scenario())


def test_a_private_chat_opens_again_at_the_next_login_from_the_servers_list(
    server: ServerThread, tmp_path: Path
) -> None:
    """bob writes to alice; she quits. Logging in again (nothing kept on this machine but
    the server entry), her conversation with bob is back, with his message in it."""
    local = SavedServer("local", "127.0.0.1", server.port, False, "alice")

    async def session(check_reopened: bool) -> None:
        app = ChatApp(ServerStore(tmp_path / "laptop"), local)
        async with app.run_test(size=(110, 32)) as pilot:
            await log_in(pilot, "alice", PASSWORD, create=False)
            await until(pilot, lambda: "You joined #lobby" in log_text(app))
            session = app.session
            assert session is not None
            if check_reopened:
                await until(pilot, lambda: "bob" in session.buffers)
                await until(pilot, lambda: "bob (1" in rooms_text(app))
                for _ in range(3):  # to the next conversation until it is bob's
                    if session.active != "bob":
                        await pilot.press("ctrl+n")
                await until(pilot, lambda: "are you there?" in log_text(app))
                return
            bob = Client(server.port, "bob")
            bob.wait_type("welcome")
            bob.conn.privmsg("alice", "are you there?")
            await until(pilot, lambda: "bob" in session.buffers)
            bob.close()
            await pilot.press(*"/quit", "enter")

    asyncio.run(session(check_reopened=False))
    asyncio.run(session(check_reopened=True))
