"""Text captures of the terminal app, as a person sees it, at any width.

``python -m tests.tui.capture`` (from the repository root, with the project installed or
``PYTHONPATH=src``) writes ``docs/tui-50.txt`` and ``docs/tui-120.txt``; the test next
to it takes the same captures and checks them. Each capture is the real
``chatroom connect`` in a private tmux server, against a real server on a free port: bob
set the topic and spoke before tina arrived (the "earlier messages"), then bob and carol
talk, one long message among them, and carol writes to tina privately.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from tests.realserver import Client, ServerThread, make_config
from tests.tui.test_tui_in_tmux import TMUX

__all__ = ["capture", "main"]

HEIGHT = 24
LONG = (
    "the release notes are up: history now fills in after a dropped connection, the "
    "terminal client re-wraps when you resize it, and passwords can live in the keyring"
)


class _Tmux:
    def __init__(self, name: str) -> None:
        self.socket = f"chatroom-capture-{name}-{os.getpid()}"

    def __call__(self, *args: str) -> str:
        done = subprocess.run(
            [TMUX, "-L", self.socket, *args], capture_output=True, text=True, check=True
        )
        return done.stdout

    def screen(self) -> str:
        return self("capture-pane", "-p", "-t", "app")

    def wait(self, check: Callable[[str], bool], timeout: float = 20) -> str:
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen()
            if check(screen):
                return screen
            time.sleep(0.2)
        raise AssertionError(f"the terminal never showed what we waited for:\n{screen}")

    def kill(self) -> None:
        subprocess.run([TMUX, "-L", self.socket, "kill-server"], capture_output=True, check=False)


def capture(width: int, workdir: Path) -> str:
    """The screen of ``chatroom connect`` at ``width`` columns, once the talk is shown."""
    server = ServerThread(make_config(workdir)).start()
    tmux = _Tmux(str(width))
    bob = Client(server.port, "bob")
    carol = Client(server.port, "carol")
    try:
        for who in (bob, carol):
            who.wait_type("welcome")
            who.conn.join("#lobby")
            who.wait_type("join")
        bob.conn.privmsg("#lobby", "morning all")
        carol.wait_for(lambda e: e.type == "pubmsg" and e.arguments == ["morning all"])
        carol.conn.privmsg("#lobby", "morning bob")
        bob.wait_for(lambda e: e.type == "pubmsg" and e.arguments == ["morning bob"])

        src = Path(__file__).resolve().parents[2] / "src"
        # COLUMNS and LINES (set in a test run) would override the terminal's real size.
        env = (
            f"env -u COLUMNS -u LINES PYTHONPATH={src} "
            f"CHATROOM_CLIENT_CONFIG_DIR={workdir / 'cfg'} "
            "PYTHON_KEYRING_BACKEND=keyring.backends.fail.Keyring TERM=xterm-256color"
        )
        command = (
            f"{env} {sys.executable} -m chatroom connect 127.0.0.1:{server.port} --no-tls "
            "--nick tina"
        )
        tmux("new-session", "-d", "-s", "app", "-x", str(width), "-y", str(HEIGHT), command)
        tmux.wait(lambda s: "Password" in s)
        tmux("send-keys", "-t", "app", "Enter")
        tmux.wait(lambda s: "You joined #lobby" in s)
        bob.conn.privmsg("#lobby", "hi tina, welcome!")
        bob.conn.privmsg("#lobby", LONG)
        carol.conn.action("#lobby", "waves")
        carol.conn.privmsg("tina", "psst, see you in #den later?")
        tmux.wait(lambda s: "waves" in s and "carol" in s)
        time.sleep(1)  # let the last redraw land
        return tmux.screen()
    finally:
        bob.close()
        carol.close()
        tmux.kill()
        server.stop()


def main() -> None:
    docs = Path(__file__).resolve().parents[2] / "docs"
    for width in (50, 120):
        with tempfile.TemporaryDirectory() as workdir:
            screen = capture(width, Path(workdir))
        lines = [line.rstrip() for line in screen.splitlines()]
        (docs / f"tui-{width}.txt").write_text("\n".join(lines).rstrip("\n") + "\n", "utf-8")
        print(f"wrote docs/tui-{width}.txt")


if __name__ == "__main__":
    main()
