"""The client behind a reverse proxy: ``X-Forwarded-For`` or ``Forwarded`` (RFC 7239).

Behind a proxy every web user has the proxy's address, so limits, bans, login throttling
and WHOIS would all see one person. A proxy listed in ``http.trusted_proxies`` says who
its client is in a header; anyone else could write anything there, so the header is read
only when the TCP peer is a trusted proxy, and only as far as trust goes:

- the addresses are read from the right (the entry the nearest proxy added) to the left;
  each entry is believed only while the hop that wrote it is trusted, so whatever a client
  put in the header itself (always further left) is never reached;
- an entry that is not an address (``unknown``, an obfuscated ``_name``) stops the walk
  at the last trusted hop;
- exactly one header is read, the one the operator says the proxies set
  (``http.proxy_header``): a proxy that sets X-Forwarded-For passes a client's own
  ``Forwarded`` header along untouched, and the other way round.

Whether the client's own link was TLS comes from the same proxy: ``X-Forwarded-Proto``
(its last value, set by the nearest proxy) or the ``proto`` of the ``Forwarded`` element
that named the client.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address

Networks = tuple[IPv4Network | IPv6Network, ...]
HeaderLines = Callable[[str], list[str]]


@dataclass(frozen=True, slots=True)
class Client:
    ip: str
    https: bool | None  # None: the proxy did not say


def trusted(ip: str, networks: Networks) -> bool:
    address = _address(ip)
    return address is not None and any(address in net for net in networks)


def client_of(peer: str, headers: HeaderLines, networks: Networks, header: str) -> Client:
    """The client a request came from: ``peer`` itself unless it is a trusted proxy.

    ``headers(name)`` returns every line of that header, in the order received.
    """
    if not networks or not trusted(peer, networks):
        return Client(peer, None)
    ip, proto = peer, None
    for node, hop_proto in reversed(_hops(headers, header)):
        if not trusted(ip, networks) or node is None:
            break
        ip, proto = node, hop_proto
    if header != "forwarded":
        protos = _values(headers, "X-Forwarded-Proto")
        proto = protos[-1] if protos else None
    return Client(ip, None if proto is None else proto.lower() in ("https", "wss"))


def names_its_client(headers: HeaderLines, header: str) -> bool:
    """Whether the nearest proxy's entry (the rightmost) of ``header`` is an address: a
    proxy that hides its client, or sets the other header kind, names nobody."""
    hops = _hops(headers, header)
    return bool(hops) and hops[-1][0] is not None


def _hops(headers: HeaderLines, header: str) -> list[tuple[str | None, str | None]]:
    """Each entry of ``header``, left to right: the address it names (None: not an
    address) and, for ``Forwarded``, its ``proto``."""
    if header == "forwarded":
        return [(_node(e.get("for", "")), e.get("proto")) for e in _forwarded(headers)]
    return [(_node(v), None) for v in _values(headers, "X-Forwarded-For")]


def _values(headers: HeaderLines, name: str) -> list[str]:
    """Every comma-separated value of every ``name`` header line, in order."""
    return [v.strip() for line in headers(name) for v in line.split(",") if v.strip()]


def _forwarded(headers: HeaderLines) -> list[dict[str, str]]:
    """The elements of ``Forwarded``, each ``{"for": ..., "proto": ...}``, lowercased keys."""
    elements = []
    for element in _values(headers, "Forwarded"):
        pairs: dict[str, str] = {}
        for pair in element.split(";"):
            key, sep, value = pair.partition("=")
            if sep:
                pairs[key.strip().lower()] = value.strip().strip('"')
        elements.append(pairs)
    return elements


def _node(value: str) -> str | None:
    """An address from ``1.2.3.4``, ``1.2.3.4:80``, ``[2001:db8::1]:80`` or ``2001:db8::1``."""
    value = value.strip().strip('"')
    if value.startswith("["):
        value = value[1 : value.find("]")] if "]" in value else ""
    elif value.count(":") == 1:
        value = value.split(":", 1)[0]
    address = _address(value)
    return None if address is None else str(address)


def _address(text: str) -> IPv4Address | IPv6Address | None:
    try:
        address = ip_address(text)
    except ValueError:
        return None
    if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped  # ::ffff:10.0.0.1 is 10.0.0.1 (dual-stack listeners)
    return address
