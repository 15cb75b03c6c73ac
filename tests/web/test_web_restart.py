"""A server restart as the people in a room see it: one "reconnecting" banner that says
why, then everyone back; no "left (Server shutting down)" line per room-mate, no red
"Closing Link" line, and no "joined" line for room-mates who come back with us.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from chatroom import admin
from chatroom.server.store.factory import open_store
from tests.realserver import ServerThread
from tests.web.web_support import LineClient, People, web_config

BACK_MS = 30_000  # the client backs off 1 s, 2 s, 4 s... while the server is down


class Restartable:
    """One server that can be stopped and started again on the same ports and data."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.server = ServerThread(web_config(tmp_path)).start()

    def restart(self, while_down: Callable[[], None] | None = None) -> None:
        ports: dict[str, object] = {
            "listen.port": self.server.port,
            "listen.http_port": self.server.http_port,
        }
        self.server.stop()
        if while_down is not None:
            while_down()
        self.server = ServerThread(web_config(self.tmp_path, ports)).start()


@pytest.fixture
def restartable(tmp_path: Path) -> Iterator[Restartable]:
    servers = Restartable(tmp_path)
    yield servers
    servers.server.stop()


@pytest.fixture
def web_server(restartable: Restartable) -> ServerThread:
    """The first server: what ``people`` opens pages on (its ports stay the same)."""
    return restartable.server


def _watch_banner(page: Page) -> None:
    """Keep every text the status banner shows, to read after it has changed again."""
    page.evaluate(
        """() => {
            window.bannerTexts = [];
            const banner = document.getElementById("status-banner");
            new MutationObserver(() => window.bannerTexts.push(banner.textContent))
                .observe(banner, {childList: true, characterData: true, subtree: true});
        }"""
    )


@pytest.mark.parametrize("width", [1280, 390])
def test_web_server_restart_shows_one_banner_and_no_departures(
    people: People, restartable: Restartable, width: int
) -> None:
    # Room-mates sign on first: the server closes connections in that order, so the old
    # server told alice about each of them before closing hers.
    bob = people.join_as("bob")
    tess = LineClient(restartable.server.port, "tess")
    tess.send("JOIN #lobby")
    tess.wait_for(lambda line: " 366 tess #lobby " in line)
    alice = people.open(width=width, height=800)
    people.login(alice, "alice")
    expect(alice.locator('#members .member[data-nick="tess"]')).to_be_visible()
    expect(alice.locator('#members .member[data-nick="bob"]')).to_be_visible()
    people.say(bob, "before the restart")
    expect(alice.locator("#message-list")).to_contain_text("before the restart")
    for page in (alice, bob):
        _watch_banner(page)

    restartable.restart()
    tess.close()

    for page in (alice, bob):  # each saw the drop, and is back in #lobby
        page.wait_for_function("() => window.bannerTexts.length > 0", timeout=BACK_MS)
        lobby = page.locator('#buffers .buffer[data-name="#lobby"]')
        expect(lobby).not_to_have_class(re.compile(r"\bparted\b"), timeout=BACK_MS)
        expect(page.locator("#status-banner")).to_be_hidden(timeout=BACK_MS)
    expect(alice.locator('#members .member[data-nick="bob"]')).to_be_visible()
    people.say(bob, "after the restart")
    expect(alice.locator("#message-list")).to_contain_text("after the restart")

    texts = alice.evaluate("window.bannerTexts")
    assert any("Server shutting down" in text and "Reconnecting" in text for text in texts), texts
    shown = alice.locator("#message-list").inner_text()
    assert "left" not in shown, shown
    # Room-mates who came back with us get no "joined" line (history may still show the
    # joins from before, and our own, with draft/event-playback).
    since_restart = shown.split("before the restart", 1)[1]
    assert "bob joined" not in since_restart, shown
    assert "tess joined" not in since_restart, shown
    assert "Closing Link" not in shown
    expect(alice.locator("#message-list .msg-error")).to_have_count(0)
    expect(alice.locator(".msg-msg .text")).to_have_text(
        ["before the restart", "after the restart"]
    )


def test_web_an_operator_back_after_a_restart_is_told_so_in_the_server_tab_not_the_room(
    people: People, restartable: Restartable
) -> None:
    """The reconnect's 381 ("You are now an IRC operator") goes with the welcome, in the
    server tab, not as a line in the room that was on screen."""
    alice = people.join_as("alice", "alice-password-1", create=True)
    _watch_banner(alice)

    def make_alice_an_operator() -> None:
        store = open_store(restartable.server.config.store)
        try:
            admin.set_oper(store, "alice", True)
        finally:
            store.close()

    restartable.restart(while_down=make_alice_an_operator)
    alice.wait_for_function("() => window.bannerTexts.length > 0", timeout=BACK_MS)
    expect(alice.locator("#status-banner")).to_be_hidden(timeout=BACK_MS)
    expect(alice.locator("#buffer-name")).to_have_text("#lobby")
    alice.locator("#buffers .buffer").first.click()
    expect(alice.locator("#message-list")).to_contain_text("IRC operator", timeout=BACK_MS)
    alice.locator('#buffers .buffer[data-name="#lobby"]').click()
    expect(alice.locator("#buffer-name")).to_have_text("#lobby")
    assert "IRC operator" not in alice.locator("#message-list").inner_text()
