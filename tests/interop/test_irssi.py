"""The real Irssi (Debian's package) in tmux, set up exactly as docs/clients.md says: TLS
with the self-signed certificate pinned in colon form, SASL PLAIN, ``#lobby`` joined on
connect; it chats with an ``irc``-library peer both ways and in private.

Lines are typed with ``send-keys`` and the screen read with ``capture-pane``, in a tmux
server of the test's own (``-L``); Irssi's rawlog keeps what went over the wire for the
protocol checks (``/rawlog save``). Each test has its own Irssi home and server.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.interop.conftest import PASSWORD
from tests.interop.setups import (
    Served,
    documented_blocks,
    filled,
    pinned_instead,
    wait_until,
    whois_round_trip,
)
from tests.realserver import Client

IRSSI = "/usr/bin/irssi"  # `make test` installs it (Debian's irssi)
TMUX = shutil.which("tmux") or "/usr/bin/tmux"


class Irssi:
    """Irssi in a private tmux server, with its own home directory; killed at the end."""

    def __init__(self, home: Path) -> None:
        self.home = home
        home.mkdir()
        self.socket = f"chatroom-interop-{os.getpid()}-{id(self)}"
        command = f"exec {IRSSI} --home={home}"
        self.tmux("new-session", "-d", "-s", "irc", "-x", "200", "-y", "50", command)
        try:
            wait_until(lambda: "Irssi v" in self.screen(), self.screen)
            self.type("/set rawlog_lines 5000")  # the whole conversation, for ``wire``
        except BaseException:
            self.stop()
            raise

    def tmux(self, *args: str) -> str:
        done = subprocess.run(
            [TMUX, "-L", self.socket, *args], capture_output=True, text=True, check=True
        )
        return done.stdout

    def type(self, line: str) -> None:
        self.tmux("send-keys", "-t", "irc", "-l", line)
        self.tmux("send-keys", "-t", "irc", "Enter")

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-J", "-t", "irc")

    def wire(self) -> list[str]:
        """What Irssi sent (``<<``) and received (``>>``) on this connection so far."""
        saved = self.home / f"raw-{len(list(self.home.glob('raw-*')))}.log"
        self.type(f"/rawlog save {saved}")
        wait_until(saved.exists, self.screen)
        return saved.read_text(encoding="utf-8", errors="replace").splitlines()

    def running(self) -> bool:
        done = subprocess.run(
            [TMUX, "-L", self.socket, "has-session", "-t", "irc"], check=False, capture_output=True
        )
        return done.returncode == 0

    def stop(self) -> None:
        """Kill the tmux server and remove its socket file (tmux leaves it behind)."""
        subprocess.run([TMUX, "-L", self.socket, "kill-server"], capture_output=True, check=False)
        sockets = Path(os.environ.get("TMUX_TMPDIR", "/tmp")) / f"tmux-{os.getuid()}"
        (sockets / self.socket).unlink(missing_ok=True)


@pytest.fixture
def irssi(tmp_path: Path) -> Iterator[Irssi]:
    program = Irssi(tmp_path / "irssi")
    yield program
    program.stop()


def _setup(served: Served, colons: str | None = None) -> list[str]:
    (block,) = documented_blocks("Irssi (1.2 and later)")
    return pinned_instead(filled(block, served, "bob", PASSWORD), served.colons, colons)


def test_irssi_set_up_as_documented_chats_over_pinned_tls_with_sasl(
    served: Served, peer: Client, irssi: Irssi
) -> None:
    for line in _setup(served):
        irssi.type(line)
    joined = peer.wait_for(lambda e: e.type == "join" and e.source.nick != "dave", timeout=30)
    assert joined.source.nick == "bob"  # the documented -nick, not the login name

    whois = "\n".join(whois_round_trip(peer, "bob"))
    assert " 330 dave bob bob " in whois  # logged in (SASL) as bob
    assert " 671 dave bob " in whois  # over TLS

    irssi.type("/window goto #lobby")
    peer.conn.privmsg("#lobby", "hello irssi")
    wait_until(lambda: "dave> hello irssi" in irssi.screen(), irssi.screen)
    irssi.type("hello dave")
    said = peer.wait_for(lambda e: e.type == "pubmsg" and e.arguments == ["hello dave"])
    assert said.source.nick == "bob"
    assert said.target == "#lobby"

    peer.conn.privmsg("bob", "just you and me")
    irssi.type("/query dave")
    wait_until(lambda: "dave> just you and me" in irssi.screen(), irssi.screen)
    irssi.type("and back")
    private = peer.wait_for(lambda e: e.type == "privmsg" and e.arguments == ["and back"])
    assert private.source.nick == "bob"

    wire = irssi.wire()
    assert any(" 903 " in line for line in wire), wire  # SASL succeeded
    refused = [
        line for line in wire if line.startswith(">>") and (" 421 " in line or " FAIL " in line)
    ]
    assert refused == [], refused  # nothing Irssi sends is unknown or refused

    irssi.type("/quit see you")
    wait_until(lambda: not irssi.running(), irssi.screen)
    gone = peer.wait_for(lambda e: e.type == "quit" and e.source.nick == "bob")
    assert gone.arguments == ["Quit: see you"]


def test_irssi_refuses_a_server_whose_certificate_is_not_the_pinned_one(
    served: Served, peer: Client, irssi: Irssi
) -> None:
    irssi.type("/set server_reconnect_time -1")
    for line in _setup(served, colons=":".join(["AB"] * 32)):
        irssi.type(line)
    wait_until(lambda: "Pinned certificate mismatch" in irssi.screen(), irssi.screen)
    # bob never came: "no such nick"
    assert [line for line in whois_round_trip(peer, "bob") if " 401 dave bob " in line]


def test_irssi_away_with_always_on_gets_what_it_missed_once_in_order_as_dated_notices(
    served: Served, peer: Client, irssi: Irssi
) -> None:
    """What docs/clients.md promises Irssi (no ``batch``, so no replay on join): with
    always-on, the lines said while it was gone come first at its next login, oldest
    first, each with its time, in the status window, and never a second time."""
    for line in _setup(served):
        irssi.type(line)
    peer.wait_for(lambda e: e.type == "join" and e.source.nick == "bob", timeout=30)
    irssi.type("/msg NickServ SET ALWAYS-ON ON")  # as docs/clients.md says
    irssi.type("/window goto NickServ")  # Irssi opened a query for it
    wait_until(lambda: "ALWAYS-ON is now ON" in irssi.screen(), irssi.screen)
    irssi.type("/window 1")  # the status window, where the server's notices go

    def away_with_no_device() -> bool:
        before = list(peer.events)
        peer.conn.whois("bob")
        peer.wait_for(lambda e: e.type == "endofwhois" and e not in before)
        return any(" 301 dave bob :Not connected" in line for line in peer.raw_lines()[-8:])

    def replayed() -> list[str]:
        lines = irssi.screen().splitlines()
        return [line.split("<dave> ", 1)[1] for line in lines if "#lobby <dave> missed" in line]

    def welcomed_and_asked() -> None:
        """Connected, and an LUSERS typed after the welcome answered: a replay came first."""
        wait_until(lambda: irssi.screen().count("End of /MOTD") == 1, irssi.screen)
        irssi.type("/lusers")
        wait_until(lambda: irssi.screen().count("channels formed") == 2, irssi.screen)

    irssi.type("/disconnect")
    wait_until(away_with_no_device, irssi.screen)
    for text in ("missed one", "missed two", "missed three"):
        peer.conn.privmsg("#lobby", text)
    for attempt in (1, 2):  # the replay, then nothing again
        irssi.type("/clear")
        wait_until(lambda: "End of /MOTD" not in irssi.screen(), irssi.screen)
        irssi.type("/connect chatroom")
        welcomed_and_asked()
        expected = ["missed one", "missed two", "missed three"] if attempt == 1 else []
        assert replayed() == expected, irssi.screen()
        dated = [line for line in irssi.screen().splitlines() if "#lobby <dave> missed" in line]
        assert all(re.search(r"\[\d{4}-\d\d-\d\d \d\d:\d\d UTC\] #lobby", line) for line in dated)
        irssi.type("/disconnect")
        wait_until(away_with_no_device, irssi.screen)
