"""The HTTP side without a browser: /healthz, /metrics parsed by prometheus-client's own
parser, and IRC over WebSocket as the IRCv3 WebSocket spec describes it.
"""

from __future__ import annotations

from collections.abc import Callable

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from chatroom.server.net.http import origin_allowed
from chatroom.server.net.websocket import frame
from tests.realserver import ServerThread
from tests.web.web_support import LineClient, http_url, run_async


def _get(url: str) -> tuple[int, str, str]:
    async def fetch() -> tuple[int, str, str]:
        async with aiohttp.ClientSession() as session, session.get(url) as response:
            return response.status, response.headers["Content-Type"], await response.text()

    return run_async(fetch())


def _metrics(server: ServerThread) -> dict[str, float]:
    status, content_type, text = _get(http_url(server) + "/metrics")
    assert status == 200
    assert content_type.startswith("text/plain")
    return {
        sample.name: sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


async def _irc_over_ws(
    url: str,
    lines: list[str],
    protocols: tuple[str, ...] = ("text.ircv3.net",),
    origin: str | None = None,
) -> tuple[str | None, list[aiohttp.WSMessage]]:
    """Send ``lines`` one per frame, then collect frames until the server closes."""
    frames: list[aiohttp.WSMessage] = []
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(url + "/ws", protocols=protocols, origin=origin) as ws,
    ):
        for line in lines:
            await ws.send_str(line)
        while True:
            msg = await ws.receive(timeout=5)
            if msg.type not in (aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.BINARY):
                break
            frames.append(msg)
        return ws.protocol, frames


SIGN_ON = ["CAP LS 302", "NICK wendy", "USER w 0 * :Wendy", "CAP END"]


def test_healthz_answers_ok(web_server: ServerThread) -> None:
    status, content_type, body = _get(http_url(web_server) + "/healthz")
    assert (status, content_type) == (200, "application/json; charset=utf-8")
    assert '"status": "ok"' in body


def test_metrics_count_connections_users_and_messages(
    web_server: ServerThread, tcp_client: Callable[[str], LineClient]
) -> None:
    before = _metrics(web_server)
    assert before["chatroom_connections"] == 0
    alice = tcp_client("alice")
    bob = tcp_client("bob")
    for client in (alice, bob):
        client.send("JOIN #lobby")
        client.wait_for(lambda line: " 366 " in line)
    alice.send("PRIVMSG #lobby :counted")
    bob.wait_for(lambda line: line.endswith("PRIVMSG #lobby counted"))
    after = _metrics(web_server)
    assert after["chatroom_connections"] == 2
    assert after["chatroom_users"] == 2
    assert after["chatroom_channels"] == 1
    assert (
        after["chatroom_messages_received_total"] >= before["chatroom_messages_received_total"] + 7
    )
    assert after["chatroom_messages_delivered_total"] >= 1
    for name in (
        "chatroom_failed_logins_total",
        "chatroom_sendq_drops_total",
        "chatroom_channel_bans",
        "chatroom_accounts",
    ):
        assert name in after


def test_websocket_carries_one_line_per_text_frame_without_crlf(web_server: ServerThread) -> None:
    protocol, frames = run_async(
        _irc_over_ws(http_url(web_server), [*SIGN_ON, "JOIN #lobby", "QUIT :done"])
    )
    assert protocol == "text.ircv3.net"
    texts = [f.data for f in frames]
    assert all(f.type is aiohttp.WSMsgType.TEXT for f in frames)
    assert not any("\r" in t or "\n" in t for t in texts)
    assert any(" 001 wendy " in t for t in texts)
    assert any(t.startswith(":wendy!") and t.endswith("JOIN #lobby") for t in texts)
    assert texts[-1].startswith("ERROR :Closing Link")


def test_websocket_binary_subprotocol_gets_binary_frames(web_server: ServerThread) -> None:
    protocol, frames = run_async(
        _irc_over_ws(http_url(web_server), [*SIGN_ON, "QUIT"], protocols=("binary.ircv3.net",))
    )
    assert protocol == "binary.ircv3.net"
    assert frames
    assert all(f.type is aiohttp.WSMsgType.BINARY for f in frames)
    assert any(b" 001 wendy " in f.data for f in frames)


def test_websocket_from_a_foreign_origin_is_refused(web_server: ServerThread) -> None:
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        run_async(_irc_over_ws(http_url(web_server), SIGN_ON, origin="https://evil.example"))
    assert refused.value.status == 403
    protocol, _ = run_async(
        _irc_over_ws(http_url(web_server), [*SIGN_ON, "QUIT"], origin=http_url(web_server))
    )
    assert protocol == "text.ircv3.net"


def test_websocket_too_long_line_is_answered_like_on_tcp(web_server: ServerThread) -> None:
    _, frames = run_async(
        _irc_over_ws(http_url(web_server), [*SIGN_ON, "PRIVMSG #lobby :" + "x" * 9000, "QUIT"])
    )
    assert any(" 417 wendy " in f.data for f in frames)


def test_websocket_message_over_16_kib_closes_only_that_socket(web_server: ServerThread) -> None:
    """A WebSocket message is read whole before it is a line: past 16 KiB (``MAX_FRAME``)
    the server closes that socket instead of buffering it; the next client is served."""
    huge = "PRIVMSG #lobby :" + "x" * (2 * 1024 * 1024)
    _, frames = run_async(_irc_over_ws(http_url(web_server), [*SIGN_ON, huge, "PING still"]))
    assert not any("still" in f.data for f in frames)
    _, frames = run_async(_irc_over_ws(http_url(web_server), [*SIGN_ON, "PING next", "QUIT"]))
    assert any("PONG" in f.data and "next" in f.data for f in frames)


@pytest.mark.parametrize(
    ("origin", "host", "allowed", "ok"),
    [
        (None, "chat.example:8080", (), True),
        ("http://chat.example:8080", "chat.example:8080", (), True),
        ("https://chat.example:8080/", "chat.example:8080", (), True),
        ("http://evil.example", "chat.example:8080", (), False),
        ("null", "chat.example:8080", (), False),
        ("https://app.example", "chat.example:8080", ("https://app.example",), True),
        ("https://any.example", "chat.example:8080", ("*",), True),
    ],
)
def test_origin_rule(origin: str | None, host: str, allowed: tuple[str, ...], ok: bool) -> None:
    assert origin_allowed(origin, host, allowed) is ok


@pytest.mark.parametrize(("size", "header"), [(5, b"\x81\x05"), (200, b"\x81\x7e\x00\xc8")])
def test_frames_use_the_shortest_length_encoding(size: int, header: bytes) -> None:
    assert frame(b"a" * size, 0x1) == header + b"a" * size
    assert frame(b"a" * 70000, 0x2)[:10] == b"\x82\x7f" + (70000).to_bytes(8, "big")


def _headers(url: str, host: str | None = None) -> tuple[int, dict[str, str]]:
    async def fetch() -> tuple[int, dict[str, str]]:
        extra = {"Host": host} if host else {}
        async with aiohttp.ClientSession() as session, session.get(url, headers=extra) as reply:
            return reply.status, dict(reply.headers)

    return run_async(fetch())


@pytest.mark.parametrize(
    ("path", "host", "status"),
    [
        ("/", None, 200),
        ("/static/app.js", None, 200),
        ("/healthz", None, 200),
        ("/static/missing.js", None, 404),
        ("/no-such-page", None, 404),
        ("/static/", None, 403),
        ("/ws", None, 400),  # not a WebSocket handshake
        ("/", "evil.example", 421),
    ],
)
def test_every_http_answer_forbids_framing_sniffing_and_inline_script(
    web_server: ServerThread, path: str, host: str | None, status: int
) -> None:
    got, headers = _headers(http_url(web_server) + path, host)
    assert got == status
    csp = {
        part.split()[0]: part.split()[1:]
        for part in headers["Content-Security-Policy"].split(";")
        if part.strip()
    }
    assert csp["default-src"] == ["'none'"]
    assert csp["script-src"] == ["'self'"]  # no 'unsafe-inline', no 'unsafe-eval'
    assert csp["style-src"] == ["'self'"]
    assert csp["img-src"] == ["'self'", "data:"]  # no avatar or image from elsewhere
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["base-uri"] == ["'none'"]
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "no-referrer"
