"""The terminal app's /mode, /help at 60 columns, others' away status, and the
certificate question at narrow widths: Textual's Pilot against a real ChatRoom server,
with real IRC clients (the ``irc`` library) as the other people."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Static

from chatroom.client.commands import COMMANDS
from chatroom.client.servers import SavedServer, ServerStore
from chatroom.client.session import ClientSession
from chatroom.tui.app import ChatApp
from chatroom.tui.chatlog import TIME_WIDTH
from chatroom.tui.screens.chat import ChatScreen
from chatroom.tui.screens.login import TrustScreen
from chatroom.tui.widgets import MemberList
from tests.realserver import Client, ServerThread
from tests.tui.test_tui_pilot import log_in, until
from tests.tui.test_tui_resize import rows

TEXT_AT = TIME_WIDTH + len("· ")
"""Where an info line's text starts in the log (after the time and its mark)."""


async def chatting(pilot: Pilot[None]) -> ClientSession:
    """Logged in as the guest tina, in #lobby."""
    await log_in(pilot, "tina", "", create=False)
    app = pilot.app
    assert isinstance(app, ChatApp)
    await until(pilot, lambda: isinstance(app.screen, ChatScreen))
    session = app.session
    assert session is not None
    await until(pilot, lambda: "#lobby" in session.buffers and session.buffers["#lobby"].joined)
    return session


async def typed(pilot: Pilot[None], text: str) -> None:
    await pilot.press(*text, "enter")


def texts(session: ClientSession, buffer: str) -> list[str]:
    return [line.text for line in session.logs.get(session.key(buffer), [])]


def test_mode_command_changes_and_shows_modes_with_replies_in_the_rooms_window(
    server: ServerThread, tmp_path: Path
) -> None:
    """tina makes #dev (she is its operator), moderates it, bans a mask and lists the bans,
    all with /mode; the replies read as sentences in #dev's window, even when she asks
    from #lobby. In #lobby, where she is no operator, /mode +m is refused in words."""
    store = ServerStore(tmp_path / "cfg")
    app = ChatApp(store, SavedServer("local", "127.0.0.1", server.port, False, "tina"))

    async def scenario() -> None:
        async with app.run_test(size=(110, 32)) as pilot:
            s = await chatting(pilot)
            await typed(pilot, "/join #dev")
            await until(pilot, lambda: "#dev" in s.buffers and s.buffers["#dev"].joined)
            await typed(pilot, "/mode +m")
            await until(pilot, lambda: "tina sets mode +m" in texts(s, "#dev"))
            await typed(pilot, "/mode")
            await until(pilot, lambda: any(t.startswith("Modes of #dev") for t in texts(s, "#dev")))
            modes = next(t for t in texts(s, "#dev") if t.startswith("Modes of #dev"))
            assert "moderated" in modes
            assert "no messages from outside" in modes
            await typed(pilot, "/mode +b")
            await until(pilot, lambda: "The ban list of #dev is empty." in texts(s, "#dev"))
            await typed(pilot, "/mode #dev +b spam!*@*")
            await until(pilot, lambda: "tina sets mode +b spam!*@*" in texts(s, "#dev"))

            assert isinstance(app.screen, ChatScreen)
            app.screen.switch_to("#lobby")
            await typed(pilot, "/mode #dev +b")
            await until(pilot, lambda: "End of the ban list of #dev (1)." in texts(s, "#dev"))
            assert any(
                t.startswith("#dev: spam!*@* is banned (set by tina") for t in texts(s, "#dev")
            )
            await typed(pilot, "/mode +m")
            refused = "You need to be a room operator (@) in #lobby to do that."
            await until(pilot, lambda: refused in texts(s, "#lobby"))
            assert not any("ban" in t for t in texts(s, "#lobby"))

            await typed(pilot, "/mode tina +i")
            await until(pilot, lambda: "Your modes changed: +i (invisible)" in texts(s, "#lobby"))

    asyncio.run(scenario())


def test_help_reads_as_one_block_per_command_at_60_columns(
    server: ServerThread, tmp_path: Path
) -> None:
    """At 60 columns each command's help is its usage, a dash and what it does, and a
    wrapped entry goes on under its own text. It used to be a padded two-column table whose
    help text fell back under the time column, with gaps in the middle of rows."""
    store = ServerStore(tmp_path / "cfg")
    app = ChatApp(store, SavedServer("local", "127.0.0.1", server.port, False, "tina"))

    async def scenario() -> None:
        async with app.run_test(size=(60, 30)) as pilot:
            await chatting(pilot)
            await typed(pilot, "/help")
            await until(pilot, lambda: any("/quit [message]" in row for row in rows(app)))
            shown = rows(app)
            for name, cmd in COMMANDS.items():
                first = next(
                    (i for i, row in enumerate(shown) if row[TEXT_AT:].startswith(cmd.usage)),
                    None,
                )
                assert first is not None, f"/{name} does not start a row of its own"
                entry = [shown[first][TEXT_AT:]]
                for row in shown[first + 1 :]:
                    if not row.startswith(" " * TEXT_AT) or not row.strip():
                        break
                    entry.append(row[TEXT_AT:])  # wrapped: under the text, not the time
                assert " ".join(part.strip() for part in entry) == f"{cmd.usage} — {cmd.help}"
                assert all(len(row) <= 60 for row in shown[first : first + len(entry)])
                assert not any(re.search(r"\S {3,}\S", part) for part in entry), entry

    asyncio.run(scenario())


def test_members_away_are_marked_and_the_away_reply_is_shown_once(
    server: ServerThread, tmp_path: Path
) -> None:
    """bob was away before tina came; carol goes away while she is there and comes back.
    The member list marks whoever is away, as it changes; a private message to bob gets
    his away message once, not after every line."""
    bob = Client(server.port, "bob")
    carol = Client(server.port, "carol")
    store = ServerStore(tmp_path / "cfg")
    app = ChatApp(store, SavedServer("local", "127.0.0.1", server.port, False, "tina"))

    def marked() -> list[str]:
        members = app.screen.query_one("#members", MemberList)
        labels = [str(members.get_option_at_index(i).prompt) for i in range(members.option_count)]
        return sorted(label.split()[0] for label in labels if label.endswith(" away"))

    async def scenario() -> None:
        async with app.run_test(size=(120, 32)) as pilot:
            for who in (bob, carol):
                who.wait_type("welcome")
                who.conn.join("#lobby")
                who.wait_type("join")
            bob.conn.send_raw("AWAY :at lunch")
            bob.wait_type("nowaway")
            s = await chatting(pilot)
            await until(pilot, lambda: marked() == ["bob"])
            carol.conn.send_raw("AWAY :brb")
            await until(pilot, lambda: marked() == ["bob", "carol"])
            carol.conn.send_raw("AWAY")
            await until(pilot, lambda: marked() == ["bob"])

            await typed(pilot, "/query bob")
            for n in range(3):
                await typed(pilot, f"are you there? {n}")
            bob.wait_for(lambda e: e.type == "privmsg" and e.arguments == ["are you there? 2"])
            await typed(pilot, "/whois bob")  # a question asked: answered each time
            await until(pilot, lambda: any("bob is on " in t for t in texts(s, "bob")))
            await pilot.pause(0.3)
            told = [t for t in texts(s, "bob") if t == "bob is away: at lunch"]
            assert len(told) == 2  # once for the messages, once for /whois

    try:
        asyncio.run(scenario())
    finally:
        bob.close()
        carol.close()


@pytest.mark.parametrize(("width", "per_row"), [(40, 2), (60, 4), (120, 4)])
def test_certificate_fingerprint_rows_hold_whole_groups_at_every_width(
    tmp_path: Path, width: int, per_row: int
) -> None:
    """The first-connection question shows the fingerprint's eight groups in even rows,
    as many as fit: never a group cut at the dialog's edge, never one alone on a row."""
    fingerprint = "0123456789abcdef" * 4
    app = ChatApp(ServerStore(tmp_path / "cfg"))

    async def scenario() -> None:
        async with app.run_test(size=(width, 30)) as pilot:
            app.push_screen(TrustScreen("chat.example.org", 6697, fingerprint))
            await until(pilot, lambda: isinstance(app.screen, TrustScreen))
            await pilot.pause(0.2)
            shown = app.screen.query_one("#fingerprint", Static)
            lines = [
                "".join(seg.text for seg in strip).strip()
                for strip in shown.render_lines(shown.region.reset_offset)
            ]
            lines = [line for line in lines if line]
            groups = [line.split() for line in lines]
            assert all(len(row) == per_row for row in groups), lines
            assert [g for row in groups for g in row] == ["01234567", "89abcdef"] * 4

    asyncio.run(scenario())
