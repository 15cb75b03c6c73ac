"""Between the messages: a "New messages" line above what arrived while the user looked
elsewhere, and a line with the day wherever the date changes (history from earlier days is
written into the store before the server starts)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.realserver import ServerThread
from tests.web.history_seed import noon, seed_history
from tests.web.web_support import LineClient, People, drawn_box, web_config

LIST = "#message-list > li"


def _kinds(page: Page) -> list[str]:
    """What the message list shows, top to bottom: "day:<label>", "new", or a message's text."""
    kinds: list[str] = page.eval_on_selector_all(
        LIST,
        """items => items.map(item =>
            item.classList.contains("day-separator") ? "day:" + item.textContent
            : item.classList.contains("new-marker") ? "new"
            : (item.querySelector(".text") || item).textContent)""",
    )
    return kinds


def test_web_new_messages_line_sits_above_what_came_while_looking_elsewhere(
    people: People, tcp_client: Callable[[str], LineClient]
) -> None:
    alice = people.join_as("alice")
    tess = tcp_client("tess")
    tess.send("JOIN #lobby", "PRIVMSG #lobby :read already")
    expect(alice.locator("#message-list")).to_contain_text("read already")
    people.say(alice, "/join #team")
    expect(alice.locator("#buffer-name")).to_have_text("#team")

    tess.send("PRIVMSG #lobby :missed one", "PRIVMSG #lobby :missed two")
    lobby = alice.locator('#buffers .buffer[data-name="#lobby"]')
    expect(lobby.locator(".badge")).to_have_text("2")
    lobby.click()
    expect(alice.locator(".new-marker")).to_have_text("New messages")
    assert _kinds(alice)[-4:] == ["read already", "new", "missed one", "missed two"]

    # A line said while the room is open comes below the marker; nothing unread: no marker.
    tess.send("PRIVMSG #lobby :live")
    expect(alice.locator("#message-list")).to_contain_text("live")
    assert _kinds(alice)[-3:] == ["missed one", "missed two", "live"]
    alice.locator('#buffers .buffer[data-name="#team"]').click()
    lobby.click()
    expect(alice.locator(".msg-msg").last).to_contain_text("live")
    expect(alice.locator(".new-marker")).to_have_count(0)


def test_web_new_messages_line_at_phone_width(
    people: People, tcp_client: Callable[[str], LineClient]
) -> None:
    alice = people.open(width=390, height=844)
    people.login(alice, "alice")
    expect(alice.locator("#buffer-name")).to_have_text("#lobby")
    people.say(alice, "/join #team")
    expect(alice.locator("#buffer-name")).to_have_text("#team")
    tess = tcp_client("tess")
    tess.send("JOIN #lobby", "PRIVMSG #lobby :while you were in #team")
    expect(alice.locator('#buffers .buffer[data-name="#lobby"] .badge')).to_have_text("1")
    alice.click("#toggle-sidebar")
    alice.locator('#buffers .buffer[data-name="#lobby"]').click()
    marker = alice.locator(".new-marker")
    expect(marker).to_be_in_viewport()
    box = drawn_box(marker)
    assert box["x"] >= 0
    assert box["x"] + box["width"] <= 390


@pytest.fixture
def server_with_old_history(tmp_path: Path) -> Iterator[ServerThread]:
    seed_history(
        tmp_path / "data",
        "#lobby",
        [
            (noon(3), "tess", "three days ago"),
            (noon(3).replace(hour=13), "tess", "same day, later"),
            (noon(1), "tess", "yesterday"),
        ],
    )
    server = ServerThread(web_config(tmp_path)).start()
    yield server
    server.stop()


@pytest.mark.parametrize("width", [1280, 390])
def test_web_day_lines_separate_the_days_of_a_conversation(
    browser: Browser, server_with_old_history: ServerThread, width: int
) -> None:
    crowd = People(browser, server_with_old_history)
    try:
        page = crowd.open(width=width, height=800)
        crowd.login(page, "alice")
        expect(page.locator("#message-list")).to_contain_text("yesterday")
        crowd.say(page, "today")
        expect(page.locator(".msg-msg .text").last).to_have_text("today")
        weekday = noon(3).strftime("%A")
        kinds = _kinds(page)
        assert kinds[0].startswith(f"day:{weekday}")
        assert kinds == [
            kinds[0],
            "three days ago",
            "same day, later",
            "day:Yesterday",
            "yesterday",
            "day:Today",
            "alice joined",  # her own join, from history (draft/event-playback)
            "today",
        ]
        assert crowd.errors == []
    finally:
        crowd.close()
