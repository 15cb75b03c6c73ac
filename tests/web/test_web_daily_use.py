"""The web client as a daily user drives it: slash commands a user types that the other
web tests do not walk through (a room with a key)."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.web.web_support import People


def test_web_join_with_a_key_enters_a_keyed_room_and_the_usage_names_the_key(
    people: People,
) -> None:
    alice = people.join_as("alice")
    bob = people.join_as("bob")
    people.say(alice, "/join #vault")
    expect(alice.locator("#buffer-name")).to_have_text("#vault")
    people.say(alice, "/quote MODE #vault +k sekrit")
    expect(alice.locator("#message-list")).to_contain_text("+k")

    # Someone who only knows /join learns from its usage that a key can follow the room.
    people.say(bob, "/join")
    expect(bob.locator("#message-list .msg").last).to_contain_text("/join #room [key]")

    people.say(bob, "/join #vault")
    expect(bob.locator("#message-list")).to_contain_text("the room needs a key: /join #vault KEY")
    expect(alice.locator('#members .member[data-nick="bob"]')).to_have_count(0)

    people.say(bob, "/join #vault sekrit")
    expect(bob.locator("#buffer-name")).to_have_text("#vault")
    expect(alice.locator('#members .member[data-nick="bob"]')).to_be_visible()
