"""The real terminal app in a real terminal (tmux): it starts, logs in, and shows messages.

Pilot runs the app headless; this test proves the installed command works in a terminal,
with its own tmux server (``-L``) so it never touches anyone's sessions.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.realserver import Client, ServerThread, make_config

TMUX = shutil.which("tmux") or "/usr/bin/tmux"
# `make test` installs tmux; without it the test fails (it must not silently skip).


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerThread]:
    running = ServerThread(make_config(tmp_path)).start()
    yield running
    running.stop()


def test_terminal_app_logs_in_and_shows_messages(server: ServerThread, tmp_path: Path) -> None:
    socket_name = f"chatroom-test-{os.getpid()}"

    def tmux(*args: str) -> str:
        done = subprocess.run(
            [TMUX, "-L", socket_name, *args], capture_output=True, text=True, check=True
        )
        return done.stdout

    def wait_screen(check: Callable[[str], bool], timeout: float = 15) -> str:
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = tmux("capture-pane", "-p", "-t", "app")
            if check(screen):
                return screen
            time.sleep(0.2)
        raise AssertionError(f"the terminal never showed what we waited for:\n{screen}")

    env = f"CHATROOM_CLIENT_CONFIG_DIR={tmp_path / 'cfg'} TERM=xterm-256color"
    command = f"{env} {sys.executable} -m chatroom connect 127.0.0.1:{server.port} --no-tls"
    tmux("new-session", "-d", "-s", "app", "-x", "110", "-y", "30", f"{command} --nick tina")
    try:
        wait_screen(lambda s: "Log in to" in s and "Password" in s)
        tmux("send-keys", "-t", "app", "Enter")
        wait_screen(lambda s: "You joined #lobby" in s)
        bob = Client(server.port, "bob")
        bob.wait_type("welcome")
        bob.conn.join("#lobby")
        bob.wait_type("join")
        bob.conn.privmsg("#lobby", "hello from tmux")
        screen = wait_screen(lambda s: "hello from tmux" in s)
        assert "<bob>" in screen
        assert "tina" in screen  # in the member list
        tmux("send-keys", "-t", "app", "-l", "hi bob")
        tmux("send-keys", "-t", "app", "Enter")
        bob.wait_for(lambda e: e.type == "pubmsg" and e.arguments == ["hi bob"])
        bob.close()
    finally:
        subprocess.run([TMUX, "-L", socket_name, "kill-server"], capture_output=True, check=False)
