"""The web client in a real Chromium: deleting a message from its menu (IRCv3
draft/message-redaction) and room events in scrollback (draft/event-playback)."""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import Locator, Page, expect

from tests.web.web_support import LineClient, People


def _message(page: Page, text: str) -> Locator:
    return page.locator("#message-list .msg", has_text=text)


def _delete(page: Page, text: str) -> None:
    """What a user does: hover the message, open its menu, choose Delete."""
    line = _message(page, text)
    line.hover()
    line.locator(".msg-actions").click()
    page.click('#message-menu [data-action="delete"]')


def _alice_op_and_bob_in_den(people: People) -> tuple[Page, Page]:
    """Alice opens #den (so she is its operator), then bob joins it: both pages in #den."""
    alice = people.join_as("alice")
    people.say(alice, "/join #den")
    expect(alice.locator('#members .member[data-nick="alice"] .prefix')).to_have_text("@")
    bob = people.join_as("bob")
    people.say(bob, "/join #den")
    expect(bob.locator("#buffer-name")).to_have_text("#den")
    return alice, bob


def test_web_author_deletes_own_message_and_everyone_sees_it_gone(
    people: People, tcp_client: Callable[[str], LineClient]
) -> None:
    alice = people.join_as("alice")
    bob = people.join_as("bob")
    terminal = tcp_client("tess")  # a client without the capability
    terminal.send("JOIN #lobby")
    terminal.wait_for(lambda line: " 366 tess #lobby " in line)

    people.say(alice, "a message sent too soon")
    expect(bob.locator("#message-list .msg-msg .text").last).to_have_text("a message sent too soon")
    terminal.wait_for(lambda line: line.endswith(":a message sent too soon"))
    # #lobby gives nobody ops: bob is offered no delete on alice's message, alice is.
    expect(_message(bob, "a message sent too soon").locator(".msg-actions")).to_have_count(0)

    _delete(alice, "a message sent too soon")
    for page in (alice, bob):
        deleted = page.locator("#message-list .msg.deleted")
        expect(deleted.locator(".text")).to_have_text("message deleted")
        expect(deleted.locator(".nick")).to_have_text("alice")
        expect(page.locator("#message-list")).not_to_contain_text("a message sent too soon")
    terminal.send("PING after-delete")
    terminal.wait_for(lambda line: "PONG" in line and "after-delete" in line)
    assert not [line for line in terminal.lines if " REDACT " in line]

    # Someone arriving later does not get the deleted message from history.
    carol = people.join_as("carol")
    expect(carol.locator("#message-list")).to_contain_text("bob joined")
    expect(carol.locator("#message-list")).not_to_contain_text("a message sent too soon")


def test_web_delete_typed_as_in_the_terminal_client(people: People) -> None:
    """``/delete`` deletes one's last message here, ``/delete NICK reason`` an operator's
    pick, as in the terminal client (the web client sent them to the server as DELETE,
    which answered "not a command"). Nothing to delete is said, not sent."""
    alice, bob = _alice_op_and_bob_in_den(people)
    people.say(bob, "/delete")
    expect(bob.locator("#message-list .msg").last).to_contain_text(
        "There is no message of yours here to delete."
    )
    people.say(bob, "first of bob")
    people.say(bob, "second of bob")
    expect(_message(alice, "second of bob")).to_be_visible()
    people.say(bob, "/delete")
    expect(alice.locator("#message-list .msg.deleted .text")).to_have_text(["message deleted"])
    expect(_message(alice, "first of bob")).to_be_visible()

    people.say(alice, "/redact bob spam")
    expect(bob.locator("#message-list .msg.deleted .text")).to_have_text(
        ["message deleted by alice: spam", "message deleted"]
    )
    expect(bob.locator("#message-list")).not_to_contain_text("of bob")
    expect(bob.locator("#message-list")).not_to_contain_text("not a command")


def test_web_room_operator_deletes_someone_elses_message(people: People) -> None:
    alice, bob = _alice_op_and_bob_in_den(people)
    people.say(bob, "buy cheap watches")
    expect(_message(alice, "buy cheap watches")).to_be_visible()

    _delete(alice, "buy cheap watches")
    expect(bob.locator("#message-list .msg.deleted .text")).to_have_text("message deleted by alice")
    expect(alice.locator("#message-list .msg.deleted .text")).to_have_text(
        "message deleted by alice"
    )
    # A deleted line offers nothing more.
    expect(alice.locator("#message-list .msg.deleted .msg-actions")).to_have_count(0)


def test_web_scrollback_tells_who_came_and_went_without_changing_the_members(
    people: People, tcp_client: Callable[[str], LineClient]
) -> None:
    tess = tcp_client("tess")
    tess.send("JOIN #lobby", "PRIVMSG #lobby :anyone here?", "PART #lobby :later then")
    tess.send("PING synced")
    tess.wait_for(lambda line: "PONG" in line and "synced" in line)

    alice = people.join_as("alice")
    log = alice.locator("#message-list")
    expect(log).to_contain_text("tess left (later then)")
    texts = alice.locator("#message-list .msg").all_inner_texts()
    needles = ("tess joined", "anyone here?", "tess left")
    order = [next(i for i, text in enumerate(texts) if needle in text) for needle in needles]
    assert order == sorted(order)
    expect(alice.locator('#members .member[data-nick="tess"]')).to_have_count(0)
    expect(alice.locator("#members .member")).to_have_count(1)
    expect(alice.locator("#message-list .msg-event").first).to_have_text(re.compile("tess joined"))
