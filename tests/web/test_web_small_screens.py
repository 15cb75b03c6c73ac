"""What went wrong first on a phone (and some of it on a desktop too): actions wrapped a
word per line, the own nick was cut to "wen…", "is typing…" stayed after the person left,
the server tab spoke IRC jargon, and the icon buttons were empty boxes without an emoji
font (this machine has none: the icons are SVG shipped with the page)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests.web.web_support import LineClient, People, drawn_box, http_url

WIDTHS = [1280, 390]


def _open(people: People, nick: str, width: int) -> Page:
    page = people.open(width=width, height=800)
    people.login(page, nick)
    expect(page.locator("#buffer-name")).to_have_text("#lobby")
    return page


@pytest.mark.parametrize("width", WIDTHS)
def test_web_an_action_wraps_as_a_sentence(
    people: People, tcp_client: Callable[[str], LineClient], width: int
) -> None:
    page = _open(people, "wendy", width)
    tess = tcp_client("tess")
    text = "waves at everyone in the room and goes to get a coffee"
    tess.send("JOIN #lobby", f"PRIVMSG #lobby :\x01ACTION {text}\x01")
    line = page.locator(".msg-action").last
    expect(line).to_contain_text(text)
    expect(line).to_contain_text("tess")
    expect(line.locator(".nick")).to_be_visible()  # drawn, not being redrawn
    nick = drawn_box(line.locator(".nick"))
    whole = drawn_box(line)
    # At 390 px the sentence takes two lines; a word per line took a dozen.
    assert whole["height"] <= 3 * nick["height"], (whole, nick)
    words = drawn_box(line.locator(".text"))
    assert words["x"] + words["width"] <= width


def test_web_a_message_from_a_long_nick_flows_under_it_on_a_phone(
    people: People, tcp_client: Callable[[str], LineClient]
) -> None:
    """At 390 px a message from a 23-letter nick used to get what the nick left of the
    row, a column of a word or half a word per line (a link a dozen lines tall). Now the
    text follows the nick and wraps under it, as an action's sentence does."""
    page = _open(people, "wendy", 390)
    talker = tcp_client("Bartholomew_the_Verbose")
    text = "wendy: the agenda is at https://example.com/meetings/2026/agenda and please read it"
    talker.send("JOIN #lobby", f"PRIVMSG #lobby :{text}")
    line = page.locator(".msg-msg").last
    expect(line).to_contain_text("/agenda and please read it")
    # The rows the message's text takes: the distinct lines its words' boxes sit on.
    rows = page.evaluate(
        """() => {
          const range = document.createRange();
          range.selectNodeContents([...document.querySelectorAll('.msg-msg')].at(-1).querySelector('.text'));
          return [...range.getClientRects()].map((r) => Math.round(r.bottom));
        }"""
    )
    assert len(set(rows)) <= 4, rows


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("nick", ["wendy", "wendy_walker"])
def test_web_signed_in_as_shows_the_whole_nick(people: People, width: int, nick: str) -> None:
    page = _open(people, nick, width)
    if width < 820:
        page.click("#toggle-sidebar")
    me = page.locator("#me")
    expect(me).to_be_in_viewport()
    expect(me).to_have_text(nick)
    cut = me.evaluate("node => node.scrollWidth > node.clientWidth")
    assert not cut, f"{nick} does not fit in the sidebar at {width} px"
    logout = page.locator("#logout").bounding_box()
    sidebar = page.locator("#sidebar").bounding_box()
    assert logout is not None
    assert sidebar is not None
    assert logout["x"] + logout["width"] <= sidebar["x"] + sidebar["width"]


@pytest.mark.parametrize("leaves", ["QUIT :gone", "PART #lobby"])
def test_web_typing_line_goes_when_the_typist_leaves(
    people: People, tcp_client: Callable[[str], LineClient], leaves: str
) -> None:
    """``paused`` typing lasts 30 s by the spec, longer than this test waits: only the
    departure can clear the line."""
    page = _open(people, "wendy", 390)
    tess = tcp_client("tess")
    tess.send("CAP REQ :message-tags", "JOIN #lobby")
    tess.wait_for(lambda line: " 366 tess #lobby " in line)
    tess.send("@+typing=paused TAGMSG #lobby")
    expect(page.locator("#typing")).to_have_text("tess is typing…")
    tess.send(leaves)
    expect(page.locator("#message-list")).to_contain_text("tess left")
    expect(page.locator("#typing")).to_have_text("")


def test_web_typing_line_goes_in_a_private_conversation_when_the_typist_quits_the_server(
    people: People, tcp_client: Callable[[str], LineClient]
) -> None:
    """Her QUIT comes through the room both are in; it ends her typing everywhere."""
    page = _open(people, "wendy", 1280)
    tess = tcp_client("tess")
    tess.send("CAP REQ :message-tags", "JOIN #lobby", "PRIVMSG wendy :hello")
    page.locator('#buffers .buffer[data-name="tess"]').click()
    tess.send("@+typing=paused TAGMSG wendy")
    expect(page.locator("#typing")).to_have_text("tess is typing…")
    tess.send("QUIT :gone")
    expect(page.locator("#typing")).to_have_text("")


@pytest.mark.parametrize("width", WIDTHS)
def test_web_server_tab_speaks_plainly(people: People, width: int) -> None:
    page = _open(people, "wendy", width)
    if width < 820:
        page.click("#toggle-sidebar")
    page.locator("#buffers .buffer").first.click()
    expect(page.locator("#buffer-name")).to_have_text("ChatRoom")
    lines = page.locator("#message-list .msg")
    expect(lines.first.locator(".text")).to_have_text("Welcome to ChatRoom, wendy.")
    shown = page.locator("#message-list").inner_text()
    assert "1 person online, 1 room." in shown
    assert "Welcome to ChatRoom. Say hello in #lobby." in shown  # the MOTD itself stays
    for jargon in [
        "clients",
        "servers",
        "invisible",
        "/MOTD",
        "Your host",
        "unknown connection",
        "Message of the day -",
        "beI",
    ]:
        assert jargon not in shown, jargon


def test_web_icon_buttons_are_drawn_without_an_emoji_font(people: People) -> None:
    page = _open(people, "wendy", 390)
    for button in ["#toggle-sidebar", "#toggle-members"]:
        icon = page.locator(f"{button} svg")
        expect(icon).to_be_visible()
        box = icon.bounding_box()
        assert box is not None
        assert box["width"] >= 16
        assert box["height"] >= 16
        assert page.locator(button).inner_text().strip() == ""
        assert page.locator(button).get_attribute("aria-label")
    # No character of the page's own interface needs an emoji font.
    needs_emoji = page.evaluate(
        """() => {
            const emoji = /\\p{Extended_Pictographic}/u;
            return [...document.querySelectorAll("#chat-screen *")].some(node =>
                [...node.childNodes].some(c => c.nodeType === 3 && emoji.test(c.textContent))
                || emoji.test(getComputedStyle(node, "::before").content));
        }"""
    )
    assert not needs_emoji


def test_web_on_a_touch_phone_text_keeps_clear_of_the_menu_and_lines_keep_one_edge(
    people: People,
) -> None:
    """On a touch screen the ⋯ menu of one's own messages is always shown: the text used
    to run under it. A message of several lines starts under the nick, its lines at one
    left edge (after the nick, the first line began half-way across the screen)."""
    context = people.browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )
    people.contexts.append(context)
    page = context.new_page()
    page.on("pageerror", lambda error: people.errors.append(str(error)))
    page.goto(http_url(people.server) + "/")
    people.login(page, "wendy")
    expect(page.locator("#buffer-name")).to_have_text("#lobby")
    long = "a message of mine long enough to reach the right edge of a phone screen twice"
    people.say(page, long)
    mine = page.locator(".msg-msg", has_text="long enough")
    expect(mine.locator(".msg-actions")).to_be_visible()
    text = drawn_box(mine.locator(".text"))
    menu = drawn_box(mine.locator(".msg-actions"))
    assert text["x"] + text["width"] <= menu["x"] + 1, (text, menu)

    page.fill("#input", "def f():\n    return 1")  # pasted: one message of two lines
    page.press("#input", "Enter")
    code = page.locator(".msg-msg", has_text="return 1")
    expect(code).to_be_visible()
    nick = drawn_box(code.locator(".nick"))
    lines = drawn_box(code.locator(".text"))
    assert abs(lines["x"] - nick["x"]) <= 1, (lines, nick)
    assert lines["y"] >= nick["y"] + nick["height"] - 1
