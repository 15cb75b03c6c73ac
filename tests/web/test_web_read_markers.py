"""Read markers (IRCv3 ``draft/read-marker``) in a real Chromium: one account on two
devices (two browser contexts, one of them phone-sized) agree on what is unread, because
each moves the server's marker as its user reads and hears the other's moves; the marker
outlives the page, so a reload draws the "new messages" line where the user stopped.

The account's second device gets the nick ``alice_`` until the server attaches both
connections to one user; the page knows its own lines by the account either way."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import Locator, Page, WebSocket, expect

from tests.web.web_support import LineClient, People, drawn_box

PASSWORD = "correct-horse-battery"


def _account(tcp_client: Callable[[str], LineClient], name: str) -> None:
    """Create the account ``name`` over TCP and leave."""
    setup = tcp_client(name)
    setup.send(f"REGISTER * * :{PASSWORD}")
    setup.wait_for(lambda line: " REGISTER SUCCESS " in line)
    setup.close()


def _device(people: People, width: int = 1280, height: int = 800) -> tuple[Page, list[str]]:
    """A browser logged in to alice, in #lobby; with every MARKREAD line it sends."""
    page = people.open(width=width, height=height)
    sent = _markreads(page)
    people.login(page, "alice", PASSWORD)
    expect(page.locator("#buffer-name")).to_have_text("#lobby")
    return page, sent


def _markreads(page: Page) -> list[str]:
    """Every MARKREAD line the page sends from now on, across reconnects and reloads."""
    sent: list[str] = []

    def watch(socket: WebSocket) -> None:
        def frame(payload: str | bytes) -> None:
            line = payload if isinstance(payload, str) else payload.decode()
            if line.startswith("MARKREAD "):
                sent.append(line)

        socket.on("framesent", frame)

    page.on("websocket", watch)
    return sent


def _wait_until(page: Page, condition: Callable[[], bool]) -> None:
    """Let the page run until ``condition`` holds (what it sent is seen asynchronously)."""
    for _ in range(100):
        if condition():
            return
        page.wait_for_timeout(100)
    raise AssertionError("the page never got there")


def _messages_and_marker(page: Page) -> list[str]:
    """The chat lines of the open conversation, top to bottom, with "new" where the
    "new messages" line is (day lines and room events left out)."""
    shown: list[str] = page.eval_on_selector_all(
        "#message-list > li.new-marker, #message-list > li.msg-msg",
        """items => items.map(item => item.classList.contains("new-marker")
            ? "new" : item.querySelector(".text").textContent)""",
    )
    return shown


def _room(page: Page, name: str) -> None:
    """Open a room from the room list (on a phone, the list slides in first)."""
    if page.viewport_size and page.viewport_size["width"] < 820:
        page.click("#toggle-sidebar")
    page.locator(f'#buffers .buffer[data-name="{name}"]').click()
    expect(page.locator("#buffer-name")).to_have_text(name)


def _badge(page: Page, room: str) -> Locator:
    return page.locator(f'#buffers .buffer[data-name="{room}"] .badge')


def test_web_two_devices_of_one_account_agree_on_unread_lines(
    people: People, tcp_client: Callable[[str], LineClient]
) -> None:
    """A line arrives in #lobby while both devices look at #team: both count it. The laptop
    opens #lobby and reads it; the phone's count goes to 0 and opening #lobby there draws no
    "new messages" line. The next line is read on the phone: the laptop's count clears."""
    _account(tcp_client, "alice")
    laptop, _ = _device(people)
    phone, _ = _device(people, width=390, height=844)
    for page in (laptop, phone):
        people.say(page, "/join #team")
        expect(page.locator("#buffer-name")).to_have_text("#team")

    tess = tcp_client("tess")
    tess.send("JOIN #lobby", "PRIVMSG #lobby :hello both")
    expect(_badge(laptop, "#lobby")).to_have_text("1")
    expect(_badge(phone, "#lobby")).to_have_text("1")

    _room(laptop, "#lobby")
    assert _messages_and_marker(laptop)[-2:] == ["new", "hello both"]
    expect(_badge(phone, "#lobby")).to_have_count(0)
    _room(phone, "#lobby")
    expect(phone.locator("#message-list")).to_contain_text("hello both")
    expect(phone.locator(".new-marker")).to_have_count(0)

    _room(laptop, "#team")
    _room(phone, "#team")
    tess.send("PRIVMSG #lobby :one more")
    expect(_badge(laptop, "#lobby")).to_have_text("1")
    expect(_badge(phone, "#lobby")).to_have_text("1")
    _room(phone, "#lobby")
    assert _messages_and_marker(phone)[-3:] == ["hello both", "new", "one more"]
    marker = phone.locator(".new-marker")
    expect(marker).to_be_in_viewport()
    box = drawn_box(marker)
    assert box["x"] >= 0
    assert box["x"] + box["width"] <= 390
    expect(_badge(laptop, "#lobby")).to_have_count(0)


def test_web_own_lines_from_another_device_are_not_unread(
    people: People, tcp_client: Callable[[str], LineClient]
) -> None:
    """What alice says from a terminal logged in to her account reaches the browser as hers
    (account-tag): it is not counted, and the "new messages" line skips it."""
    _account(tcp_client, "alice")
    page, _ = _device(people, width=390, height=844)
    people.say(page, "/join #team")
    expect(page.locator("#buffer-name")).to_have_text("#team")
    terminal = tcp_client("terminal")
    terminal.send(f"PRIVMSG NickServ :IDENTIFY alice {PASSWORD}")
    terminal.wait_for(lambda line: " 900 terminal " in line)
    tess = tcp_client("tess")
    tess.send("JOIN #lobby")
    terminal.send("JOIN #lobby", "PRIVMSG #lobby :said on my terminal")
    tess.wait_for(lambda line: "said on my terminal" in line)
    tess.send("PRIVMSG #lobby :from tess")
    expect(_badge(page, "#lobby")).to_have_text("1")
    _room(page, "#lobby")
    shown = _messages_and_marker(page)
    assert shown[-3:] == ["said on my terminal", "new", "from tess"], shown


def test_web_read_marker_survives_a_reload(
    people: People, tcp_client: Callable[[str], LineClient]
) -> None:
    """alice reads #lobby, goes to #team, and a line arrives in #lobby. She reloads the
    page and logs in again: the "new messages" line is above that line, where she stopped,
    as the server kept it (the browser's storage has no say for an account)."""
    _account(tcp_client, "alice")
    page, sent = _device(people)
    tess = tcp_client("tess")
    tess.send("JOIN #lobby", "PRIVMSG #lobby :read already")
    expect(page.locator("#message-list")).to_contain_text("read already")
    people.say(page, "/join #team")
    expect(page.locator("#buffer-name")).to_have_text("#team")
    _wait_until(page, lambda: any(line.startswith("MARKREAD #lobby timestamp=") for line in sent))
    tess.send("PRIVMSG #lobby :missed while away")
    expect(_badge(page, "#lobby")).to_have_text("1")

    page.reload()
    people.login(page, "alice", PASSWORD)
    expect(page.locator("#buffer-name")).to_have_text("#lobby")
    expect(page.locator("#message-list")).to_contain_text("missed while away")
    shown = _messages_and_marker(page)
    assert shown[-3:] == ["read already", "new", "missed while away"], shown


def test_web_account_reopens_recent_private_conversations_at_login(
    people: People, tcp_client: Callable[[str], LineClient]
) -> None:
    """tess wrote to alice on another device; a fresh browser (no saved state) logging in
    to alice opens that conversation from CHATHISTORY TARGETS, unread, since no device read
    it, and reading it there clears it on the other device too."""
    _account(tcp_client, "alice")
    laptop, _ = _device(people)
    tess = tcp_client("tess")
    tess.send("PRIVMSG alice :are you there?")
    tess_button = laptop.locator('#buffers .buffer[data-name="tess"]')
    expect(tess_button.locator(".badge")).to_have_text("1")

    phone, _ = _device(people, width=390, height=844)
    expect(_badge(phone, "tess")).to_have_text("1")
    _room(phone, "tess")
    assert _messages_and_marker(phone) == ["new", "are you there?"]
    expect(tess_button.locator(".badge")).to_have_count(0)


def test_web_guest_sends_no_read_markers(people: People) -> None:
    """A guest has no marker on the server: the page never sends MARKREAD."""
    page = people.open()
    sent = _markreads(page)
    people.login(page, "visitor")
    expect(page.locator("#buffer-name")).to_have_text("#lobby")
    people.say(page, "hello")
    expect(page.locator("#message-list .msg-msg .text").last).to_have_text("hello")
    people.say(page, "/join #team")
    expect(page.locator("#buffer-name")).to_have_text("#team")
    assert sent == []


def test_web_does_not_send_back_a_marker_another_device_just_moved(
    people: People, tcp_client: Callable[..., LineClient]
) -> None:
    """alice reads #lobby in the browser as a line arrives; before the page sends its
    gathered move, her terminal marks that line read and the server tells the page. The
    page then has nothing new to say: it sends no MARKREAD for that line (it used to send
    the marker it had just heard back to the server). The page's timers run only when the
    test says, so the terminal's move always comes first."""
    _account(tcp_client, "alice")
    page = people.open()
    page.clock.install()
    page.reload()
    sent = _markreads(page)
    people.login(page, "alice", PASSWORD)
    expect(page.locator("#buffer-name")).to_have_text("#lobby")
    terminal = tcp_client("terminal", caps="draft/read-marker server-time")
    terminal.send(f"PRIVMSG NickServ :IDENTIFY alice {PASSWORD}")
    terminal.wait_for(lambda line: " 900 " in line)
    terminal.send("JOIN #lobby")
    terminal.wait_for(lambda line: " 366 " in line)
    page.clock.run_for(2000)  # the page's moves so far are sent
    page.wait_for_timeout(300)
    page.clock.pause_at(page.evaluate("Date.now()") + 1000)
    before = len(sent)

    tess = tcp_client("tess")
    tess.send("JOIN #lobby", "PRIVMSG #lobby :read on the terminal")
    said = terminal.wait_for(lambda line: "read on the terminal" in line)
    stamp = said.split("time=", 1)[1].split(";", 1)[0].split(" ", 1)[0]
    expect(page.locator("#message-list")).to_contain_text("read on the terminal")
    terminal.send(f"MARKREAD #lobby timestamp={stamp}")
    terminal.wait_for(lambda line: f"MARKREAD #lobby timestamp={stamp}" in line)
    page.wait_for_timeout(500)  # the server's news of the move reaches the page
    page.clock.run_for(2000)  # the page's gathered moves go now
    page.wait_for_timeout(500)
    assert f"MARKREAD #lobby timestamp={stamp}" not in sent[before:], sent[before:]
