"""Who may talk to the web port, and as whom: the Host a request names (DNS rebinding),
the client a trusted reverse proxy names, and how long a connection may sit idle.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from chatroom import admin
from chatroom.server.net.http import host_allowed
from chatroom.server.store.sqlite import SqliteStore, default_db_path
from tests.realserver import ServerThread
from tests.web.web_support import LineClient, People, http_url, run_async, web_config


async def _sign_on(url: str, nick: str, headers: dict[str, str]) -> list[str]:
    """Register over /ws with extra handshake headers; the lines up to 001 or the close."""
    lines: list[str] = []
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(url + "/ws", protocols=("text.ircv3.net",), headers=headers) as ws,
    ):
        await ws.send_str(f"NICK {nick}")
        await ws.send_str(f"USER {nick} 0 * :{nick}")
        while not any(" 001 " in line for line in lines):
            msg = await ws.receive(timeout=5)
            if msg.type is not aiohttp.WSMsgType.TEXT:
                break
            lines.append(msg.data)
    return lines


def sign_on(server: ServerThread, nick: str, **headers: str) -> list[str]:
    return run_async(
        _sign_on(http_url(server), nick, {k.replace("_", "-"): v for k, v in headers.items()})
    )


def _status(url: str, host: str) -> int:
    async def fetch() -> int:
        async with (
            aiohttp.ClientSession() as session,
            session.get(url, headers={"Host": host}) as response,
        ):
            return response.status

    return run_async(fetch())


# ------------------------------------------------------------------ Host (DNS rebinding)


def test_a_rebound_name_is_refused_on_every_route(web_server: ServerThread) -> None:
    """A page at evil.example made to resolve to this server sends its own name as Host and
    a matching Origin, which the origin check alone would take for the same origin."""
    port = web_server.http_port
    evil = f"evil.example:{port}"
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        sign_on(web_server, "mallory", Host=evil, Origin=f"http://{evil}")
    assert refused.value.status == 421
    for path in ("/", "/metrics", "/static/app.js"):
        assert _status(http_url(web_server) + path, evil) == 421


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "[::1]", "chat.example.org"])
def test_the_names_the_server_is_reached_at_are_accepted(tmp_path: Path, host: str) -> None:
    server = ServerThread(web_config(tmp_path, {"http.hostnames": "chat.example.org"})).start()
    try:
        named = f"{host}:{server.http_port}"
        lines = sign_on(server, "wendy", Host=named, Origin=f"http://{named}")
        assert any(" 001 wendy " in line for line in lines)
    finally:
        server.stop()


# ------------------------------------------------------------------ trusted proxies


@pytest.fixture
def behind_proxy(tmp_path: Path) -> ServerThread:
    """The "proxy" is everything on 127.0.0.0/8; 203.0.113.66 is banned in the store."""
    config = web_config(
        tmp_path,
        {"http.trusted_proxies": "127.0.0.0/8", "limits.connections_per_address": 2},
    )
    config.data_dir.mkdir(parents=True)
    store = SqliteStore(default_db_path(config.data_dir))
    admin.add_ban(store, "203.0.113.66", "no trolls")
    store.close()
    return ServerThread(config)


def test_a_trusted_proxy_names_the_client_for_whois_limits_and_bans(
    behind_proxy: ServerThread,
) -> None:
    server = behind_proxy.start()
    try:
        watcher = LineClient(server.port, "watcher")
        # WHOIS shows the client's address, not the proxy's.
        assert any(
            " 001 " in line for line in sign_on(server, "pat", X_Forwarded_For="203.0.113.5")
        )
        # (the session is gone again; WHOWAS remembers where it came from)
        watcher.send("WHOWAS pat")
        assert "203.0.113.5" in watcher.wait_for(lambda line: " 314 watcher pat " in line)
        # A server ban on the client's address holds behind the proxy.
        banned = sign_on(server, "troll", X_Forwarded_For="203.0.113.66")
        assert not any(" 001 " in line for line in banned)
        assert any("no trolls" in line for line in banned)
        watcher.close()
    finally:
        server.stop()


def test_per_address_limits_count_the_client_behind_the_proxy(
    behind_proxy: ServerThread,
) -> None:
    """Two sessions per address: a third from one client is refused, another client is
    not, and the proxy's own address (which carries them all) is never the one counted."""
    server = behind_proxy.start()
    url = http_url(server)

    async def scenario() -> list[list[str]]:
        sockets = []
        answers = []
        async with aiohttp.ClientSession() as session:
            for nick, ip in [("a1", "203.0.113.1"), ("a2", "203.0.113.1"),
                             ("a3", "203.0.113.1"), ("b1", "203.0.113.2")]:  # fmt: skip
                ws = await session.ws_connect(url + "/ws", headers={"X-Forwarded-For": ip})
                sockets.append(ws)
                await ws.send_str(f"NICK {nick}")
                await ws.send_str(f"USER {nick} 0 * :{nick}")
                lines: list[str] = []
                while not any(" 001 " in line or "ERROR" in line for line in lines):
                    msg = await ws.receive(timeout=5)
                    if msg.type is not aiohttp.WSMsgType.TEXT:
                        break
                    lines.append(msg.data)
                answers.append(lines)
            for ws in sockets:
                await ws.close()
        return answers

    try:
        a1, a2, a3, b1 = run_async(scenario())
        assert all(any(" 001 " in line for line in ok) for ok in (a1, a2, b1))
        assert any("Too many connections from your address" in line for line in a3)
    finally:
        server.stop()


def test_the_forwarded_header_is_ignored_from_anyone_else(web_server: ServerThread) -> None:
    watcher = LineClient(web_server.port, "watcher")
    sign_on(web_server, "pat", X_Forwarded_For="203.0.113.5")
    watcher.send("WHOWAS pat")
    line = watcher.wait_for(lambda line: " 314 watcher pat " in line)
    assert "203.0.113.5" not in line
    assert "127.0.0.1" in line
    watcher.close()


# ------------------------------------------------------------------ idle connections


@pytest.fixture
def quick_timeout(tmp_path: Path) -> Iterator[ServerThread]:
    server = ServerThread(web_config(tmp_path, {"http.request_timeout": 1})).start()
    yield server
    server.stop()


def _closed_within(sock: socket.socket, seconds: float) -> bool:
    """Read (and drop) whatever comes until the server closes, or ``seconds`` pass."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            if not sock.recv(65536):
                return True
        except TimeoutError:
            return False
        except ConnectionResetError:
            return True
    return False


def test_a_kept_alive_connection_without_a_next_request_is_closed(
    quick_timeout: ServerThread,
) -> None:
    with socket.create_connection(("127.0.0.1", quick_timeout.http_port), timeout=5) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert sock.recv(65536).startswith(b"HTTP/1.1 200")
        assert _closed_within(sock, 10)


def test_a_second_request_that_stops_halfway_is_closed(quick_timeout: ServerThread) -> None:
    with socket.create_connection(("127.0.0.1", quick_timeout.http_port), timeout=5) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert sock.recv(65536).startswith(b"HTTP/1.1 200")
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0")
        assert _closed_within(sock, 10)


def test_an_irc_session_over_websocket_outlives_the_request_timeout(
    quick_timeout: ServerThread,
) -> None:
    """The timeout is for requests; once a WebSocket carries IRC, IRC's own timeouts rule.
    Its place in the limits moves to the session: nothing is counted twice or left over."""
    server = quick_timeout
    url = http_url(server)

    async def stay() -> list[str]:
        async with (
            aiohttp.ClientSession() as session,
            session.ws_connect(url + "/ws", protocols=("text.ircv3.net",)) as ws,
        ):
            await ws.send_str("NICK stayer")
            await ws.send_str("USER s 0 * :s")
            await ws.receive(timeout=5)
            await asyncio.sleep(2.5)
            await ws.send_str("PING :still-here")
            lines: list[str] = []
            while not any("still-here" in line for line in lines):
                msg = await ws.receive(timeout=5)
                assert msg.type is aiohttp.WSMsgType.TEXT, msg
                lines.append(msg.data)
            shell = server.shell
            assert shell is not None
            assert shell.world.occupancy.held == 0  # the session holds the place now
            assert shell.world.per_address == {"127.0.0.1": 1}
            return lines

    assert any("PONG" in line for line in run_async(stay()))


@pytest.mark.parametrize(
    ("host", "ok"),
    [("127.0.0.1:8080", True), ("[::1]:8080", True), ("[::1]", True), ("localhost", True),
     ("app.localhost:80", True), ("chat.example.org", True), ("CHAT.example.org.:443", True),
     ("evil.example:8080", False), ("[evil]:8080", False), ("127.0.0.1.nip.io", False),
     ("chat.example.org.evil.example", False)],
)  # fmt: skip
def test_host_rule(host: str, ok: bool) -> None:
    assert host_allowed(host, frozenset({"chat.example.org"})) is ok


# ------------------------------------------------------------------ many people, one address


def test_three_browsers_behind_one_address_all_get_in(people: People) -> None:
    """Chromium keeps six connections open after loading the page, plus the WebSocket:
    with 16 places per address, the third person needs the first two's idle ones."""
    for nick in ("ann", "ben", "cat"):
        people.join_as(nick)
    shell = people.server.shell
    assert shell is not None
    assert shell.world.per_address["127.0.0.1"] <= 16


@pytest.fixture
def two_per_address(tmp_path: Path) -> Iterator[ServerThread]:
    server = ServerThread(web_config(tmp_path, {"limits.connections_per_address": 2})).start()
    yield server
    server.stop()


def _answered(port: int) -> socket.socket:
    """A kept-alive connection that has been answered once and now sits idle."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    assert sock.recv(65536).startswith(b"HTTP/1.1 200")
    return sock


def test_an_idle_kept_alive_connection_makes_room_but_a_silent_one_does_not(
    two_per_address: ServerThread,
) -> None:
    port = two_per_address.http_port
    first, second = _answered(port), _answered(port)
    third = _answered(port)  # the address is full: the oldest idle one is closed for it
    assert _closed_within(first, 5)
    assert not _closed_within(second, 0.2)
    for sock in (first, second, third):
        sock.close()
    # Two silent connections take the places (closing idle ones if the server has not
    # yet seen them go); a third finds no idle connection to close.
    silent = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(2)]
    with socket.create_connection(("127.0.0.1", port), timeout=5) as refused:
        assert refused.recv(65536).startswith(b"HTTP/1.1 503")
    for sock in silent:
        sock.close()
