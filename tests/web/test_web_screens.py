"""How the chat screen looks: screenshots at desktop and phone width for docs/, and the
layout on a phone-sized screen.

``CHATROOM_UPDATE_SCREENSHOTS=1 pytest tests/web -k screenshot`` refreshes the pictures in
docs/ (web-client.png, web-client-phone.png, web-client-phone-rooms.png); an ordinary run
writes them only to the test's temporary directory.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.realserver import ServerThread
from tests.web.history_seed import noon, seed_history
from tests.web.web_support import LineClient, People, web_config

DOCS = Path(__file__).resolve().parents[2] / "docs"


@pytest.fixture
def web_server(tmp_path: Path) -> Iterator[ServerThread]:
    """A server whose #team already has yesterday's lines, so the pictures show a day line."""
    seed_history(
        tmp_path / "data",
        "#team",
        [
            (noon(1), "tess", "Release notes are in the wiki, please read them"),
            (noon(1).replace(minute=4), "bob", "Will do first thing tomorrow"),
        ],
    )
    server = ServerThread(web_config(tmp_path)).start()
    yield server
    server.stop()


def _keep(page: Page, tmp_path: Path, name: str) -> None:
    page.mouse.move(0, 0)  # no hover highlight in the picture
    shot = tmp_path / name
    page.screenshot(path=str(shot))
    assert shot.stat().st_size > 10_000
    if os.environ.get("CHATROOM_UPDATE_SCREENSHOTS"):
        shutil.copyfile(shot, DOCS / name)


def test_web_chat_screen_screenshot(
    people: People, tcp_client: Callable[[str], LineClient], tmp_path: Path
) -> None:
    alice = people.join_as("alice")
    people.say(alice, "/join #team")
    expect(alice.locator("#buffer-name")).to_have_text("#team")
    people.say(alice, "/topic Release week: notes in the wiki, questions here")
    bob = people.open(width=390, height=844)
    people.login(bob, "bob")
    expect(bob.locator("#buffer-name")).to_have_text("#lobby")
    people.say(bob, "/join #team")
    expect(bob.locator("#buffer-name")).to_have_text("#team")
    terminal = tcp_client("tess")
    terminal.send("JOIN #team")
    terminal.wait_for(lambda line: " 366 tess #team " in line)
    expect(alice.locator("#members .member")).to_have_count(3)

    people.say(alice, "Morning! The build is green again")
    people.say(bob, "Nice. alice, can you look at https://example.org/issues/42 today?")
    terminal.send("PRIVMSG #team :I'm on the terminal client, reading along")
    terminal.send("PRIVMSG #team :\x01ACTION waves and goes to get a coffee for everyone\x01")
    expect(alice.locator("#message-list")).to_contain_text("coffee")

    # alice looks at #lobby for a moment; what is said meanwhile comes under "New messages".
    alice.locator('#buffers .buffer[data-name="#lobby"]').click()
    people.say(bob, "Also: the release call moved to 15:00")
    terminal.send("PRIVMSG #team :Thanks, noted")
    people.say(bob, "/msg alice lunch at noon?")
    expect(alice.locator('#buffers .buffer[data-name="#team"] .badge')).to_have_text("2")
    expect(alice.locator('#buffers .buffer[data-name="bob"] .badge')).to_have_text("1")
    alice.locator('#buffers .buffer[data-name="#team"]').click()
    expect(alice.locator(".new-marker")).to_be_visible()
    expect(alice.locator(".day-separator")).to_have_count(2)
    bob.locator("#toggle-sidebar").click()
    bob.locator('#buffers .buffer[data-name="#team"]').click()
    bob.fill("#input", "typing")
    bob.locator("#input").press_sequentially(" more")
    expect(alice.locator("#typing")).to_have_text("bob is typing…")
    _keep(alice, tmp_path, "web-client.png")

    bob.fill("#input", "")
    terminal.send("PRIVMSG #team :bob: the notes have a section on the web client too")
    expect(bob.locator("#message-list")).to_contain_text("section on the web client")
    bob.fill("#input", "Thanks tess")
    _keep(bob, tmp_path, "web-client-phone.png")
    bob.locator("#toggle-sidebar").click()
    expect(bob.locator("#me")).to_be_in_viewport()
    bob.wait_for_timeout(300)  # the list slides in
    _keep(bob, tmp_path, "web-client-phone-rooms.png")


def test_web_fits_a_phone_screen(people: People, tmp_path: Path) -> None:
    page = people.open(width=390, height=844)
    people.login(page, "pia")
    expect(page.locator("#buffer-name")).to_have_text("#lobby")
    width = page.evaluate("document.scrollingElement.scrollWidth")
    assert width <= 390, "nothing may scroll sideways on a phone"
    sidebar = page.locator("#sidebar")
    box = sidebar.bounding_box()
    assert box is not None
    assert box["x"] + box["width"] <= 0, "the room list starts tucked away"
    expect(page.locator("#input")).to_be_in_viewport()

    page.click("#toggle-sidebar")
    expect(page.locator("#join-input")).to_be_in_viewport()
    page.locator("#buffers .buffer", has_text="#lobby").click()
    expect(page.locator("#chat-screen")).not_to_have_class("screen show-sidebar")
    page.click("#toggle-members")
    expect(page.locator('#members .member[data-nick="pia"]')).to_be_in_viewport()
    people.say(page, "hello from a phone")
    expect(page.locator("#message-list .msg-msg .text").last).to_have_text("hello from a phone")
    page.screenshot(path=str(tmp_path / "phone.png"))
