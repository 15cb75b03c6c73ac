"""A block pasted into the terminal app running in a real terminal (tmux)."""

from __future__ import annotations

import sys
from pathlib import Path

from tests.realserver import Client, ServerThread
from tests.tui.test_plain_in_tmux import Tmux


def test_a_block_pasted_in_a_real_terminal_opens_the_editor_and_ctrl_s_sends_it(
    server: ServerThread, tmp_path: Path
) -> None:
    """tmux pastes as a terminal does (bracketed paste, which Textual asks for): the
    editor shows the lines, and Ctrl+S (flow control must not swallow it) sends them."""
    tmux = Tmux()
    env = f"CHATROOM_CLIENT_CONFIG_DIR={tmp_path / 'cfg'} TERM=xterm-256color"
    command = f"{env} {sys.executable} -m chatroom connect 127.0.0.1:{server.port} --no-tls"
    bob = Client(server.port, "bob")
    bob.wait_type("welcome")
    bob.conn.join("#lobby")
    bob.wait_type("join")
    tmux.start(110, 30, f"{command} --nick tina")
    try:
        tmux.wait_screen(lambda s: "Log in to" in s and "Password" in s)
        tmux("send-keys", "-t", "app", "Enter")
        tmux.wait_screen(lambda s: "You joined #lobby" in s)
        tmux("set-buffer", "-b", "block", "first pasted line\n  second, indented\n")
        tmux("paste-buffer", "-p", "-b", "block", "-t", "app")
        tmux.wait_screen(lambda s: "2 lines to #lobby" in s and "second, indented" in s)
        tmux("send-keys", "-t", "app", "C-s")
        bob.wait_for(lambda e: e.type == "pubmsg" and e.arguments == ["  second, indented"])
        said = [e.arguments[0] for e in bob.events if e.type == "pubmsg"]
        assert said == ["first pasted line", "  second, indented"]
    finally:
        bob.close()
        tmux.kill()
