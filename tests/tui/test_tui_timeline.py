"""What the log shows between lines: replays in their place, days, and "new messages".

Pilot drives the app against a scripted server (``scripted_server.py``), because these
need lines ChatRoom never sends: a replay outside a chathistory batch, lines from other
days.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

from rich.segment import Segment

from chatroom.client.servers import SavedServer, ServerStore
from chatroom.client.timeline import DayBreak
from chatroom.tui.app import ChatApp
from chatroom.tui.chatlog import MessageLog
from chatroom.tui.screens.chat import ChatScreen
from tests.tui.scripted_server import ScriptedServer
from tests.tui.test_tui_pilot import log_in, until


def rows(app: ChatApp) -> list[str]:
    log = app.screen.query_one("#log", MessageLog)
    return ["".join(seg.text for seg in strip).strip() for strip in log.lines]


def row_of(app: ChatApp, text: str) -> int:
    return next(i for i, row in enumerate(rows(app)) if text in row)


def segments_with(app: ChatApp, text: str) -> list[Segment]:
    log = app.screen.query_one("#log", MessageLog)
    return [seg for strip in log.lines for seg in strip if text in seg.text]


async def chat_on(pilot: object, scripted: ScriptedServer, tmp_path: Path) -> ChatApp:
    from textual.pilot import Pilot

    assert isinstance(pilot, Pilot)
    app = pilot.app
    assert isinstance(app, ChatApp)
    await log_in(pilot, "tina", "", create=False)
    await until(pilot, lambda: isinstance(app.screen, ChatScreen))
    session = app.session
    assert session is not None
    await until(pilot, lambda: "#lobby" in session.buffers and session.buffers["#lobby"].joined)
    return app


def test_a_replay_on_rejoin_is_shown_in_order_and_marked_as_earlier(tmp_path: Path) -> None:
    """The connection drops; on rejoining, the server replays the room's last lines
    without a chathistory batch (as servers and bouncers do for clients they think
    cannot ask). They used to land under the newer lines as if just said; now they take
    their place by time, dim, under an "earlier messages" heading, and count as read."""
    store = ServerStore(tmp_path / "cfg")

    async def scenario() -> None:
        async with ScriptedServer() as scripted:
            server = SavedServer("local", "127.0.0.1", scripted.port, False, "tina")
            app = ChatApp(store, server)
            async with app.run_test(size=(100, 30)) as pilot:
                await chat_on(pilot, scripted, tmp_path)
                session = app.session
                assert session is not None
                seen = datetime.now(UTC)
                scripted.say("bob", "#lobby", "seen before the drop", seen, "m1")
                await until(pilot, lambda: any("seen before the drop" in r for r in rows(app)))

                scripted.drop()
                await until(pilot, lambda: not session.registered, timeout=5)
                missed = datetime.now(UTC)
                await until(pilot, lambda: scripted.joins == 2, timeout=15)
                await until(pilot, lambda: session.buffers["#lobby"].joined)
                scripted.say("bob", "#lobby", "said after the rejoin", datetime.now(UTC), "m4")
                # The replay: one line already shown (same msgid), two said during the drop.
                scripted.say("bob", "#lobby", "seen before the drop", seen, "m1")
                scripted.say("bob", "#lobby", "missed one", missed, "m2")
                scripted.say(
                    "bob", "#lobby", "missed two", missed + timedelta(milliseconds=1), "m3"
                )
                await until(pilot, lambda: any("missed two" in r for r in rows(app)))

                said = ["seen before the drop", "missed one", "missed two", "said after the"]
                places = [row_of(app, text) for text in said]
                assert places == sorted(places)
                assert sum("seen before the drop" in r for r in rows(app)) == 1
                heading = row_of(app, "earlier messages")
                assert places[0] < heading < places[1]
                assert all(seg.style and seg.style.dim for seg in segments_with(app, "missed"))
                assert not any(seg.style and seg.style.dim for seg in segments_with(app, "said "))
                assert session.buffers["#lobby"].unread == 0

    asyncio.run(scenario())


def test_days_are_separated_and_a_new_messages_line_marks_what_was_unread(
    tmp_path: Path,
) -> None:
    """Lines from three days ago, yesterday and today get a separator before each day.
    tina reads #den, goes to #lobby while bob writes in #den, and comes back: a "new
    messages" line sits between what she had read and what she had not."""
    today = datetime.now().astimezone().replace(hour=12, minute=0, second=0, microsecond=0)
    store = ServerStore(tmp_path / "cfg")

    async def scenario() -> None:
        async with ScriptedServer() as scripted:
            server = SavedServer("local", "127.0.0.1", scripted.port, False, "tina")
            app = ChatApp(store, server)
            async with app.run_test(size=(100, 30)) as pilot:
                await chat_on(pilot, scripted, tmp_path)
                session = app.session
                assert session is not None
                await pilot.press(*"/join #den", "enter")
                await until(pilot, lambda: session.active == "#den")
                scripted.say("bob", "#den", "three days ago", today - timedelta(days=3))
                scripted.say("bob", "#den", "yesterday", today - timedelta(days=1))
                scripted.say("bob", "#den", "read already", datetime.now(UTC))
                await until(pilot, lambda: any("read already" in r for r in rows(app)))
                days = [DayBreak((today - timedelta(days=n)).date()).label for n in (3, 1, 0)]
                assert [row_of(app, d) for d in days] == sorted(row_of(app, d) for d in days)
                assert row_of(app, days[0]) < row_of(app, "three days ago") < row_of(app, days[1])
                assert row_of(app, days[1]) < row_of(app, "yesterday") < row_of(app, days[2])
                assert not any("new messages" in r for r in rows(app))

                await pilot.press("ctrl+p")
                await until(pilot, lambda: session.active == "#lobby")
                later = datetime.now(UTC) + timedelta(seconds=1)
                scripted.say("bob", "#den", "unread one", later)
                scripted.say("bob", "#den", "unread two", later + timedelta(seconds=1))
                await until(pilot, lambda: session.buffers["#den"].unread == 2)
                await pilot.press("ctrl+n")
                await until(pilot, lambda: session.active == "#den")
                await until(pilot, lambda: any("unread two" in r for r in rows(app)))
                marker = row_of(app, "new messages")
                assert row_of(app, "read already") < marker < row_of(app, "unread one")
                assert sum("new messages" in r for r in rows(app)) == 1

                await pilot.press("ctrl+p")
                await pilot.press("ctrl+n")
                await until(pilot, lambda: session.active == "#den")
                assert not any("new messages" in r for r in rows(app))

    asyncio.run(scenario())
