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
    expect(bob.locator("#message-list")).to_contain_text("#vault needs a key: /join #vault KEY")
    expect(alice.locator('#members .member[data-nick="bob"]')).to_have_count(0)

    people.say(bob, "/join #vault sekrit")
    expect(bob.locator("#buffer-name")).to_have_text("#vault")
    expect(alice.locator('#members .member[data-nick="bob"]')).to_be_visible()


def test_web_nick_away_me_and_part_typed_on_a_phone(people: People) -> None:
    alice = people.join_as("alice")
    bob = people.open(375, 740)
    people.login(bob, "bob")
    expect(bob.locator("#buffer-name")).to_have_text("#lobby")
    expect(alice.locator('#members .member[data-nick="bob"]')).to_be_visible()

    people.say(bob, "/me waves from a phone")
    expect(alice.locator("#message-list .msg-action").last).to_contain_text(
        "bob waves from a phone"
    )

    people.say(bob, "/nick bobby")
    expect(bob.locator("#me")).to_have_text("bobby")
    expect(alice.locator('#members .member[data-nick="bobby"]')).to_be_visible()
    expect(alice.locator('#members .member[data-nick="bob"]')).to_have_count(0)

    people.say(bob, "/away lunch")
    expect(bob.locator("#message-list .msg").last).to_contain_text("marked as being away")
    people.say(bob, "/away")
    expect(bob.locator("#message-list .msg").last).to_contain_text("no longer marked as being away")

    people.say(bob, "/join #side")
    expect(bob.locator("#buffer-name")).to_have_text("#side")
    people.say(bob, "/part")
    expect(bob.locator('#buffers .buffer[data-name="#side"]')).to_have_count(0)
    expect(bob.locator("#buffer-name")).to_have_text("#lobby")


def test_web_signing_out_leaves_neither_the_password_nor_the_rooms_to_the_next_user(
    people: People,
) -> None:
    alice = people.join_as("alice", "pw-alice-1234", create=True)
    people.say(alice, "/join #alices-corner")
    expect(alice.locator("#buffer-name")).to_have_text("#alices-corner")
    alice.click("#logout")
    expect(alice.locator("#login-screen")).to_be_visible()
    expect(alice.locator("#password")).to_have_value("")

    # The next person at this browser signs in as a guest and is not put in alice's rooms.
    people.login(alice, "bob")
    expect(alice.locator("#me")).to_have_text("bob")
    expect(alice.locator("#buffer-name")).to_have_text("#lobby")
    expect(alice.locator('#buffers .buffer[data-name="#lobby"]')).to_be_visible()
    expect(alice.locator('#buffers .buffer[data-name="#alices-corner"]')).to_have_count(0)

    # Nor after a reload: the saved room list is the guest's own.
    alice.reload()
    people.login(alice, "bob2")
    expect(alice.locator("#me")).to_have_text("bob2")
    expect(alice.locator('#buffers .buffer[data-name="#lobby"]')).to_be_visible()
    expect(alice.locator('#buffers .buffer[data-name="#alices-corner"]')).to_have_count(0)
