"""The web client in a real Chromium: chatting with a second browser and a TCP client,
user content shown as text, typing indicators, moderation from the member list.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import Page, expect

from tests.web.web_support import LineClient, People


def _last_text(page: Page) -> str:
    return page.locator("#message-list .msg .text").last.inner_text()


def _said(page: Page, nick: str, text: str) -> None:
    """Wait until ``page`` shows ``nick`` saying ``text`` in the open conversation."""
    line = page.locator("#message-list .msg-msg", has_text=text)
    expect(line.locator(".nick").last).to_have_text(nick)
    expect(line.locator(".text").last).to_have_text(text)


def test_web_guests_chat_with_each_other_and_with_a_tcp_client(
    people: People, tcp_client: Callable[[str], LineClient]
) -> None:
    alice = people.join_as("alice")
    bob = people.join_as("bob")
    terminal = tcp_client("tess")
    terminal.send("JOIN #lobby")
    terminal.wait_for(lambda line: " 366 tess #lobby " in line)
    expect(alice.locator('#members .member[data-nick="tess"]')).to_be_visible()
    expect(alice.locator("#message-list")).to_contain_text("tess joined")

    people.say(alice, "hello from the browser")
    _said(bob, "alice", "hello from the browser")
    terminal.wait_for(lambda line: line.endswith("PRIVMSG #lobby :hello from the browser"))

    terminal.send("PRIVMSG #lobby :hi from a terminal")
    _said(alice, "tess", "hi from a terminal")
    _said(bob, "tess", "hi from a terminal")
    expect(bob.locator("#message-list time").last).to_have_text(re.compile(r"^\d\d:\d\d$"))

    # A private conversation, opened from the member list.
    bob.click('#members .member[data-nick="alice"]')
    bob.click('#member-menu [data-action="query"]')
    expect(bob.locator("#buffer-name")).to_have_text("alice")
    people.say(bob, "just between us, alice")
    alice_query = alice.locator('#buffers .buffer[data-name="bob"]')
    expect(alice_query.locator(".badge")).to_have_text("1")
    expect(alice_query.locator(".badge")).to_have_class("badge mention")
    alice_query.click()
    _said(alice, "bob", "just between us, alice")

    # Typing shows up on the other side while the text is not yet sent.
    alice.fill("#input", "I am wri")
    alice.locator("#input").press_sequentially("ting")
    expect(bob.locator("#typing")).to_have_text("alice is typing…")


def test_web_markup_in_a_message_is_shown_as_text(people: People) -> None:
    attack = "<img src=x onerror=alert(1)>"
    alice = people.join_as("alice")
    bob = people.join_as("bob")
    people.say(alice, attack)
    _said(bob, "alice", attack)
    assert _last_text(bob) == attack
    assert bob.locator("#message-list img").count() == 0
    assert alice.locator("#message-list img").count() == 0
    # Topics are user content too (alice is the operator of a room she creates).
    people.say(alice, "/join #attic")
    people.say(bob, "/join #attic")
    expect(alice.locator('#members .member[data-nick="bob"]')).to_be_visible()
    people.say(alice, f"/topic {attack}")
    expect(bob.locator("#topic")).to_have_text(attack)
    assert bob.locator("#topbar img").count() == 0
    assert people.dialogs == []


def test_web_channel_op_kicks_mutes_and_bans_from_the_member_list(
    people: People, tcp_client: Callable[[str], LineClient]
) -> None:
    alice = people.join_as("alice")
    people.say(alice, "/join #den")
    expect(alice.locator("#buffer-name")).to_have_text("#den")
    expect(alice.locator('#members .member[data-nick="alice"] .prefix')).to_have_text("@")
    bob = people.join_as("bob")
    people.say(bob, "/join #den")
    expect(alice.locator('#members .member[data-nick="bob"]')).to_be_visible()

    # bob is no operator: his menu offers only a private message.
    bob.click('#members .member[data-nick="alice"]')
    expect(bob.locator("#member-menu button")).to_have_count(1)
    bob.keyboard.press("Escape")

    alice.click('#members .member[data-nick="bob"]')
    alice.click('#member-menu [data-action="mute"]')
    expect(alice.locator("#message-list")).to_contain_text("alice sets mode +q bob!*@*")
    people.say(bob, "can anyone hear me")
    expect(bob.locator("#message-list .msg-error").last).to_contain_text("#den")

    alice.click('#members .member[data-nick="bob"]')
    alice.fill("#mod-reason", "cool off")
    alice.click('#member-menu [data-action="kick"]')
    expect(bob.locator("#message-list")).to_contain_text(
        "You were kicked from #den by alice (cool off)"
    )
    expect(alice.locator('#members .member[data-nick="bob"]')).to_have_count(0)

    people.say(bob, "/join #den")
    expect(alice.locator('#members .member[data-nick="bob"]')).to_be_visible()
    alice.click('#members .member[data-nick="bob"]')
    alice.click('#member-menu [data-action="ban"]')
    expect(bob.locator("#message-list")).to_contain_text("You were kicked from #den by alice")
    people.say(bob, "/join #den")
    expect(bob.locator("#message-list .msg-error").last).to_contain_text("#den")
    watcher = tcp_client("watcher")
    watcher.send("MODE #den +b")
    watcher.wait_for(lambda line: " 367 watcher #den bob!*@*" in line)
