"""The terminal app driven by Textual's Pilot against a real ChatRoom server.

One user story per test, as a person would live it: add a server, accept its certificate,
create an account, chat with someone using another IRC client, get kicked, reconnect.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import Checkbox, Input

from chatroom import config as cfg
from chatroom.client.servers import SavedServer, ServerStore
from chatroom.tui.app import ChatApp
from chatroom.tui.screens.chat import ChatScreen
from chatroom.tui.screens.login import LoginScreen, TrustScreen
from chatroom.tui.screens.servers import ServerForm, ServersScreen
from chatroom.tui.widgets import MessageLog
from tests.realserver import Client, ServerThread
from tests.web.web_support import LineClient

PASSWORD = "correct-horse-battery"


async def until(pilot: Pilot[None], check: Callable[[], object], timeout: float = 10) -> None:
    """Let the app run until ``check()`` is true; fail with a clear message otherwise."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not check():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {check}")
        await pilot.pause(0.05)


def log_text(app: ChatApp) -> str:
    """The text of the log shown ("" while the chat screen is still being put together)."""
    logs = app.screen.query("#log").results(MessageLog)
    log = next(logs, None)
    if log is None:
        return ""
    return "\n".join("".join(seg.text for seg in strip) for strip in log.lines)


async def log_in(pilot: Pilot[None], nick: str, password: str, create: bool) -> None:
    await until(pilot, lambda: isinstance(pilot.app.screen, LoginScreen))
    screen = pilot.app.screen
    await until(pilot, lambda: bool(screen.query("#password")))
    screen.query_one("#nick", Input).value = nick
    screen.query_one("#password", Input).value = password
    screen.query_one("#create", Checkbox).value = create
    await pilot.click("#connect")


def test_add_server_accept_certificate_create_account_and_chat(
    server: ServerThread, tmp_path: Path
) -> None:
    store = ServerStore(tmp_path / "cfg")
    app = ChatApp(store)

    async def scenario() -> None:
        async with app.run_test(size=(110, 32)) as pilot:
            assert isinstance(app.screen, ServersScreen)
            await pilot.press("a")
            await until(pilot, lambda: isinstance(app.screen, ServerForm))
            form = app.screen
            form.query_one("#name", Input).value = "local"
            form.query_one("#host", Input).value = "127.0.0.1"
            form.query_one("#port", Input).value = str(server.tls_port)
            form.query_one("#nick", Input).value = "alice"
            await pilot.click("#save")
            await until(pilot, lambda: isinstance(app.screen, ServersScreen))
            assert ServerStore(tmp_path / "cfg").get("local") is not None
            await pilot.press("enter")
            await until(pilot, lambda: isinstance(app.screen, LoginScreen))
            await log_in(pilot, "alice", PASSWORD, create=True)
            await until(pilot, lambda: isinstance(app.screen, TrustScreen))
            await pilot.press("y")
            await until(pilot, lambda: isinstance(app.screen, ChatScreen))
            pinned = ServerStore(tmp_path / "cfg").get("local")
            assert pinned is not None
            assert len(pinned.fingerprint) == 64
            assert app.session is not None
            await until(pilot, lambda: app.session is not None and app.session.account == "alice")
            await until(pilot, lambda: "You joined #lobby" in log_text(app))

            bob = Client(server.port, "bob")
            bob.wait_type("welcome")
            bob.conn.join("#lobby")
            bob.wait_type("join")
            await until(pilot, lambda: "bob" in str(app.session and app.session.buffers["#lobby"]))
            bob.conn.privmsg("#lobby", "hi alice, welcome")
            await until(pilot, lambda: "hi alice, welcome" in log_text(app))

            await pilot.press(*"hello bob", "enter")
            bob.wait_for(lambda e: e.type == "pubmsg" and e.arguments == ["hello bob"])
            bob.close()

    asyncio.run(scenario())


def test_wrong_password_is_explained_on_the_login_screen(
    server: ServerThread, tmp_path: Path
) -> None:
    store = ServerStore(tmp_path / "cfg")
    local = SavedServer("local", "127.0.0.1", server.tls_port, True, "carol")
    store.put(local)
    app = ChatApp(store, local, accept_new_cert=True)

    async def scenario() -> None:
        async with app.run_test(size=(110, 32)) as pilot:
            await log_in(pilot, "carol", PASSWORD, create=True)
            await until(pilot, lambda: isinstance(app.screen, ChatScreen))
            app.stop_session()
            app.push_screen(LoginScreen(store, local))
            await until(pilot, lambda: isinstance(app.screen, LoginScreen))
            await log_in(pilot, "carol", "not-the-password", create=False)
            status = app.screen.query_one("#status")
            await until(pilot, lambda: "Wrong password" in str(status.render()))

    asyncio.run(scenario())


def test_kicked_user_sees_why_and_reconnects_after_losing_the_connection(
    server: ServerThread, tmp_path: Path
) -> None:
    store = ServerStore(tmp_path / "cfg")
    local = SavedServer("local", "127.0.0.1", server.port, False, "dave")
    app = ChatApp(store, local)

    async def scenario() -> None:
        async with app.run_test(size=(110, 32)) as pilot:
            op = Client(server.port, "opal")
            op.wait_type("welcome")
            op.conn.join("#den")  # the first in a new room is its operator
            op.wait_type("join")

            await log_in(pilot, "dave", "", create=False)
            await until(pilot, lambda: isinstance(app.screen, ChatScreen))
            await pilot.press(*"/join #den", "enter")
            session = app.session
            assert session is not None
            await until(pilot, lambda: "#den" in session.buffers and session.buffers["#den"].joined)
            assert ("opal", "@") in session.buffers["#den"].members.values()

            op.conn.kick("#den", "dave", "no spam please")
            await until(pilot, lambda: not session.buffers["#den"].joined)
            assert session.active == "#den"
            assert "You were kicked from #den by opal: no spam please" in log_text(app)

            # The server drops the connection: the app reconnects and rejoins #lobby.
            shell = server.shell
            assert shell is not None
            assert server._loop is not None
            conns = list(shell.connections.values())
            for conn in conns:
                server._loop.call_soon_threadsafe(conn.abort)
            await until(pilot, lambda: not session.registered, timeout=5)
            await until(pilot, lambda: session.registered, timeout=15)
            await until(pilot, lambda: session.buffers["#lobby"].joined)
            op.close()

    asyncio.run(scenario())


def test_after_a_dropped_connection_the_room_shows_what_was_said_meanwhile_in_order_once(
    tmp_path: Path,
) -> None:
    """dave's connection drops; while he is away tess says 70 lines in #lobby (more than one
    page of history). Back online, the app fills the gap with ``CHATHISTORY AFTER``, page by
    page: every missed line once, in order, between what he saw before and after."""
    flags: dict[str, object] = {
        "listen.port": 0,
        "listen.http_port": "off",
        "listen.tls_port": "off",
        "server.data_dir": str(tmp_path / "data"),
        "limits.flood_per_second": 0,  # tess says her 70 lines at once
    }
    server = ServerThread(cfg.load(env={}, flags=flags)).start()
    store = ServerStore(tmp_path / "cfg")
    app = ChatApp(store, SavedServer("local", "127.0.0.1", server.port, False, "dave"))

    async def scenario() -> None:
        async with app.run_test(size=(110, 40)) as pilot:
            tess = Client(server.port, "tess")
            tess.wait_type("welcome")
            tess.conn.join("#lobby")
            tess.wait_type("join")
            await log_in(pilot, "dave", "", create=False)
            await until(pilot, lambda: isinstance(app.screen, ChatScreen))
            session = app.session
            assert session is not None
            await until(pilot, lambda: session.buffers["#lobby"].joined)
            tess.conn.privmsg("#lobby", "before the drop")
            await until(pilot, lambda: "before the drop" in log_text(app))

            shell, loop = server.shell, server.loop
            assert shell is not None
            assert loop is not None
            for conn in list(shell.connections.values()):
                if conn.session is not None and conn.session.nick == "dave":
                    loop.call_soon_threadsafe(conn.abort)
            await until(pilot, lambda: not session.registered, timeout=5)
            away = [f"missed line {n:02d}" for n in range(1, 71)]
            for text in away:
                tess.conn.privmsg("#lobby", text)
            tess.conn.ping("synced")
            tess.wait_type("pong")

            await until(pilot, lambda: session.registered, timeout=15)
            await until(pilot, lambda: "missed line 01" in log_text(app), timeout=15)
            tess.conn.privmsg("#lobby", "welcome back")
            await until(pilot, lambda: "welcome back" in log_text(app))
            text = log_text(app)
            said = ["before the drop", *away, "welcome back"]
            assert [text.count(line) for line in said] == [1] * len(said)
            places = [text.index(line) for line in said]
            assert places == sorted(places)
            tess.close()

    try:
        asyncio.run(scenario())
    finally:
        server.stop()


def test_a_multiline_message_is_shown_as_one_message(server: ServerThread, tmp_path: Path) -> None:
    """Someone pastes three lines as one draft/multiline message: the app shows one entry,
    the nick once and the later lines under the first."""
    store = ServerStore(tmp_path / "cfg")
    app = ChatApp(store, SavedServer("local", "127.0.0.1", server.port, False, "erin"))

    async def scenario() -> None:
        async with app.run_test(size=(110, 32)) as pilot:
            await log_in(pilot, "erin", "", create=False)
            await until(pilot, lambda: isinstance(app.screen, ChatScreen))
            session = app.session
            assert session is not None
            await until(pilot, lambda: session.buffers["#lobby"].joined)
            assert "draft/multiline" in session.caps
            paster = LineClient(server.port, "paster", caps="draft/multiline batch")
            paster.send("JOIN #lobby")
            paster.wait_for(lambda line: " 366 paster #lobby " in line)
            paster.send(
                "BATCH +p draft/multiline #lobby",
                "@batch=p PRIVMSG #lobby :def main():",
                "@batch=p PRIVMSG #lobby :    return 42",
                "@batch=p PRIVMSG #lobby :# the end",
                "BATCH -p",
            )
            await until(pilot, lambda: "# the end" in log_text(app))
            entries = [s for s in session.logs["#lobby"] if s.nick == "paster" and s.text]
            assert [s.text for s in entries if "main" in s.text] == [
                "def main():\n    return 42\n# the end"
            ]
            lines = log_text(app).splitlines()
            first = next(i for i, line in enumerate(lines) if "def main():" in line)
            assert "<paster>" in lines[first]
            assert lines[first + 1].strip() == "return 42"
            assert "<paster>" not in lines[first + 1] + lines[first + 2]
            assert lines[first + 2].index("# the end") == lines[first].index("def main():")
            paster.close()

    asyncio.run(scenario())
