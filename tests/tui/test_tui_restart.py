"""A server restart as the terminal app shows it: everyone is dropped and comes back, so
no "quit (Server shutting down)" and no "joined" line per room-mate, as in the web
client; what was said after the restart is shown as always.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

from chatroom.client.servers import SavedServer, ServerStore
from chatroom.tui.app import ChatApp
from chatroom.tui.screens.chat import ChatScreen
from tests.realserver import ServerThread, make_config
from tests.tui.test_tui_pilot import PASSWORD, log_in, log_text, until
from tests.web.web_support import LineClient


def _in_lobby(port: int, nick: str) -> LineClient:
    person = LineClient(port, nick)
    person.send("JOIN #lobby")
    person.wait_for(lambda line: f" 366 {nick} #lobby " in line)
    return person


def test_room_mates_back_from_a_server_restart_are_not_shown_leaving_and_joining(
    tmp_path: Path,
) -> None:
    config = make_config(tmp_path)
    server = ServerThread(config).start()
    bob = _in_lobby(server.port, "bob")
    store = ServerStore(tmp_path / "cfg")
    app = ChatApp(store, SavedServer("local", "127.0.0.1", server.port, False, "wendy"))

    async def scenario() -> None:
        nonlocal server, bob
        async with app.run_test(size=(120, 30)) as pilot:
            await log_in(pilot, "wendy", PASSWORD, create=True)
            await until(pilot, lambda: isinstance(app.screen, ChatScreen))
            await until(pilot, lambda: "You joined #lobby" in log_text(app))
            bob.send("PRIVMSG #lobby :before the restart")
            await until(pilot, lambda: "before the restart" in log_text(app))
            session = app.session
            assert session is not None

            port = server.port
            server.stop()  # records everyone's QUIT in #lobby's history, tells nobody
            bob.sock.close()
            await until(pilot, lambda: not session.registered, timeout=5)
            server = ServerThread(replace(config, listen=replace(config.listen, port=port)))
            server.start()
            bob = _in_lobby(port, "bob")  # back first: the app sees no live JOIN of his,
            bob.send("PRIVMSG #lobby :while you were reconnecting")  # only history
            await until(pilot, lambda: session.registered, timeout=20)
            await until(pilot, lambda: "while you were reconnecting" in log_text(app), 10)
            bob.send("PRIVMSG #lobby :after the restart")
            await until(pilot, lambda: "after the restart" in log_text(app))

            since = log_text(app).split("before the restart", 1)[1]
            assert "Server shutting down" not in since, since
            assert "bob joined" not in since, since
            assert "bob quit" not in since, since
            assert since.count("while you were reconnecting") == 1, since

    try:
        asyncio.run(scenario())
    finally:
        bob.sock.close()
        server.stop()
