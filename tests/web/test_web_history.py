"""Scrollback in a real Chromium through the server's real IRCv3 ``draft/chathistory``.

The history is made by the ``irc`` library over TCP before the browser user arrives; the
browser then asks ``CHATHISTORY LATEST`` when a conversation opens and ``CHATHISTORY
BEFORE`` (the oldest line shown, by msgid) when the user scrolls to the top or presses
*Load older messages*. The requests the page sends are read off its WebSocket, so the
tests also see that paging stops at the beginning of the history instead of asking again.
"""

from __future__ import annotations

import datetime
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, WebSocket, expect

from tests.realserver import Client, ServerThread
from tests.web.web_support import People, web_config

PASSWORD = "correct horse battery"
LINES = "#message-list .msg-msg .text, #message-list .msg-action .text"


@pytest.fixture
def web_server(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[ServerThread]:
    """The web tests' server with flood control off, so a TCP client fills a room's history
    at once; a test adds settings with ``@pytest.mark.parametrize(..., indirect=True)``."""
    extra: dict[str, object] = {"limits.flood_per_second": 0}
    extra.update(getattr(request, "param", {}))
    server = ServerThread(web_config(tmp_path, extra)).start()
    yield server
    server.stop()


@pytest.fixture
def irc_client(web_server: ServerThread) -> Iterator[Callable[[str], Client]]:
    """Registered ``irc`` library clients over TCP, closed at the end of the test."""
    clients: list[Client] = []

    def make(nick: str) -> Client:
        client = Client(web_server.port, nick)
        clients.append(client)
        client.wait_type("welcome")
        return client

    yield make
    for client in clients:
        client.close()


def _join(client: Client, room: str = "#lobby") -> None:
    client.conn.join(room)
    client.wait_type("endofnames")


def _synced(client: Client) -> None:
    """Wait until the server has handled everything ``client`` sent (it answers in order)."""
    client.conn.ping("synced")
    client.wait_type("pong")


def _said_in_lobby(irc_client: Callable[[str], Client], said: list[str]) -> Client:
    """tess joins #lobby over TCP and says ``said`` there, before anyone else arrives."""
    tess = irc_client("tess")
    _join(tess)
    for text in said:
        tess.conn.privmsg("#lobby", text)
    _synced(tess)
    return tess


def _load_older(page: Page) -> None:
    """Press *Load older messages* without scrolling to it first: a scroll to the top loads
    older lines by itself, and the button may vanish (a short page) before a click lands."""
    button = page.locator("#load-older")
    expect(button).to_be_visible()
    button.dispatch_event("click")


def _history_requests(page: Page) -> list[str]:
    """Every CHATHISTORY line the page sends from now on (call before logging in)."""
    sent: list[str] = []

    def watch(socket: WebSocket) -> None:
        def frame(payload: str | bytes) -> None:
            line = payload if isinstance(payload, str) else payload.decode()
            if line.startswith("CHATHISTORY "):
                sent.append(line)

        socket.on("framesent", frame)

    page.on("websocket", watch)
    return sent


def _log_in(people: People, nick: str, password: str = "") -> tuple[Page, list[str]]:
    page = people.open()
    requests = _history_requests(page)
    people.login(page, nick, password)
    expect(page.locator("#buffer-name")).to_have_text("#lobby")
    return page, requests


def _scroll_to_top(page: Page) -> None:
    """What a reader does: the mouse over the conversation, the wheel turned upwards."""
    page.locator("#messages").hover()
    page.mouse.wheel(0, -100_000)


def _round_trip(people: People, page: Page, text: str) -> None:
    """Say something and see it come back: whatever the page sent before has been sent."""
    people.say(page, text)
    expect(page.locator("#message-list .msg-msg .text").last).to_have_text(text)


def test_web_scrolling_up_in_a_room_loads_older_messages_until_the_beginning(
    people: People, irc_client: Callable[[str], Client]
) -> None:
    """120 lines said earlier over TCP: the newest 50 on joining, 50 more each time the
    reader scrolls to the top, in order, each once, the reader's place kept; at the
    beginning the load control goes away and scrolling up asks nothing more.

    The client asks for draft/event-playback, so a page of 50 counts the room's events
    too: alice's own join is the newest line of the first page, tess's the oldest."""
    said = [f"line {n:03d}" for n in range(1, 121)]
    _said_in_lobby(irc_client, said)

    page, requests = _log_in(people, "alice")
    lines = page.locator(LINES)
    expect(lines).to_have_text(said[-49:])
    expect(page.locator("#message-list .msg-event").last).to_have_text(re.compile("alice joined"))
    expect(page.locator("#message-list .msg", has_text="line 120")).to_be_in_viewport()
    expect(page.locator("#load-older")).to_be_visible()
    assert requests == ["CHATHISTORY LATEST #lobby * 50"]

    _scroll_to_top(page)
    expect(lines).to_have_text(said[-99:])
    # The reader stays where they were: the line that was at the top is still in view.
    expect(page.locator("#message-list .msg", has_text="line 072")).to_be_in_viewport()
    expect(page.locator("#message-list .msg", has_text="line 120")).not_to_be_in_viewport()

    _scroll_to_top(page)
    expect(lines).to_have_text(said)
    expect(page.locator("#message-list .msg").first).to_contain_text("tess joined")
    expect(page.locator("#load-older")).to_be_hidden()
    assert [r.split(" ")[:2] + r.split(" ")[-1:] for r in requests] == [
        ["CHATHISTORY", "LATEST", "50"],
        ["CHATHISTORY", "BEFORE", "50"],
        ["CHATHISTORY", "BEFORE", "50"],
    ]
    assert all(r.split(" ")[3].startswith("msgid=") for r in requests[1:])

    # At the beginning, scrolling up again asks for nothing.
    _scroll_to_top(page)
    page.wait_for_function("() => document.getElementById('messages').scrollTop === 0")
    _round_trip(people, page, "that is all of it")
    assert len(requests) == 3
    expect(lines).to_have_text([*said, "that is all of it"])


def test_web_private_conversation_shows_its_history_when_opened(
    people: People, irc_client: Callable[[str], Client]
) -> None:
    """alice (an account) was sent 60 private lines over TCP and answered once; later, in
    the browser, opening the conversation with tess shows the newest 50, and *Load older
    messages* the rest, down to the first line, and then goes away."""
    alice = irc_client("alice")
    alice.conn.send_raw(f"REGISTER * * :{PASSWORD}")
    alice.wait_for(
        lambda e: e.type == "all_raw_messages" and " REGISTER SUCCESS " in e.arguments[0]
    )
    tess = irc_client("tess")
    said = [f"psst {n:02d}" for n in range(1, 61)]
    for text in said:
        tess.conn.privmsg("alice", text)
    alice.wait_for(lambda e: e.type == "privmsg" and e.arguments == [said[-1]])
    alice.conn.privmsg("tess", "got them all")
    _synced(alice)
    alice.close()
    tess.wait_for(lambda e: e.type == "privmsg" and e.arguments == ["got them all"])
    # The nick is free again before the browser asks for it.
    for _ in range(50):
        tess.conn.ison(["alice"])
        if not tess.wait_type("ison").arguments[0].strip():
            break
        tess.events.clear()
    conversation = [*said, "got them all"]

    page, requests = _log_in(people, "alice", PASSWORD)
    people.say(page, "/query tess")
    expect(page.locator("#buffer-name")).to_have_text("tess")
    lines = page.locator(LINES)
    expect(lines).to_have_text(conversation[-50:])
    expect(page.locator("#message-list .msg.self .text")).to_have_text(["got them all"])
    assert "CHATHISTORY LATEST tess * 50" in requests

    _load_older(page)
    expect(lines).to_have_text(conversation)
    expect(page.locator("#load-older")).to_be_hidden()
    assert [r.split(" ")[1] for r in requests if " tess " in r] == ["LATEST", "BEFORE"]


def test_web_an_action_from_history_is_shown_as_an_action(
    people: People, irc_client: Callable[[str], Client]
) -> None:
    """/me lines from history are drawn as actions (star, nick, text); when every line
    shown is an action, *Load older messages* still reaches the plain lines before them."""
    tess = irc_client("tess")
    _join(tess)
    early = [f"early {n}" for n in range(1, 6)]
    waves = [f"waves {n:02d}" for n in range(1, 51)]
    for text in early:
        tess.conn.privmsg("#lobby", text)
    for text in waves:
        tess.conn.action("#lobby", text)
    _synced(tess)

    page, _ = _log_in(people, "alice")
    actions = page.locator("#message-list .msg-action")
    expect(actions.locator(".text")).to_have_text(waves[1:])  # alice's join is the 50th line
    expect(actions.first.locator(".star")).to_have_text("*")
    expect(actions.first.locator(".nick")).to_have_text("tess")
    expect(page.locator("#message-list .msg-msg")).to_have_count(0)

    _load_older(page)
    expect(page.locator(LINES)).to_have_text([*early, *waves])
    expect(page.locator("#message-list .msg-msg .nick")).to_have_text(["tess"] * 5)
    expect(page.locator("#load-older")).to_be_hidden()


@pytest.mark.parametrize("web_server", [{"history.chathistory_limit": 20}], indirect=True)
def test_web_pages_through_history_when_the_server_returns_fewer_lines_per_request(
    people: People, irc_client: Callable[[str], Client]
) -> None:
    """A server whose ISUPPORT says CHATHISTORY=20: the client asks for 20 at a time, and a
    full page of 20 is not mistaken for the beginning of the history (a page counts the
    joins too: alice's own is the newest line of the first)."""
    said = [f"line {n:02d}" for n in range(1, 46)]
    _said_in_lobby(irc_client, said)

    page, requests = _log_in(people, "alice")
    lines = page.locator(LINES)
    expect(lines).to_have_text(said[-19:])
    for shown in (said[-39:], said):
        _load_older(page)
        expect(lines).to_have_text(shown)
    expect(page.locator("#load-older")).to_be_hidden()
    assert [r.split(" ")[1] for r in requests] == ["LATEST", "BEFORE", "BEFORE"]
    assert all(r.endswith(" 20") for r in requests)


def test_web_every_saved_room_gets_its_history_when_signing_in_to_many_at_once(
    people: People, irc_client: Callable[[str], Client]
) -> None:
    """Signing in rejoins all saved rooms at once; the server answers only a few history
    requests per connection at a time, so the client queues them and no room goes without."""
    rooms = [f"#room{n}" for n in range(1, 8)]
    tess = irc_client("tess")
    for room in rooms:
        _join(tess, room)
        tess.events.clear()
        tess.conn.privmsg(room, f"earlier in {room}")
    _synced(tess)

    page = people.open()
    page.evaluate(f"localStorage.setItem('chatroom.rooms', '{json.dumps(rooms)}')")
    requests = _history_requests(page)
    people.login(page, "alice")
    expect(page.locator("#buffer-name")).to_have_text(rooms[0])
    for room in rooms:
        page.click(f'#buffers .buffer[data-name="{room}"]')
        expect(page.locator("#buffer-name")).to_have_text(room)
        expect(page.locator(LINES)).to_have_text([f"earlier in {room}"])
        expect(page.locator("#message-list .msg-error")).to_have_count(0)
        expect(page.locator("#load-older")).to_be_hidden()
    assert sorted(r.split(" ")[2] for r in requests) == rooms


def _drop_connection(server: ServerThread, nick: str) -> None:
    """The server loses ``nick``'s connection (as when a network drops), nobody else's."""
    shell, loop = server.shell, server.loop
    assert shell is not None
    assert loop is not None
    conns = [c for c in list(shell.connections.values()) if c.session and c.session.nick == nick]
    assert conns, f"{nick} is not connected"
    for conn in conns:
        loop.call_soon_threadsafe(conn.abort)


def test_web_after_a_reconnect_the_room_shows_what_was_said_while_away_in_order_once(
    people: People, irc_client: Callable[[str], Client], web_server: ServerThread
) -> None:
    """The browser loses its connection; meanwhile 120 lines are said in its room over TCP.
    Once back, it asks ``CHATHISTORY AFTER`` the last line it had seen (by msgid), page by
    page until a short page, and shows every missed line once, in order, between what it
    had before and what is said after."""
    tess = irc_client("tess")
    _join(tess)
    before = [f"before {n}" for n in range(1, 4)]
    for text in before:
        tess.conn.privmsg("#lobby", text)
    _synced(tess)
    page, requests = _log_in(people, "alice")
    lines = page.locator(LINES)
    expect(lines).to_have_text(before)

    _drop_connection(web_server, "alice")
    expect(page.locator("#status-banner")).to_contain_text("Reconnecting")
    away = [f"away {n:03d}" for n in range(1, 121)]
    for text in away:
        tess.conn.privmsg("#lobby", text)
    _synced(tess)

    expect(page.locator("#status-banner")).to_be_hidden()
    expect(page.locator('#members .member[data-nick="alice"]')).to_be_visible()
    expect(lines).to_have_text([*before, *away])
    tess.conn.privmsg("#lobby", "welcome back")
    expect(lines).to_have_text([*before, *away, "welcome back"])
    room = [r for r in requests if " #lobby " in r]
    assert [r.split(" ")[1] for r in room] == ["LATEST", "AFTER", "AFTER", "AFTER"], requests
    assert all(r.split(" ")[3].startswith("msgid=") for r in room[1:])


SECRET = "correct-horse-battery"  # one word: IDENTIFY takes it as a parameter


def _alice_with_a_phone(irc_client: Callable[[str], Client]) -> Client:
    """The account alice, and a second connection logged in to it over TCP ("phone")."""
    setup = irc_client("alice")
    setup.conn.send_raw(f"REGISTER * * :{SECRET}")
    setup.wait_for(
        lambda e: e.type == "all_raw_messages" and " REGISTER SUCCESS " in e.arguments[0]
    )
    setup.close()
    phone = irc_client("phone")
    phone.conn.privmsg("NickServ", f"IDENTIFY alice {SECRET}")
    phone.wait_for(lambda e: e.type == "all_raw_messages" and " 900 phone " in e.arguments[0])
    return phone


def test_web_after_a_reconnect_a_private_conversation_gets_what_was_said_while_away(
    people: People, irc_client: Callable[[str], Client], web_server: ServerThread
) -> None:
    """alice is in the browser and, logged in to the same account, on another device over
    TCP. While the browser is disconnected, tess writes to that other device and the other
    device answers; back online, the browser fills its open conversation with tess, and
    learns from ``CHATHISTORY TARGETS`` that rita wrote too, whose conversation it opens
    with her line, unread."""
    tess = irc_client("tess")
    rita = irc_client("rita")
    phone = _alice_with_a_phone(irc_client)

    page, requests = _log_in(people, "alice", SECRET)
    people.say(page, "/query tess")
    expect(page.locator("#buffer-name")).to_have_text("tess")
    tess.conn.privmsg("alice", "hello there")
    lines = page.locator(LINES)
    expect(lines).to_have_text(["hello there"])

    _drop_connection(web_server, "alice")
    expect(page.locator("#status-banner")).to_contain_text("Reconnecting")
    tess.conn.privmsg("phone", "are you there?")
    phone.wait_for(lambda e: e.type == "privmsg" and e.arguments == ["are you there?"])
    phone.conn.privmsg("tess", "on my phone")
    rita.conn.privmsg("phone", "ping from rita")
    phone.wait_for(lambda e: e.type == "privmsg" and e.arguments == ["ping from rita"])
    _synced(phone)

    expect(page.locator("#status-banner")).to_be_hidden()
    expect(lines).to_have_text(["hello there", "are you there?", "on my phone"])
    rita_button = page.locator('#buffers .buffer[data-name="rita"]')
    expect(rita_button.locator(".badge")).to_have_text("1")
    rita_button.click()
    expect(lines).to_have_text(["ping from rita"])
    assert any(r.startswith("CHATHISTORY AFTER tess msgid=") for r in requests), requests
    assert any(r.startswith("CHATHISTORY TARGETS timestamp=") for r in requests), requests


def test_web_a_browser_clock_running_ahead_does_not_hide_who_wrote_while_away(
    people: People, irc_client: Callable[[str], Client], web_server: ServerThread
) -> None:
    """The computer's clock is an hour fast. Asking CHATHISTORY TARGETS from its time
    would miss rita, who wrote just after the drop; the client starts from the server's
    time of the last line it saw instead."""
    tess = irc_client("tess")
    rita = irc_client("rita")
    phone = _alice_with_a_phone(irc_client)
    page, requests = _log_in(people, "alice", SECRET)
    page.clock.set_fixed_time(datetime.datetime.now(datetime.UTC) + datetime.timedelta(hours=1))
    people.say(page, "/query tess")
    tess.conn.privmsg("alice", "hello there")
    lines = page.locator(LINES)
    expect(lines).to_have_text(["hello there"])

    _drop_connection(web_server, "alice")
    expect(page.locator("#status-banner")).to_contain_text("Reconnecting")
    rita.conn.privmsg("phone", "ping from rita")
    phone.wait_for(lambda e: e.type == "privmsg" and e.arguments == ["ping from rita"])

    expect(page.locator("#status-banner")).to_be_hidden()
    rita_button = page.locator('#buffers .buffer[data-name="rita"]')
    expect(rita_button.locator(".badge")).to_have_text("1")
    rita_button.click()
    expect(lines).to_have_text(["ping from rita"])
    assert any(r.startswith("CHATHISTORY TARGETS timestamp=") for r in requests), requests
