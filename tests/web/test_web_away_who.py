"""The web client's WHO on joining a room (who is away there already): asked once the
member list is in (366), and only in rooms of up to 100 members, as the terminal client
does. A big room's WHO is a line per member for the server and the page; there the away
marks come from away-notify alone."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, WebSocket, expect

from tests.realserver import ServerThread
from tests.web.web_support import LineClient, People, web_config

BIG = 101
"""Members of the big room besides the page's user: over the limit of 100."""


@pytest.fixture
def web_server(tmp_path: Path) -> Iterator[ServerThread]:
    """The web tests' server, letting one address open enough connections for a big room."""
    more: dict[str, object] = {
        "limits.connections_per_address": BIG + 20,
        "limits.connects_per_address_per_minute": BIG + 20,
    }
    server = ServerThread(web_config(tmp_path, more)).start()
    yield server
    server.stop()


def _who_sent(page: Page) -> list[str]:
    """Every WHO line the page sends from now on (call before logging in)."""
    sent: list[str] = []

    def watch(socket: WebSocket) -> None:
        def frame(payload: str | bytes) -> None:
            line = payload if isinstance(payload, str) else payload.decode()
            if line.upper().startswith("WHO "):
                sent.append(line)

        socket.on("framesent", frame)

    page.on("websocket", watch)
    return sent


def _join_in_page(page: Page, room: str) -> None:
    page.fill("#join-input", room)
    page.press("#join-input", "Enter")
    expect(page.locator("#buffer-name")).to_have_text(room)
    expect(page.locator("#members .member.self")).to_be_visible()


def _in_room(client: LineClient, room: str) -> None:
    client.send(f"JOIN {room}")
    client.wait_for(lambda line: f" 366 {client.nick} {room} " in line)


def test_web_asks_who_in_a_small_room_and_not_in_one_over_a_hundred(
    people: People, tcp_client: Callable[..., LineClient]
) -> None:
    tess = tcp_client("tess")
    tess.send("AWAY :on holiday")
    _in_room(tess, "#small")
    crowd = [tcp_client(f"m{n:03d}") for n in range(BIG)]
    for member in crowd:
        _in_room(member, "#big")
    crowd[0].send("AWAY :before you came")

    alice = people.open()
    who = _who_sent(alice)
    people.login(alice, "alice")
    expect(alice.locator("#buffer-name")).to_have_text("#lobby")

    _join_in_page(alice, "#small")
    expect(alice.locator('#members .member[data-nick="tess"]')).to_have_class("member away")
    assert "WHO #small" in who, who

    _join_in_page(alice, "#big")
    expect(alice.locator("#members .member")).to_have_count(BIG + 1)
    # Away-notify still marks who goes away once we are in.
    crowd[1].send("AWAY :lunch")
    expect(alice.locator('#members .member[data-nick="m001"]')).to_have_class("member away")
    assert not [line for line in who if "#big" in line], who
    # Nor was the list asked for another way (a bare WHO, or one of the members).
    assert all(line.split()[1].startswith("#") for line in who), who
