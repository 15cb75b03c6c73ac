"""How the chat screen looks: a desktop screenshot for docs/web-client.png, and the layout
on a phone-sized screen.

``CHATROOM_UPDATE_SCREENSHOTS=1 pytest tests/web -k screenshot`` refreshes the picture in
docs/; an ordinary run writes it only to the test's temporary directory.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import expect

from tests.web.web_support import LineClient, People

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_web_chat_screen_screenshot(
    people: People, tcp_client: Callable[[str], LineClient], tmp_path: Path
) -> None:
    alice = people.join_as("alice")
    people.say(alice, "/join #team")
    expect(alice.locator("#buffer-name")).to_have_text("#team")
    people.say(alice, "/topic Release week: notes in the wiki, questions here")
    bob = people.join_as("bob")
    people.say(bob, "/join #team")
    terminal = tcp_client("tess")
    terminal.send("JOIN #team")
    terminal.wait_for(lambda line: " 366 tess #team " in line)
    expect(alice.locator("#members .member")).to_have_count(3)

    people.say(alice, "Morning! The build is green again")
    people.say(bob, "Nice. alice, can you look at https://example.org/issues/42 today?")
    terminal.send("PRIVMSG #team :I'm on the terminal client, reading along")
    terminal.send("PRIVMSG #team :\x01ACTION waves\x01")
    people.say(alice, "Sure, after the stand-up")
    people.say(bob, "/msg alice lunch at noon?")
    expect(alice.locator("#message-list")).to_contain_text("Sure, after the stand-up")
    expect(alice.locator("#message-list")).to_contain_text("waves")
    expect(alice.locator('#buffers .buffer[data-name="bob"] .badge')).to_have_text("1")
    bob.locator("#buffers .buffer", has_text="#team").click()
    bob.fill("#input", "typing")
    bob.locator("#input").press_sequentially(" more")
    expect(alice.locator("#typing")).to_have_text("bob is typing…")

    shot = tmp_path / "web-client.png"
    alice.screenshot(path=str(shot))
    assert shot.stat().st_size > 10_000
    if os.environ.get("CHATROOM_UPDATE_SCREENSHOTS"):
        shutil.copyfile(shot, DOCS / "web-client.png")


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
