"""The terminal app when the terminal changes size: lines re-wrap, panels fold away.

Driven by Textual's Pilot against a real ChatRoom server, with a real IRC client talking.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from textual.pilot import Pilot

from chatroom.client.servers import SavedServer, ServerStore
from chatroom.tui.app import ChatApp
from chatroom.tui.chatlog import MessageLog
from chatroom.tui.screens.chat import ChatScreen
from tests.realserver import Client, ServerThread
from tests.tui.test_tui_pilot import log_in, until

LONG = (
    "FIRSTWORD this message is long enough to need several lines on a narrow terminal "
    "and it keeps MIDDLEWORD in its middle so that nothing may be lost when it wraps "
    "again and again until the very LASTWORD"
)


def rows(app: ChatApp) -> list[str]:
    log = app.screen.query_one("#log", MessageLog)
    return ["".join(seg.text for seg in strip).rstrip() for strip in log.lines]


def long_line_rows(app: ChatApp) -> list[str]:
    """The screen rows of bob's long message: its first row and the indented ones after."""
    lines = rows(app)
    first = next(i for i, row in enumerate(lines) if "FIRSTWORD" in row)
    end = next(i for i, row in enumerate(lines) if "LASTWORD" in row)
    return lines[first : end + 1]


async def chatting(pilot: Pilot[None], server: ServerThread) -> Client:
    await log_in(pilot, "tina", "", create=False)
    app = pilot.app
    assert isinstance(app, ChatApp)
    await until(pilot, lambda: isinstance(app.screen, ChatScreen))
    session = app.session
    assert session is not None
    await until(pilot, lambda: session.buffers["#lobby"].joined)
    bob = Client(server.port, "bob")
    bob.wait_type("welcome")
    bob.conn.join("#lobby")
    bob.wait_type("join")
    bob.conn.privmsg("#lobby", LONG)
    bob.conn.privmsg("#lobby", "short one")
    await until(pilot, lambda: any("short one" in row for row in rows(app)))
    return bob


def tina_app(server: ServerThread, tmp_path: Path) -> ChatApp:
    """The app as tina, with a fresh saved-server store, pointed at the test server."""
    store = ServerStore(tmp_path / "cfg")
    return ChatApp(store, SavedServer("local", "127.0.0.1", server.port, False, "tina"))


async def scrolled_full(pilot: Pilot[None], bob: Client) -> MessageLog:
    """Bob says 40 filler lines; the log, once it shows them all and sits at its newest
    line with room to scroll back, is returned."""
    app = pilot.app
    assert isinstance(app, ChatApp)
    for n in range(40):
        bob.conn.privmsg("#lobby", f"filler {n}")
    await until(pilot, lambda: any("filler 39" in row for row in rows(app)))
    log = app.screen.query_one("#log", MessageLog)
    await until(pilot, lambda: log.scroll_y == log.max_scroll_y > 0)
    return log


async def assert_follows(pilot: Pilot[None], bob: Client, log: MessageLog, text: str) -> None:
    """Bob says ``text``; once it is shown (and the log has had time to scroll), the log
    is at its newest line."""
    app = pilot.app
    assert isinstance(app, ChatApp)
    bob.conn.privmsg("#lobby", text)
    await until(pilot, lambda: any(text in row for row in rows(app)))
    await pilot.pause(0.3)
    assert log.scroll_y == log.max_scroll_y


def test_lines_rewrap_whole_when_the_terminal_shrinks_and_grows(
    server: ServerThread, tmp_path: Path
) -> None:
    """Shrunk from 120 columns to 50, bob's message re-wraps into more rows with every
    word kept (it used to be cut at the old width, or lose its middle), each row within
    the log's width and indented under the text; grown back, it is as it was."""
    app = tina_app(server, tmp_path)

    async def scenario() -> None:
        async with app.run_test(size=(120, 30)) as pilot:
            bob = await chatting(pilot, server)
            wide = long_line_rows(app)

            await pilot.resize_terminal(50, 30)
            await until(pilot, lambda: len(long_line_rows(app)) > len(wide))
            log = app.screen.query_one("#log", MessageLog)
            narrow = long_line_rows(app)
            assert " ".join(" ".join(narrow).split()) == f"{narrow[0][:12]}{LONG}"
            text_column = len("12:34 <bob> ")
            assert all(row.startswith(" " * text_column) for row in narrow[1:])
            assert all(not row[text_column].isspace() for row in narrow[1:])
            assert max(len(row) for row in rows(app)) <= log.scrollable_content_region.width

            await pilot.resize_terminal(120, 30)
            await until(pilot, lambda: long_line_rows(app) == wide)
            bob.close()

    asyncio.run(scenario())


def test_at_50_columns_the_side_panels_fold_away_and_the_chat_gets_the_width(
    server: ServerThread, tmp_path: Path
) -> None:
    """At 50 columns the room and member lists are hidden (the chat had 6 columns left),
    a hint names rooms with unread lines, and F2 shows the room list when wanted."""
    app = tina_app(server, tmp_path)

    async def scenario() -> None:
        async with app.run_test(size=(50, 30)) as pilot:
            bob = await chatting(pilot, server)
            screen = app.screen
            log = screen.query_one("#log", MessageLog)
            assert log.scrollable_content_region.width >= 45
            assert not screen.query_one("#rooms").display
            assert not screen.query_one("#members").display
            assert "FIRSTWORD" in "".join(rows(app))
            assert "LASTWORD" in "".join(rows(app))

            session = app.session
            assert session is not None
            bob.conn.privmsg("tina", "psst")
            activity = screen.query_one("#activity")
            await until(pilot, lambda: "bob 1" in str(activity.render()))

            await pilot.press("f2")
            await pilot.pause()
            assert screen.query_one("#rooms").display
            assert screen.query_one("#rooms").region.width > 0

            await pilot.resize_terminal(120, 30)
            await pilot.press("f2")
            await pilot.pause()
            assert screen.query_one("#rooms").display
            assert screen.query_one("#members").display
            bob.close()

    asyncio.run(scenario())


def test_a_log_at_its_newest_line_stays_there_when_it_gets_shorter(
    server: ServerThread, tmp_path: Path
) -> None:
    """Following the newest line, the log keeps following when it loses height (a shorter
    terminal, or the status line taking a second row again after "Reconnecting…"): the
    newest lines stay in view and the next one is followed. It used to stay where it was,
    with the newest lines hidden under the message field, and stop following."""
    app = tina_app(server, tmp_path)

    async def scenario() -> None:
        async with app.run_test(size=(50, 30)) as pilot:
            bob = await chatting(pilot, server)
            log = await scrolled_full(pilot, bob)

            await pilot.resize_terminal(50, 20)
            await pilot.pause(0.3)
            assert log.scroll_y == log.max_scroll_y

            await assert_follows(pilot, bob, log, "after the shrink")
            bob.close()

    asyncio.run(scenario())


def test_page_down_scrolls_back_to_the_newest_line_which_is_followed_again(
    server: ServerThread, tmp_path: Path
) -> None:
    """Page Up scrolls back; Page Down (as in WeeChat and Irssi) comes back down to the
    newest line, and the log follows new lines again. Page Down did nothing: the log
    stayed up, and new lines went by unseen below it."""
    app = tina_app(server, tmp_path)

    async def scenario() -> None:
        async with app.run_test(size=(80, 24)) as pilot:
            bob = await chatting(pilot, server)
            log = await scrolled_full(pilot, bob)
            await pilot.press("pageup", "pageup")
            await until(pilot, lambda: log.scroll_y < log.max_scroll_y)
            await pilot.press("pagedown", "pagedown", "pagedown")
            await until(pilot, lambda: log.scroll_y == log.max_scroll_y)
            await assert_follows(pilot, bob, log, "seen at once")
            bob.close()

    asyncio.run(scenario())


def test_lines_said_while_scrolled_back_stay_unread_until_the_newest_line_is_shown(
    server: ServerThread, tmp_path: Path
) -> None:
    """Scrolled back (Page Up), the user is not reading what arrives: it stays unread (the
    count, and with an account the read marker other devices see) until the log is at
    its newest line again, as in the web client. It was read the moment it arrived."""
    app = tina_app(server, tmp_path)

    async def scenario() -> None:
        async with app.run_test(size=(80, 24)) as pilot:
            bob = await chatting(pilot, server)
            log = await scrolled_full(pilot, bob)
            session = app.session
            assert session is not None
            lobby = session.buffers["#lobby"]
            assert lobby.unread == 0

            await pilot.press("pageup")
            await until(pilot, lambda: log.scroll_y < log.max_scroll_y)
            bob.conn.privmsg("#lobby", "while you scroll back")
            await until(pilot, lambda: any("while you scroll back" in r for r in rows(app)))
            await pilot.pause(0.2)
            assert lobby.unread == 1

            await pilot.press("pagedown", "pagedown")
            await until(pilot, lambda: log.scroll_y == log.max_scroll_y)
            await until(pilot, lambda: lobby.unread == 0)
            bob.close()

    asyncio.run(scenario())
