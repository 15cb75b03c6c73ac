"""The real WeeChat (Debian's ``weechat-headless``) set up exactly as docs/clients.md says:
TLS with the self-signed certificate's fingerprint pinned, SASL PLAIN, ``#lobby``
joined; it chats with an ``irc``-library peer both ways and in private.

WeeChat is driven through its FIFO (``weechat_fifo_<pid>`` in its home), as a user types
lines; what it shows is read from its logger files, written at once
(``logger.file.flush_delay 0``). Each test has its own WeeChat home and server.
"""

from __future__ import annotations

import os
import re
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

WEECHAT = "/usr/bin/weechat-headless"  # `make test` installs it (Debian's weechat-headless)


class WeeChat:
    """One ``weechat-headless`` with its own home directory, stopped at the end."""

    def __init__(self, home: Path) -> None:
        self.home = home
        home.mkdir()
        self._out = (home / "stdout.txt").open("wb")
        self.proc = subprocess.Popen(
            [
                *(WEECHAT, "--dir", str(home), "--plugins", "irc,fifo,logger"),
                *("--run-command", "/set logger.file.flush_delay 0"),
            ],
            stdin=subprocess.DEVNULL,
            stdout=self._out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "LANG": "C.UTF-8"},
        )
        self.fifo = home / f"weechat_fifo_{self.proc.pid}"
        try:
            wait_until(self.fifo.exists, self.everything)
        except BaseException:
            self.stop()
            raise

    def type(self, line: str, buffer: str = "") -> None:
        """A line typed in ``buffer`` (e.g. ``irc.chatroom.#lobby``), else the current one."""
        with self.fifo.open("w", encoding="utf-8") as fifo:
            fifo.write(f"{buffer} *{line}\n" if buffer else f"*{line}\n")

    def log(self, name: str) -> str:
        """A buffer's log so far (``irc.server.chatroom``, ``irc.chatroom.#lobby``...)."""
        path = self.home / "logs" / f"{name}.weechatlog"
        return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""

    def everything(self) -> str:
        logs = sorted((self.home / "logs").glob("*.weechatlog")) if self.fifo.exists() else []
        shown = [f"== {path.name}\n{path.read_text(errors='replace')}" for path in logs]
        return "\n".join(shown) or (self.home / "stdout.txt").read_text(errors="replace")

    def errors(self) -> list[str]:
        """Every line WeeChat flagged as an error (its ``=!=`` prefix), in any buffer."""
        return [line for line in self.everything().splitlines() if "\t=!=\t" in line]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self._out.close()


@pytest.fixture
def weechat(tmp_path: Path) -> Iterator[WeeChat]:
    program = WeeChat(tmp_path / "weechat")
    yield program
    program.stop()


def _version() -> int:
    """WeeChat's major version: the 4.x set-up or the 3.x one (Debian 12 has 3.8)."""
    done = subprocess.run([WEECHAT, "--version"], capture_output=True, text=True, check=True)
    return int(done.stdout.strip().split(".")[0])


def _setup(served: Served, fingerprint: str | None = None) -> list[str]:
    blocks = documented_blocks("WeeChat")
    assert len(blocks) == 2, blocks  # the 4.x set-up, then the 3.x one
    lines = filled(blocks[0 if _version() >= 4 else 1], served, "alice", PASSWORD)
    return pinned_instead(lines, served.fingerprint, fingerprint)


def test_weechat_set_up_as_documented_chats_over_pinned_tls_with_sasl(
    served: Served, peer: Client, weechat: WeeChat
) -> None:
    for line in _setup(served):
        weechat.type(line)
    lobby = "irc.chatroom.#lobby"
    wait_until(
        lambda: "alice" in weechat.log(lobby) and "#lobby" in weechat.log(lobby), weechat.everything
    )
    peer.wait_for(lambda e: e.type == "join" and e.source.nick == "alice")

    whois = "\n".join(whois_round_trip(peer, "alice"))
    assert " 330 dave alice alice " in whois  # logged in (SASL) as alice
    assert " 671 dave alice " in whois  # over TLS

    peer.conn.privmsg("#lobby", "hello weechat")
    wait_until(lambda: "dave\thello weechat" in weechat.log(lobby), weechat.everything)
    weechat.type("hello dave", buffer=lobby)
    said = peer.wait_for(lambda e: e.type == "pubmsg" and e.arguments == ["hello dave"])
    assert said.source.nick == "alice"
    assert said.target == "#lobby"

    peer.conn.privmsg("alice", "just you and me")
    wait_until(
        lambda: "dave\tjust you and me" in weechat.log("irc.chatroom.dave"), weechat.everything
    )
    weechat.type("/msg dave and back", buffer="irc.server.chatroom")
    private = peer.wait_for(lambda e: e.type == "privmsg" and e.arguments == ["and back"])
    assert private.source.nick == "alice"

    weechat.type("/quit")
    weechat.proc.wait(timeout=20)
    peer.wait_for(lambda e: e.type == "quit" and e.source.nick == "alice")
    assert weechat.errors() == []


def test_weechat_refuses_a_server_whose_certificate_is_not_the_pinned_one(
    served: Served, peer: Client, weechat: WeeChat
) -> None:
    weechat.type("/set irc.server_default.autoreconnect off")
    for line in _setup(served, fingerprint="ab" * 32):
        weechat.type(line)
    server_log = "irc.server.chatroom"
    wait_until(lambda: "fingerprint does NOT match" in weechat.log(server_log), weechat.everything)
    # alice never came: "no such nick"
    assert [line for line in whois_round_trip(peer, "alice") if " 401 dave alice " in line]


def test_weechat_away_with_always_on_gets_what_it_missed_once_in_order_as_dated_notices(
    served: Served, peer: Client, weechat: WeeChat
) -> None:
    """What docs/clients.md promises WeeChat 3.x (no ``batch``, so no replay on join):
    with always-on, the lines said while it was gone come at its next login, oldest first,
    each with its time, and never a second time."""
    for line in _setup(served):
        weechat.type(line)
    server_log = "irc.server.chatroom"
    peer.wait_for(lambda e: e.type == "join" and e.source.nick == "alice")
    weechat.type("/msg NickServ SET ALWAYS-ON ON", buffer=server_log)
    wait_until(lambda: "ALWAYS-ON is now ON" in weechat.log(server_log), weechat.everything)
    weechat.type("/disconnect", buffer=server_log)
    wait_until(lambda: "disconnected from server" in weechat.log(server_log), weechat.everything)
    for text in ("missed one", "missed two", "missed three"):
        peer.conn.privmsg("#lobby", text)
    whois_round_trip(peer, "alice")  # a round trip: the three lines are in

    def replayed() -> list[str]:
        lines = weechat.log(server_log).splitlines()
        return [line.split("<dave> ", 1)[1] for line in lines if "#lobby <dave> missed" in line]

    def shown(text: str, times: int) -> None:
        wait_until(lambda: weechat.log(server_log).count(text) == times, weechat.everything)

    for attempt in (1, 2):  # the replay, then nothing again
        weechat.type("/connect chatroom", buffer=server_log)
        shown("End of /MOTD", 1 + attempt)
        weechat.type("/whois alice", buffer=server_log)  # answered after the replay
        shown("End of /WHOIS", attempt)
        assert replayed() == ["missed one", "missed two", "missed three"]
        weechat.type("/disconnect", buffer=server_log)
        shown("disconnected from server", 1 + attempt)
    dated = [
        line for line in weechat.log(server_log).splitlines() if "#lobby <dave> missed" in line
    ]
    assert all(
        re.search(r"\[\d{4}-\d\d-\d\d \d\d:\d\d UTC\] #lobby <dave>", line) for line in dated
    ), dated
    assert weechat.errors() == []


def test_weechat_logs_in_with_scram_sha_256_as_well(
    served: Served, peer: Client, weechat: WeeChat
) -> None:
    """docs/clients.md: ``sasl_mechanism scram-sha-256`` instead of ``plain``."""
    for line in _setup(served):
        weechat.type(line.replace("sasl_mechanism plain", "sasl_mechanism scram-sha-256"))
    server_log = "irc.server.chatroom"
    wait_until(
        lambda: "You are now logged in as alice" in weechat.log(server_log), weechat.everything
    )
    peer.wait_for(lambda e: e.type == "join" and e.source.nick == "alice")
    assert "sasl_mechanism = scram-sha-256" in weechat.log("core.weechat")
    assert weechat.errors() == []
