"""``chatroom connect --plain`` in a 60-column terminal (tmux) against a real server:
the certificate's fingerprint, /mode and its replies, and a failed login's next step."""

from __future__ import annotations

import asyncio
import io
import re
import sys
from pathlib import Path

from chatroom.client.connection import Endpoint
from chatroom.client.plain import run_plain
from chatroom.client.session import ClientSession
from tests.realserver import ServerThread
from tests.tui.test_plain_in_tmux import Tmux

PASSWORD = "correct-horse-battery"


def test_plain_fingerprint_rows_keep_whole_groups_and_mode_replies_read_as_sentences(
    server: ServerThread, tmp_path: Path
) -> None:
    """At 60 columns the first-connection fingerprint comes in two rows of four groups
    (one line of eight was cut by the terminal in the middle of a group). Then /mode: the
    room's modes, its empty ban list, a ban, and the list again, in words."""
    tmux = Tmux()
    env = f"CHATROOM_CLIENT_CONFIG_DIR={tmp_path / 'cfg'} CHATROOM_PASSWORD= TERM=xterm-256color"
    client = f"{sys.executable} -m chatroom connect 127.0.0.1:{server.tls_port} --plain --nick tina"
    tmux("new-session", "-d", "-s", "app", "-x", "60", "-y", "40", f"{env} exec {client}")
    try:
        screen = tmux.wait_screen(lambda s: "[y/N]" in s)
        rows = screen.splitlines()
        start = next(i for i, row in enumerate(rows) if "SHA-256" in row) + 1
        shown = rows[start : start + 2]
        assert all(re.fullmatch(r"  (?:[0-9a-f]{8} ){3}[0-9a-f]{8}", row) for row in shown), rows
        tmux("send-keys", "-t", "app", "y", "Enter")
        tmux.wait_screen(lambda s: "joined #lobby" in s)
        for line in ("/join #dev", "/mode", "/mode +b", "/mode +b spam!*@*", "/mode #dev +b"):
            tmux("send-keys", "-t", "app", "-l", line)
            tmux("send-keys", "-t", "app", "Enter")
            if line == "/join #dev":
                tmux.wait_screen(lambda s: "joined #dev" in s)
        tmux.wait_screen(lambda s: "End of the ban list of #dev (1)." in s)
        screen = tmux("capture-pane", "-p", "-J", "-t", "app")  # lines the terminal wrapped, whole
        screen = re.sub(r"\n {11}(?=\S)", " ", screen)  # and those the client wrapped
        assert "-- Modes of #dev: +nt (no messages from outside, only" in screen
        assert "-- The ban list of #dev is empty." in screen
        assert "-- tina sets mode +b spam!*@*" in screen
        assert "-- #dev: spam!*@* is banned (set by tina, " in screen
    finally:
        tmux.kill()


def _plain(port: int, nick: str, password: str | None, create: bool = False) -> tuple[int, str]:
    err = io.StringIO()
    status = asyncio.run(
        run_plain(
            Endpoint("127.0.0.1", port, tls=False),
            ClientSession(nick, password, create_account=create),
            stdin=io.StringIO(""),
            stdout=io.StringIO(),
            stderr=err,
        )
    )
    return status, err.getvalue()


def test_plain_failed_login_says_what_failed_and_how_to_try_again(server: ServerThread) -> None:
    """A wrong password, an unknown account and an account that already exists each end
    the line mode with what failed and the next step on the command line (before, only
    what failed, and for an invalid nick a misleading "could not connect")."""
    status, said = _plain(server.port, "alice", PASSWORD, create=True)
    assert status == 0, said

    status, said = _plain(server.port, "alice", "not-the-password")
    assert status == 1
    assert "Wrong password, or no account named alice." in said
    assert "run the same command with the right password in CHATROOM_PASSWORD" in said
    assert "Add --create-account to create the account alice" in said

    status, said = _plain(server.port, "nobody", PASSWORD)
    assert status == 1
    assert "no account named nobody" in said
    assert "--create-account to create the account nobody" in said

    status, said = _plain(server.port, "alice", PASSWORD, create=True)
    assert status == 1
    assert "An account named alice already exists" in said
    assert "run the same command without --create-account" in said

    status, said = _plain(server.port, "9lives", None)
    assert status == 1
    assert "not a valid nickname" in said
    assert "choose another name with --nick" in said
    assert "Could not connect" not in said
