"""The terminal app's message field as WeeChat and Irssi users expect it (and as the web
client has it): Tab offers the latest speakers first and never oneself, completes the
other person's nick in a private chat, Up/Down give back the line being typed, and
``/join`` (``/j``) of a room one is in goes there."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from textual.pilot import Pilot

from chatroom.client.servers import SavedServer, ServerStore
from chatroom.client.session import ClientSession
from chatroom.client.state import SERVER_BUFFER
from chatroom.tui.app import ChatApp
from chatroom.tui.widgets import ChatInput
from tests.realserver import Client, ServerThread
from tests.tui.test_plain_in_tmux import Tmux
from tests.tui.test_tui_modes_and_away import chatting, texts, typed
from tests.tui.test_tui_pilot import until


def _app(server: ServerThread, tmp_path: Path) -> ChatApp:
    store = ServerStore(tmp_path / "cfg")
    return ChatApp(store, SavedServer("local", "127.0.0.1", server.port, False, "tina"))


async def _tab(pilot: Pilot[None], text: str) -> str:
    field = pilot.app.screen.query_one("#input", ChatInput)
    field.value = text
    field.cursor_position = len(text)
    await pilot.press("tab")
    return field.value


async def chatting_with(pilot: Pilot[None], people: list[Client]) -> ClientSession:
    """The given people join #lobby, then tina logs in there and sees all of them."""
    for who in people:
        who.wait_type("welcome")
        who.conn.join("#lobby")
        who.wait_type("join")
    s = await chatting(pilot)
    await until(pilot, lambda: len(s.buffers["#lobby"].members) == len(people) + 1)
    return s


async def goes_to(pilot: Pilot[None], s: ClientSession, command: str, room: str) -> None:
    """Types a command that should show another conversation, and waits until it does."""
    await typed(pilot, command)
    await until(pilot, lambda: s.buffers[s.active].name == room)


def test_tab_offers_the_latest_speaker_first_and_never_oneself(
    server: ServerThread, tmp_path: Path
) -> None:
    people = [Client(server.port, nick) for nick in ("bob", "bonnie", "tim")]
    app = _app(server, tmp_path)

    async def scenario() -> None:
        async with app.run_test(size=(120, 32)) as pilot:
            s = await chatting_with(pilot, people)
            # Alphabetical before anyone spoke.
            assert await _tab(pilot, "bo") == "bob: "
            people[1].conn.privmsg("#lobby", "anyone here?")
            await until(pilot, lambda: "anyone here?" in texts(s, "#lobby"))
            assert await _tab(pilot, "bo") == "bonnie: "  # she spoke last: the one answered
            await pilot.press("tab")
            assert pilot.app.screen.query_one("#input", ChatInput).value == "bob: "
            assert await _tab(pilot, "ti") == "tim: "  # tina (oneself) is not offered
            await pilot.press("tab")
            assert pilot.app.screen.query_one("#input", ChatInput).value == "tim: "

    try:
        asyncio.run(scenario())
    finally:
        for who in people:
            who.close()


def test_tab_completes_the_other_persons_nick_in_a_private_chat(
    server: ServerThread, tmp_path: Path
) -> None:
    bob = Client(server.port, "bob")
    app = _app(server, tmp_path)

    async def scenario() -> None:
        async with app.run_test(size=(120, 32)) as pilot:
            bob.wait_type("welcome")
            s = await chatting(pilot)
            await typed(pilot, "/query bob")
            await until(pilot, lambda: s.buffers[s.active].name == "bob")
            assert await _tab(pilot, "thanks b") == "thanks bob "
            pilot.app.screen.query_one("#input", ChatInput).value = ""
            await typed(pilot, "/close")  # as in WeeChat (and the web client)
            await until(pilot, lambda: "bob" not in s.buffers)

    try:
        asyncio.run(scenario())
    finally:
        bob.close()


def test_up_then_down_gives_back_the_line_being_typed(server: ServerThread, tmp_path: Path) -> None:
    app = _app(server, tmp_path)

    async def scenario() -> None:
        async with app.run_test(size=(120, 32)) as pilot:
            s = await chatting(pilot)
            await typed(pilot, "first line")
            await typed(pilot, "second line")
            await until(pilot, lambda: "second line" in texts(s, "#lobby"))
            field = pilot.app.screen.query_one("#input", ChatInput)
            await pilot.press(*"half a thou")
            await pilot.press("up")
            assert field.value == "second line"
            await pilot.press("up")
            assert field.value == "first line"
            await pilot.press("down", "down")
            assert field.value == "half a thou"
            await pilot.press("down")  # past the end: still the draft, not emptied
            assert field.value == "half a thou"

    asyncio.run(scenario())


def test_join_of_a_room_one_is_in_shows_it(server: ServerThread, tmp_path: Path) -> None:
    """``/join #lobby`` from another room goes back to #lobby (it did nothing: the server
    answers nothing to a JOIN of a room one is in)."""
    app = _app(server, tmp_path)

    async def scenario() -> None:
        async with app.run_test(size=(120, 32)) as pilot:
            s = await chatting(pilot)
            await goes_to(pilot, s, "/join #dev", "#dev")
            await goes_to(pilot, s, "/join #lobby", "#lobby")
            await goes_to(pilot, s, "/j dev", "#dev")
            await typed(pilot, "back in dev")
            await until(pilot, lambda: "back in dev" in texts(s, "#dev"))

    asyncio.run(scenario())


def test_shift_tab_cycles_nick_completion_backwards_and_keeps_the_focus(
    server: ServerThread, tmp_path: Path
) -> None:
    """Tab goes forwards through the matches, Shift+Tab backwards through the same ones
    (wrapping round), and a first Shift+Tab offers the last match; the message field keeps
    the focus (Shift+Tab used to move it to the room list)."""
    people = [Client(server.port, nick) for nick in ("bob", "bonnie", "boris")]
    app = _app(server, tmp_path)

    async def scenario() -> None:
        async with app.run_test(size=(120, 32)) as pilot:
            await chatting_with(pilot, people)
            field = pilot.app.screen.query_one("#input", ChatInput)
            assert await _tab(pilot, "bo") == "bob: "
            await pilot.press("tab")
            assert field.value == "bonnie: "
            await pilot.press("shift+tab")
            assert field.value == "bob: "
            await pilot.press("shift+tab")
            assert field.value == "boris: "
            assert pilot.app.focused is field
            field.value = "bo"
            field.cursor_position = 2
            await pilot.press("shift+tab")
            assert field.value == "boris: "
            assert pilot.app.focused is field

    try:
        asyncio.run(scenario())
    finally:
        for who in people:
            who.close()


def test_alt_number_goes_to_the_nth_conversation_of_the_room_list(
    server: ServerThread, tmp_path: Path
) -> None:
    """Alt+1..9 go to the n-th entry of the room list as WeeChat and Irssi number their
    windows: 1 is the server window, then #lobby, #dev, #ops in the order joined. A number
    past the end does nothing, and no digit lands in the message field."""
    app = _app(server, tmp_path)

    async def scenario() -> None:
        async with app.run_test(size=(120, 32)) as pilot:
            s = await chatting(pilot)
            await goes_to(pilot, s, "/join #dev", "#dev")
            await goes_to(pilot, s, "/join #ops", "#ops")
            field = pilot.app.screen.query_one("#input", ChatInput)
            await pilot.press("alt+2")
            await until(pilot, lambda: s.buffers[s.active].name == "#lobby")
            await pilot.press("alt+3")
            await until(pilot, lambda: s.buffers[s.active].name == "#dev")
            await pilot.press("alt+9")
            await pilot.pause()
            assert s.buffers[s.active].name == "#dev"
            await pilot.press("alt+4")
            await until(pilot, lambda: s.buffers[s.active].name == "#ops")
            await pilot.press("alt+1")
            await until(pilot, lambda: s.active == SERVER_BUFFER)
            assert field.value == ""

    asyncio.run(scenario())


def test_alt_number_switches_windows_in_a_real_terminal(
    server: ServerThread, tmp_path: Path
) -> None:
    """In tmux, Alt+2 is sent as ESC then 2 (as xterm and most terminals do): the app goes
    to #lobby, and Alt+1 to the server window. Textual read that pair as the "™" of a
    Mac's Option+2 and typed it into the message field. Shift+Tab completes there too,
    in its place among the keys typed around it."""
    tmux = Tmux()
    env = f"CHATROOM_CLIENT_CONFIG_DIR={tmp_path / 'cfg'} TERM=xterm-256color"
    command = f"{sys.executable} -m chatroom connect 127.0.0.1:{server.port} --no-tls --nick tina"
    tmux("new-session", "-d", "-s", "app", "-x", "110", "-y", "30", f"{env} exec {command}")
    try:
        tmux.wait_screen(lambda s: "Log in to" in s and "Password" in s)
        tmux("send-keys", "-t", "app", "Enter")
        tmux.wait_screen(lambda s: "You joined #lobby" in s)
        tmux("send-keys", "-t", "app", "-l", "/join #dev")
        tmux("send-keys", "-t", "app", "Enter")
        tmux.wait_screen(lambda s: "#dev — " in s)
        tmux("send-keys", "-t", "app", "M-2")
        tmux.wait_screen(lambda s: "#lobby — " in s)
        tmux("send-keys", "-t", "app", "M-1")
        screen = tmux.wait_screen(lambda s: "you are tina" in s)
        assert "Type a message" in screen  # the field is still empty
        assert not any(c in screen for c in "¡™"), screen
        # Shift+Tab (ESC [ Z) completes in the field rather than leaving it.
        # In one write, as a fast typist's keys arrive: the completion still comes between
        # the letters before and after it (the x used to land first: "/topix").
        tmux("send-keys", "-t", "app", "/topi", "BTab", "x")
        tmux.wait_screen(lambda s: "/topic x" in s)
    finally:
        tmux.kill()
