"""Who the client is behind a reverse proxy: a header is believed only as far as trust goes."""

from __future__ import annotations

from ipaddress import ip_network

import pytest

from chatroom.server.net.forwarded import Client, client_of

PROXIES = (ip_network("10.0.0.0/8"), ip_network("::1/128"))


def _headers(**lines: list[str]) -> dict[str, list[str]]:
    return {name.replace("_", "-").lower(): values for name, values in lines.items()}


@pytest.mark.parametrize(
    ("peer", "headers", "header", "client"),
    [
        # Not a trusted proxy: whatever it writes is ignored.
        ("198.51.100.7", _headers(x_forwarded_for=["203.0.113.1"]), "x-forwarded-for",
         Client("198.51.100.7", None)),
        # A trusted proxy names its client.
        ("10.0.0.2", _headers(x_forwarded_for=["203.0.113.1"]), "x-forwarded-for",
         Client("203.0.113.1", None)),
        # A client's own entry (left of the proxy's) is never reached.
        ("10.0.0.2", _headers(x_forwarded_for=["6.6.6.6, 203.0.113.1"]), "x-forwarded-for",
         Client("203.0.113.1", None)),
        # Two trusted proxies in a row: the walk goes on past the inner one.
        ("10.0.0.2", _headers(x_forwarded_for=["203.0.113.1", "10.0.0.9"]), "x-forwarded-for",
         Client("203.0.113.1", None)),
        # Not an address: stop at the last trusted hop.
        ("10.0.0.2", _headers(x_forwarded_for=["unknown"]), "x-forwarded-for",
         Client("10.0.0.2", None)),
        # No header at all: the proxy itself.
        ("10.0.0.2", {}, "x-forwarded-for", Client("10.0.0.2", None)),
        # X-Forwarded-Proto from the proxy: the client's link was TLS.
        ("10.0.0.2", _headers(x_forwarded_for=["203.0.113.1"], x_forwarded_proto=["https"]),
         "x-forwarded-for", Client("203.0.113.1", True)),
        # RFC 7239, with a port, IPv6 in brackets, and proto.
        ("::1", _headers(forwarded=['for="[2001:db8::17]:4711";proto=https']), "forwarded",
         Client("2001:db8::17", True)),
        ("10.0.0.2", _headers(forwarded=["for=203.0.113.1:5000;proto=http, for=10.0.0.9"]),
         "forwarded", Client("203.0.113.1", False)),
        ("10.0.0.2", _headers(forwarded=["for=_hidden"]), "forwarded", Client("10.0.0.2", None)),
        # Only the header the operator named is read: a client's own Forwarded header
        # passes through a proxy that sets X-Forwarded-For, and is ignored.
        ("10.0.0.2", _headers(forwarded=["for=6.6.6.6"], x_forwarded_for=["203.0.113.1"]),
         "x-forwarded-for", Client("203.0.113.1", None)),
        ("10.0.0.2", _headers(forwarded=["for=203.0.113.1"], x_forwarded_for=["6.6.6.6"]),
         "forwarded", Client("203.0.113.1", None)),
        # A dual-stack listener sees IPv4 proxies as mapped addresses.
        ("::ffff:10.0.0.2", _headers(x_forwarded_for=["203.0.113.1"]), "x-forwarded-for",
         Client("203.0.113.1", None)),
    ],
)  # fmt: skip
def test_client_address(
    peer: str, headers: dict[str, list[str]], header: str, client: Client
) -> None:
    assert client_of(peer, lambda name: headers.get(name.lower(), []), PROXIES, header) == client


def test_without_trusted_proxies_nothing_is_read() -> None:
    headers = {"x-forwarded-for": ["203.0.113.1"]}
    assert client_of(
        "10.0.0.2", lambda name: headers.get(name.lower(), []), (), "x-forwarded-for"
    ) == Client("10.0.0.2", None)
