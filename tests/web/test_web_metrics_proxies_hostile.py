"""/metrics behind proxies that do not say whom they relay: a trusted proxy that hides its
client (``for=unknown``, ``for=_name``) or sets another header than ``http.proxy_header``
(``X-Real-IP`` alone, ``Forwarded`` where X-Forwarded-For is read), and a local proxy
nobody listed that adds only ``Via`` or ``X-Forwarded-Proto``. Judged by the proxy's own
loopback address, each made every outside client local (docs/security.md)."""

from __future__ import annotations

from tests.web.test_web_metrics_access import Start, _scrape
from tests.web.test_web_metrics_access import serve as serve  # the fixture

REFUSED_THROUGH_A_TRUSTED_PROXY = {
    "forwarded": [
        {"Forwarded": "for=unknown"},
        {"Forwarded": "for=_hidden;proto=https"},
        {"Forwarded": "for=127.0.0.1, for=unknown"},
        {"X-Forwarded-For": "203.0.113.5"},
    ],
    "x-forwarded-for": [
        {"X-Forwarded-For": "unknown"},
        {"X-Real-IP": "203.0.113.5"},
        {"Forwarded": "for=203.0.113.5"},
        {"X-Forwarded-Proto": "https"},
    ],
}


def test_metrics_are_refused_through_a_trusted_proxy_that_names_no_client(serve: Start) -> None:
    for header, requests in REFUSED_THROUGH_A_TRUSTED_PROXY.items():
        server = serve({"http.trusted_proxies": "127.0.0.0/8", "http.proxy_header": header})
        for headers in requests:
            status, text = _scrape(server, headers)
            assert status == 403, (header, headers)
            assert "chatroom_" not in text
        # Named, a local scraper is still served through the proxy; and directly.
        named = {"Forwarded": "for=127.0.0.1"} if header == "forwarded" else {}
        named = named or {"X-Forwarded-For": "127.0.0.1", "X-Forwarded-Proto": "https"}
        assert _scrape(server, named)[0] == 200, header
        assert _scrape(server)[0] == 200, header


def test_metrics_are_refused_through_an_unlisted_proxy_that_adds_only_via_or_proto(
    serve: Start,
) -> None:
    server = serve()
    for headers in ({"Via": "1.1 proxy"}, {"X-Forwarded-Proto": "https"}):
        status, text = _scrape(server, headers)
        assert status == 403, headers
        assert "http.trusted_proxies" in text
