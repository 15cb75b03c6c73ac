"""Who may read /metrics: loopback by default, the networks in ``http.metrics_from``, or
nobody ("off"); judged by the client's real address, so a reverse proxy that relays a
request from outside does not make it local.

The figures tell anyone how busy the server is and when its users come and go; they used
to be served to whoever reached the web port. The test clients all connect from
127.0.0.1, so "from elsewhere" is either a trusted proxy naming another client or a
setting that leaves loopback out.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import aiohttp
import pytest

from tests.realserver import ServerThread
from tests.web.web_support import http_url, run_async, web_config

Start = Callable[..., ServerThread]  # start(extra settings=None)


def _scrape(server: ServerThread, headers: dict[str, str] | None = None) -> tuple[int, str]:
    async def fetch() -> tuple[int, str]:
        async with (
            aiohttp.ClientSession() as session,
            session.get(http_url(server) + "/metrics", headers=headers or {}) as response,
        ):
            return response.status, await response.text()

    return run_async(fetch())


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Start]:
    """Start a web server with extra settings; stopped at the end of the test."""
    started: list[ServerThread] = []

    def start(extra: dict[str, object] | None = None) -> ServerThread:
        server = ServerThread(web_config(tmp_path, extra)).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


def test_metrics_are_served_to_loopback_by_default(serve: Start) -> None:
    status, text = _scrape(serve())
    assert status == 200
    assert "chatroom_connections " in text


def test_metrics_are_refused_through_a_local_proxy_nobody_listed_as_trusted(
    serve: Start,
) -> None:
    # A proxy on this host that is not in http.trusted_proxies connects from loopback;
    # its forwarding header says the scrape comes from elsewhere, which cannot be judged.
    server = serve()
    for header in ("X-Forwarded-For", "Forwarded", "X-Real-IP"):
        value = "for=203.0.113.5" if header == "Forwarded" else "203.0.113.5"
        status, text = _scrape(server, {header: value})
        assert status == 403, header
        assert "http.trusted_proxies" in text
        assert "chatroom_connections" not in text


def test_metrics_are_refused_to_addresses_outside_the_setting(serve: Start) -> None:
    server = serve({"http.metrics_from": "10.0.0.0/8"})
    status, text = _scrape(server)
    assert status == 403
    assert "chatroom_" not in text
    assert "http.metrics_from" in text


def test_metrics_relayed_from_outside_by_a_trusted_proxy_are_refused(serve: Start) -> None:
    server = serve({"http.trusted_proxies": "127.0.0.0/8"})
    status, text = _scrape(server, {"X-Forwarded-For": "203.0.113.5"})
    assert status == 403
    assert "chatroom_" not in text
    # A client writing a loopback address in front of its own does not get round it.
    status, _ = _scrape(server, {"X-Forwarded-For": "127.0.0.1, 203.0.113.5"})
    assert status == 403
    # A scraper on the proxy's side, relayed by it, is still local.
    status, _ = _scrape(server, {"X-Forwarded-For": "127.0.0.1"})
    assert status == 200


def test_metrics_relayed_for_a_listed_network_are_served(serve: Start) -> None:
    server = serve(
        {
            "http.trusted_proxies": "127.0.0.0/8",
            "http.proxy_header": "forwarded",
            "http.metrics_from": ["192.0.2.0/24"],
        }
    )
    status, text = _scrape(server, {"Forwarded": "for=192.0.2.9;proto=https"})
    assert status == 200
    assert "chatroom_connections " in text
    assert _scrape(server)[0] == 403  # the proxy itself is not in the list


def test_metrics_off_are_not_served_at_all(serve: Start) -> None:
    status, text = _scrape(serve({"http.metrics_from": "off"}))
    assert status == 404
    assert "chatroom_" not in text
