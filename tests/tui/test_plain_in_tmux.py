"""``chatroom connect --plain`` in a real terminal (tmux) with another user's hostile text.

An escape sequence in a message must reach the screen as visible text, not as a command:
the pane's title stays, and what was on the screen before is still there.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from chatroom.client.timeline import DayBreak
from tests.realserver import Client, ServerThread
from tests.tui.test_tui_in_tmux import TMUX
from tests.web.history_seed import noon, seed_history
from tests.web.web_support import web_config


class Tmux:
    """One private tmux server (``-L``), so the test never touches anyone's sessions."""

    def __init__(self) -> None:
        self.socket = f"chatroom-plain-{os.getpid()}"

    def __call__(self, *args: str) -> str:
        done = subprocess.run(
            [TMUX, "-L", self.socket, *args], capture_output=True, text=True, check=True
        )
        return done.stdout

    def start(self, width: int, height: int, command: str) -> None:
        """Opens the pane "app" of that size, running the shell command."""
        self("new-session", "-d", "-s", "app", "-x", str(width), "-y", str(height), command)

    def screen(self) -> str:
        return self("capture-pane", "-p", "-t", "app")

    def title(self) -> str:
        return self("display-message", "-p", "-t", "app", "#{pane_title}").strip()

    def wait_screen(self, check: Callable[[str], bool], timeout: float = 15) -> str:
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


def plain_client(port: int, cfg_dir: Path, *, tls: bool = False) -> str:
    """The shell command that runs ``chatroom connect --plain`` as the guest tina, with
    its own client settings folder and no password asked."""
    env = f"CHATROOM_CLIENT_CONFIG_DIR={cfg_dir} CHATROOM_PASSWORD= TERM=xterm-256color"
    plain = "" if tls else " --no-tls"
    client = f"{sys.executable} -m chatroom connect 127.0.0.1:{port}{plain} --plain --nick tina"
    return f"{env} exec {client}"


HOSTILE = [
    "\x1b]0;pwned-title\x07",  # OSC 0: set the window title
    "\x1b]2;pwned-title\x1b\\",  # OSC 2 ended by ST
    "\x1b[2J\x1b[H",  # clear the screen, cursor home
    "\x1b[31mred\x1b[0m \x9b2J",  # SGR colour; C1 CSI
    "over\x08\x08\x08\x08write",  # backspaces: the rest overwrites what came before
    "\x02bold\x02 \x0304red\x03",  # IRC formatting: removed cleanly
]


def test_plain_client_shows_escape_codes_from_others_instead_of_obeying_them(
    server: ServerThread, tmp_path: Path
) -> None:
    tmux = Tmux()
    command = f"printf 'BEFORE-THE-CHAT\\n'; {plain_client(server.port, tmp_path / 'cfg')}"
    tmux.start(150, 30, command)
    try:
        tmux("select-pane", "-t", "app", "-T", "my-own-title")
        assert tmux.title() == "my-own-title"
        tmux.wait_screen(lambda s: "joined #lobby" in s)
        bob = Client(server.port, "bob")
        bob.wait_type("welcome")
        bob.conn.join("#lobby")
        bob.wait_type("join")
        for text in HOSTILE:
            bob.conn.privmsg("#lobby", text)
        bob.conn.privmsg("#lobby", "the end")
        screen = tmux.wait_screen(lambda s: "the end" in s)
        bob.close()

        assert tmux.title() == "my-own-title"
        assert "BEFORE-THE-CHAT" in screen  # not cleared
        assert "<bob> ␛]0;pwned-title␇" in screen
        assert "<bob> ␛]2;pwned-title␛\\" in screen
        assert "<bob> ␛[2J␛[H" in screen
        assert "<bob> ␛[31mred␛[0m ␛[2J" in screen
        assert "<bob> over␈␈␈␈write" in screen
        assert "<bob> bold red" in screen
    finally:
        tmux.kill()


def test_plain_client_reads_the_certificate_answer_and_the_chat_from_one_reader(
    server: ServerThread, tmp_path: Path
) -> None:
    """The certificate question and the chat read the same terminal. The ``y`` typed at the
    question accepts the certificate (it used to become a chat message while the question
    waited for another line), an answer that is neither yes nor no is asked again, and what
    is typed afterwards goes to the chat, not to the question."""
    tmux = Tmux()
    cfg_dir = tmp_path / "cfg"
    tmux.start(150, 40, plain_client(server.tls_port, cfg_dir, tls=True))
    bob = Client(server.port, "bob")
    try:
        bob.wait_type("welcome")
        bob.conn.join("#den")
        bob.wait_type("join")
        tmux.wait_screen(lambda s: "[y/N]" in s)
        tmux("send-keys", "-t", "app", "-l", "/join #den")
        tmux("send-keys", "-t", "app", "Enter")
        tmux.wait_screen(lambda s: "Please type y" in s)
        tmux("send-keys", "-t", "app", "y", "Enter")
        tmux.wait_screen(lambda s: "joined #lobby" in s)
        tmux("send-keys", "-t", "app", "-l", "/join #den")
        tmux("send-keys", "-t", "app", "Enter")
        tmux.wait_screen(lambda s: "joined #den" in s)
        tmux("send-keys", "-t", "app", "-l", "hello den")
        tmux("send-keys", "-t", "app", "Enter")
        bob.wait_for(lambda e: e.type == "pubmsg" and e.arguments == ["hello den"])
        screen = tmux.screen()
        assert "This is the server window" not in screen  # the "y" was not taken as chat
        said = [e.arguments[0] for e in bob.events if e.type == "pubmsg"]
        assert said == ["hello den"]
        pinned = (cfg_dir / "servers.toml").read_text(encoding="utf-8")
        assert 'fingerprint = "' in pinned
        assert 'fingerprint = ""' not in pinned
    finally:
        bob.close()
        tmux.kill()


def test_plain_help_wraps_between_words_under_its_text_in_a_narrow_terminal(
    server: ServerThread, tmp_path: Path
) -> None:
    """At 40 columns each /help entry is broken between words, its later rows indented
    under the text after ``[12:34] -- `` (as the full-screen client's help is); before,
    the terminal cut words in two and went on at the left edge."""
    tmux = Tmux()
    tmux.start(40, 100, plain_client(server.port, tmp_path / "cfg"))
    try:
        tmux.wait_screen(lambda s: "joined #lobby" in s)
        tmux("send-keys", "-t", "app", "-l", "/help")
        tmux("send-keys", "-t", "app", "Enter")
        tmux.wait_screen(lambda s: "/quit [message]" in s)
        # -J joins the rows the terminal wrapped by itself: none may be left to join.
        rows = tmux("capture-pane", "-p", "-J", "-S", "-", "-t", "app").splitlines()
        start = next(i for i, row in enumerate(rows) if "-- Commands (Tab" in row)
        shown = rows[start : next(i for i, row in enumerate(rows) if "/quit [message]" in row) + 2]
        assert all(len(row) <= 40 for row in shown), shown
        lead = len("[12:34] -- ")
        later = [row for row in shown if row and not row.startswith("[")]
        assert later, shown
        assert all(row.startswith(" " * lead) and row[lead] != " " for row in later), shown
        entry = next(i for i, row in enumerate(shown) if "-- /quote LINE" in row)
        text = " ".join(row.strip() for row in shown[entry : entry + 3])
        assert "send a line of IRC as it is (/raw too; so does any other /command)" in text
    finally:
        tmux.kill()


def test_plain_client_in_a_terminal_says_the_day_of_older_lines(tmp_path: Path) -> None:
    """#lobby's history holds lines from two days ago and yesterday: in a terminal each
    day's lines come under its date, and today's after them under today's (they showed
    only the time of day, as if everything had been said today)."""
    lines = [(noon(2), "tess", "two days ago"), (noon(1), "tess", "yesterday")]
    seed_history(tmp_path / "data", "#lobby", lines)
    server = ServerThread(web_config(tmp_path)).start()
    tmux = Tmux()
    tmux.start(100, 30, plain_client(server.port, tmp_path / "cfg"))
    try:
        tmux.wait_screen(lambda s: "<tess> yesterday" in s)
        tmux("send-keys", "-t", "app", "-l", "and today")
        tmux("send-keys", "-t", "app", "Enter")
        rows = tmux.wait_screen(lambda s: "<tina> and today" in s).splitlines()
        days = [f"-- {DayBreak(noon(n).date()).label}" for n in (2, 1, 0)]
        at = {text: next(i for i, row in enumerate(rows) if text in row) for text in days}
        said = {t: next(i for i, r in enumerate(rows) if t in r) for t in ("two days", "yester")}
        assert at[days[0]] < said["two days"] < at[days[1]] < said["yester"] < at[days[2]]
        assert at[days[2]] < next(i for i, row in enumerate(rows) if "<tina> and today" in row)
    finally:
        tmux.kill()
        server.stop()


def test_plain_client_says_it_is_back_after_a_reconnect_without_the_welcome_again(
    server: ServerThread, tmp_path: Path
) -> None:
    """In a terminal: the connection drops and the client reconnects by itself. The
    welcome and the message of the day are on the screen once (from the first
    connection); the reconnect adds one "back" line and the room rejoined."""
    tmux = Tmux()
    tmux.start(120, 40, plain_client(server.port, tmp_path / "cfg"))
    try:
        tmux.wait_screen(lambda s: "You joined #lobby" in s)
        server.drop("tina")
        screen = tmux.wait_screen(lambda s: s.count("You joined #lobby") == 2)
        assert screen.count("Welcome to the ChatRoom IRC Network") == 1, screen
        assert screen.count("Say hello in #lobby") == 1, screen  # the MOTD
        assert screen.count("chatroom: back: 127.0.0.1 again, as tina") == 1, screen
        assert screen.count("Connected to") == 1, screen
    finally:
        tmux.kill()
