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
from collections.abc import Callable
from pathlib import Path

from tests.realserver import Client, ServerThread

TMUX = shutil.which("tmux") or "/usr/bin/tmux"
# `make test` installs tmux; without it the test fails (it must not silently skip).


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


def test_a_nickname_tab_password_typed_in_one_burst_lands_in_the_two_fields(
    server: ServerThread, tmp_path: Path
) -> None:
    """A password manager types "name<Tab>password" faster than the app reads: the keys
    after the Tab go to the password field, not on the end of the nickname (which the
    server would show to the whole room)."""
    socket_name = f"chatroom-burst-{os.getpid()}"

    def tmux(*args: str) -> str:
        done = subprocess.run(
            [TMUX, "-L", socket_name, *args], capture_output=True, text=True, check=True
        )
        return done.stdout

    def field(screen: str, label: str) -> str:
        """The text in the input box under ``label`` ("" while the box is not drawn yet:
        a capture can catch the form half-painted on a busy machine)."""
        lines = screen.splitlines()
        start = next((i for i, line in enumerate(lines) if label in line), len(lines))
        boxes = (line for line in lines[start + 1 :] if "▊  " in line)
        return next(boxes, "▊  ").split("▊  ")[1]

    env = f"CHATROOM_CLIENT_CONFIG_DIR={tmp_path / 'cfg'} TERM=xterm-256color"
    command = f"{env} {sys.executable} -m chatroom connect 127.0.0.1:{server.port} --no-tls"
    tmux("new-session", "-d", "-s", "app", "-x", "110", "-y", "30", command)
    try:
        deadline = time.monotonic() + 15
        screen = ""
        while "Nickname" not in screen or "Password" not in screen:
            assert time.monotonic() < deadline, screen
            time.sleep(0.2)
            screen = tmux("capture-pane", "-p", "-t", "app")
        tmux("send-keys", "-t", "app", "tina", "Tab", "hunter2-secret")
        deadline = time.monotonic() + 15
        while "•" * 14 not in field(screen, "Password"):
            assert time.monotonic() < deadline, screen
            time.sleep(0.2)
            screen = tmux("capture-pane", "-p", "-t", "app")
        assert field(screen, "Nickname").split()[0] == "tina"
        assert "hunter2" not in screen
    finally:
        subprocess.run([TMUX, "-L", socket_name, "kill-server"], capture_output=True, check=False)
