"""The message box in a real Chromium: Tab completes nicks, rooms and commands, ↑ and ↓
bring back what was sent, and a pasted block of lines is sent as one multiline message
where the server offers IRCv3 ``draft/multiline``, else line by line at a pace the
server's flood control accepts, with the progress shown.
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Callable

from playwright.sync_api import Page, WebSocketRoute, expect

from tests.web.web_support import LineClient, People


def _typed(page: Page, text: str) -> None:
    page.fill("#input", text)
    page.locator("#input").press("End")


def _in_room(
    tcp_client: Callable[[str], LineClient], nick: str, room: str = "#lobby"
) -> LineClient:
    client = tcp_client(nick)
    client.send(f"JOIN {room}")
    client.wait_for(lambda line: f" 366 {nick} {room} " in line)
    return client


def _paste(page: Page, text: str) -> None:
    """Put ``text`` on the clipboard and press Ctrl+V in the message box, as a user does."""
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=page.url)
    page.evaluate("text => navigator.clipboard.writeText(text)", text)
    page.focus("#input")
    page.keyboard.press("Control+V")


def _without_cap(page: Page, cap: str) -> None:
    """Pass the page's WebSocket through to the server, hiding ``cap`` from its CAP LS: the
    paced path is tested whatever the server offers. Playwright runs the relay only while
    the test is inside a Playwright call: wait with ``_heard``, not ``LineClient.wait_for``."""

    def route(ws: WebSocketRoute) -> None:
        server = ws.connect_to_server()

        def from_server(message: str | bytes) -> None:
            text = message if isinstance(message, str) else message.decode()
            if re.search(r" CAP \S+ (LS|NEW) ", text):
                text = re.sub(rf"(?<=[ :]){re.escape(cap)}(=\S*)?( |$)", "", text)
            ws.send(text)

        server.on_message(from_server)

    page.route_web_socket(re.compile(r"/ws$"), route)


def _heard(page: Page, client: LineClient, ending: str) -> None:
    """Wait until ``client`` gets a line ending with ``ending``, letting the page's relay run."""
    deadline = time.monotonic() + 30
    while not any(line.endswith(ending) for line in client.lines):
        assert time.monotonic() < deadline, client.lines[-10:]
        page.wait_for_timeout(50)
        with contextlib.suppress(AssertionError):
            client.wait_for(lambda line: line.endswith(ending), timeout=0.05)


# ------------------------------------------------------------------ Tab completion


def test_web_tab_completes_nicks_rooms_and_commands(
    people: People, tcp_client: Callable[[str], LineClient]
) -> None:
    alice = people.join_as("alice")
    people.say(alice, "/join #team")
    expect(alice.locator("#buffer-name")).to_have_text("#team")
    bob = _in_room(tcp_client, "bob", "#team")
    bella = _in_room(tcp_client, "bella", "#team")
    _in_room(tcp_client, "tess", "#team")
    expect(alice.locator("#members .member")).to_have_count(4)
    bob.send("PRIVMSG #team :morning")
    bella.send("PRIVMSG #team :hi all")
    expect(alice.locator("#message-list")).to_contain_text("hi all")

    # At the start of the line a nick is addressed ("nick: "); the last speaker comes first.
    _typed(alice, "b")
    alice.press("#input", "Tab")
    expect(alice.locator("#input")).to_have_value("bella: ")
    alice.press("#input", "Tab")
    expect(alice.locator("#input")).to_have_value("bob: ")
    alice.press("#input", "Shift+Tab")
    expect(alice.locator("#input")).to_have_value("bella: ")

    # Inside a sentence, with any case: the nick as spelt, then a space.
    _typed(alice, "thanks T")
    alice.press("#input", "Tab")
    expect(alice.locator("#input")).to_have_value("thanks tess ")

    _typed(alice, "see #te")
    alice.press("#input", "Tab")
    expect(alice.locator("#input")).to_have_value("see #team ")

    _typed(alice, "/jo")
    alice.press("#input", "Tab")
    expect(alice.locator("#input")).to_have_value("/join ")

    # Nothing matches: the text stays as it was, and the focus stays in the box.
    _typed(alice, "zz")
    alice.press("#input", "Tab")
    expect(alice.locator("#input")).to_have_value("zz")
    expect(alice.locator("#input")).to_be_focused()


# ------------------------------------------------------------------ input history


def test_web_up_and_down_walk_through_what_was_sent(people: People) -> None:
    alice = people.join_as("alice")
    people.say(alice, "first line")
    people.say(alice, "/join #second")
    expect(alice.locator("#buffer-name")).to_have_text("#second")
    people.say(alice, "third line")
    expect(alice.locator("#message-list .msg-msg .text").last).to_have_text("third line")

    box = alice.locator("#input")
    box.press_sequentially("half typed")
    box.press("ArrowUp")
    expect(box).to_have_value("third line")
    box.press("ArrowUp")
    expect(box).to_have_value("/join #second")
    box.press("ArrowUp")
    expect(box).to_have_value("first line")
    box.press("ArrowUp")
    expect(box).to_have_value("first line")
    box.press("ArrowDown")
    expect(box).to_have_value("/join #second")
    box.press("ArrowDown")
    box.press("ArrowDown")
    expect(box).to_have_value("half typed")

    # A line brought back is sent again with Enter.
    box.press("ArrowUp")
    box.press("Enter")
    expect(alice.locator("#message-list .msg-msg .text")).to_have_text(["third line", "third line"])


def test_web_shift_enter_starts_a_second_line_and_up_moves_within_it(people: People) -> None:
    alice = people.join_as("alice")
    people.say(alice, "sent before")
    box = alice.locator("#input")
    box.press_sequentially("one")
    box.press("Shift+Enter")
    box.press_sequentially("two")
    expect(box).to_have_value("one\ntwo")
    box.press("ArrowUp")  # the caret goes to the first line, the text stays
    expect(box).to_have_value("one\ntwo")
    box.press("ArrowUp")  # now on the first line: the history
    expect(box).to_have_value("sent before")


# ------------------------------------------------------------------ pasting a block


def test_web_a_pasted_block_is_sent_line_by_line_at_the_flood_pace(
    people: People, tcp_client: Callable[[str], LineClient]
) -> None:
    """Without draft/multiline each line is a PRIVMSG. The client sends a few at once and
    then paces the rest under the server's flood limit, showing how far it got; every
    line arrives, in order, and the connection stays up (no "Excess Flood")."""
    alice = people.open()
    _without_cap(alice, "draft/multiline")
    people.login(alice, "alice")
    expect(alice.locator("#buffer-name")).to_have_text("#lobby")
    tess = _in_room(tcp_client, "tess")
    expect(alice.locator('#members .member[data-nick="tess"]')).to_be_visible()

    lines = [f"line {n:02d} of the paste" for n in range(1, 31)]
    block = "\n".join([*lines[:10], "", *lines[10:]]) + "\n"  # a blank line is skipped
    _paste(alice, block)
    expect(alice.locator("#input")).to_have_value(block)
    alice.press("#input", "Enter")
    expect(alice.locator("#outbox")).to_be_visible()
    expect(alice.locator("#outbox")).to_contain_text(re.compile(r"line \d+ of 30"))
    expect(alice.locator("#outbox progress")).to_have_attribute("max", "30")

    _heard(alice, tess, "line 30 of the paste")
    said = [line.split(" :", 1)[1] for line in tess.lines if " PRIVMSG #lobby :" in line]
    assert said == lines
    expect(alice.locator("#outbox")).to_be_hidden()
    expect(alice.locator("#message-list .msg-msg .text")).to_have_text(lines)
    expect(alice.locator("#status-banner")).to_be_hidden()
    expect(alice.locator("#input")).to_have_value("")


def test_web_stop_drops_the_rest_of_a_paced_paste(
    people: People, tcp_client: Callable[[str], LineClient]
) -> None:
    alice = people.open()
    _without_cap(alice, "draft/multiline")
    people.login(alice, "alice")
    expect(alice.locator("#buffer-name")).to_have_text("#lobby")
    tess = _in_room(tcp_client, "tess")
    _paste(alice, "\n".join(f"row {n}" for n in range(1, 41)))
    alice.press("#input", "Enter")
    alice.locator("#outbox button", has_text="Stop").click()
    expect(alice.locator("#outbox")).to_be_hidden()
    expect(alice.locator("#message-list .msg-error").last).to_contain_text("were not sent")
    people.say(alice, "after the stop")
    _heard(alice, tess, "after the stop")
    assert not any(line.endswith("row 40") for line in tess.lines)


# ------------------------------------------------------------------ draft/multiline


class FakeMultilineServer:
    """Plays the server's side of the page's WebSocket (Playwright's routing): it offers
    ``draft/multiline`` with small limits, signs the page on into #lobby and records every
    line the page sends. ChatRoom's own multiline support is another branch's; this pins
    what the client sends whenever a server offers it."""

    CAPS = "batch message-tags echo-message server-time draft/multiline=max-bytes=4096,max-lines=4"

    def __init__(self, page: Page) -> None:
        self.received: list[str] = []
        page.route_web_socket(re.compile(r"/ws$"), self.route)

    def route(self, ws: WebSocketRoute) -> None:
        def reply(message: str | bytes) -> None:
            line = message if isinstance(message, str) else message.decode()
            self.received.append(line)
            if line.startswith("CAP LS"):
                ws.send(f":fake CAP * LS :{self.CAPS}")
            elif line.startswith("CAP REQ"):
                ws.send(f":fake CAP * ACK :{line.split(':', 1)[1]}")
            elif line == "CAP END":
                ws.send(":fake 001 alice :Welcome to the Fake IRC Network alice")
            elif line.startswith("JOIN #lobby"):
                ws.send(":alice!~a@h JOIN #lobby")
                ws.send(":fake 353 alice = #lobby :alice")
                ws.send(":fake 366 alice #lobby :End of /NAMES list")

        ws.on_message(reply)

    def wait_for(self, page: Page, predicate: Callable[[list[str]], bool]) -> None:
        deadline = time.monotonic() + 10
        while not predicate(self.received):
            assert time.monotonic() < deadline, self.received[-20:]
            page.wait_for_timeout(50)  # lets Playwright run the route's callbacks


def test_web_a_pasted_block_is_one_multiline_message_when_the_server_offers_it(
    people: People,
) -> None:
    page = people.open()
    server = FakeMultilineServer(page)
    people.login(page, "alice")
    expect(page.locator("#buffer-name")).to_have_text("#lobby")
    server.wait_for(page, lambda lines: any(line.startswith("CAP REQ") for line in lines))
    assert "draft/multiline" in next(line for line in server.received if line.startswith("CAP REQ"))

    long_line = "y" * 450  # longer than one PRIVMSG carries: continued with multiline-concat
    _paste(page, "def hello():\n    print('hi')\n\nhello()\n" + long_line)
    page.press("#input", "Enter")
    server.wait_for(page, lambda lines: sum(line.startswith("BATCH -") for line in lines) == 2)

    start = next(i for i, line in enumerate(server.received) if line.startswith("BATCH +"))
    sent = [line for line in server.received[start:] if "BATCH" in line or "PRIVMSG" in line]
    ref1 = sent[0].split(" ")[1][1:]
    ref2 = sent[6].split(" ")[1][1:]
    assert ref1 != ref2
    assert sent == [
        f"BATCH +{ref1} draft/multiline #lobby",
        f"@batch={ref1} PRIVMSG #lobby :def hello():",
        f"@batch={ref1} PRIVMSG #lobby :    print('hi')",
        f"@batch={ref1} PRIVMSG #lobby :",
        f"@batch={ref1} PRIVMSG #lobby hello()",
        f"BATCH -{ref1}",
        # max-lines=4: the long line (two pieces) goes in a second batch.
        f"BATCH +{ref2} draft/multiline #lobby",
        f"@batch={ref2} PRIVMSG #lobby {'y' * 400}",
        f"@batch={ref2};draft/multiline-concat PRIVMSG #lobby {'y' * 50}",
        f"BATCH -{ref2}",
    ]
    expect(page.locator("#outbox")).to_be_hidden()
