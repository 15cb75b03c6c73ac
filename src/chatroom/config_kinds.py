"""How a setting's value is checked and converted, by its kind (``"port"``, ``"count"``...).

Every layer (defaults, TOML file, environment, flags) goes through ``check``, so a value is
judged the same wherever it came from; a bad one gets one line naming the key and what would
be accepted. The environment only has strings, so every kind also takes its string form.
"""

from __future__ import annotations

import re
import socket
from collections.abc import Callable
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from urllib.parse import urlsplit

from chatroom.irc.casemap import CaseMapping
from chatroom.irc.masks import is_channel_name
from chatroom.server.core.settings import (
    DEFAULT_OPER_ROLE,
    OPER_CAPABILITIES,
    OperRole,
    valid_role_name,
)
from chatroom.server.store.url import parse_store_url, redacted

# A METADATA value longer than this would not fit its 761 reply in one 512-byte line.
MAX_METADATA_VALUE_BYTES = 300

BIGGEST = 1 << 31


class ConfigError(ValueError):
    """A setting is wrong; the message names the key and what would be accepted."""


def fail(key: str, value: object, allowed: str) -> ConfigError:
    return ConfigError(f"config key {key!r}: got {value!r}; {allowed}")


# Never quoted in an error: REHASH sends its error to an IRC operator and the audit log.
SECRET_KEYS = frozenset({"server.password", "cluster.secret"})


def check(key: str, kind: str, value: object) -> object:
    """``value`` for ``key`` converted to what the program uses, or ``ConfigError``; the
    error never quotes a secret, nor a password inside a URL (``store.url``, ``cluster.url``)."""
    try:
        return KINDS[kind](key, value)
    except ConfigError as err:
        if key in SECRET_KEYS:
            allowed = str(err).rpartition("; ")[2]
            shown = f"a {type(value).__name__} (not shown: it is a secret)"
            raise ConfigError(f"config key {key!r}: got {shown}; {allowed}") from None
        raise ConfigError(redacted(str(err))) from None


def _int_in(key: str, value: object, low: int, high: int, what: str) -> int:
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise fail(key, value, f"expected {what} from {low} to {high}")
    return value


def _off(value: object) -> bool:
    return isinstance(value, str) and value.strip().lower() == "off"


def _port(key: str, value: object) -> int | None:
    return None if _off(value) else _int_in(key, value, 0, 65535, 'a port number (or "off")')


def _count(key: str, value: object) -> int:
    return _int_in(key, value, 1, BIGGEST, "a whole number")


def _count0(key: str, value: object) -> int:
    return _int_in(key, value, 0, BIGGEST, "a whole number")


def _rate(key: str, value: object) -> float:
    """A whole number per second, which the core counts in fractions (token buckets)."""
    return float(_count0(key, value))


def _seconds(key: str, value: object) -> float:
    return float(_int_in(key, value, 1, 86400, "a number of seconds"))


def _seconds_or_off(key: str, value: object) -> int | None:
    if _off(value):
        return None
    return _int_in(key, value, 0, BIGGEST, 'a number of seconds (or "off")')


def _ipv6_prefix(key: str, value: object) -> int:
    return _int_in(key, value, 16, 128, "a prefix length in bits")


def _metadata_bytes(key: str, value: object) -> int:
    count = _count(key, value)
    if count > MAX_METADATA_VALUE_BYTES:
        raise ConfigError(
            f"config key {key!r}: at most {MAX_METADATA_VALUE_BYTES},"
            " so that a value and its reply fit one 512-byte line"
        )
    return count


def _bool(key: str, value: object) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "yes", "on", "1"):
        return True
    if text in ("false", "no", "off", "0"):
        return False
    raise fail(key, value, "expected true or false")


def _as_list(key: str, value: object) -> list[str]:
    if isinstance(value, str):
        return [v for v in (p.strip() for p in value.split(",")) if v]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    raise fail(key, value, "expected a list of strings (or a comma-separated string)")


def _lines(key: str, value: object) -> tuple[str, ...]:
    return tuple(_as_list(key, value))


def _channels(key: str, value: object) -> tuple[str, ...]:
    items = _as_list(key, value)
    for name in items:
        if not is_channel_name(name):
            raise fail(key, name, "expected room names that start with '#'")
    return tuple(items)


def _capabilities(key: str, value: object) -> frozenset[str]:
    items = _as_list(key, value)
    unknown = sorted(set(items) - OPER_CAPABILITIES)
    if unknown:
        raise fail(key, unknown, f"expected some of {', '.join(sorted(OPER_CAPABILITIES))}")
    return frozenset(items)


def _networks(key: str, value: object) -> tuple[IPv4Network | IPv6Network, ...]:
    """CIDRs (``10.0.0.0/8``, ``::1/128``) or single addresses."""
    networks = []
    for item in _as_list(key, value):
        try:
            networks.append(ip_network(item.strip(), strict=False))
        except ValueError:
            raise fail(key, item, "expected addresses or networks like 10.0.0.0/8") from None
    return tuple(networks)


def _networks_or_off(key: str, value: object) -> tuple[IPv4Network | IPv6Network, ...]:
    """Like ``networks``; "off" is none at all (the empty tuple)."""
    return () if _off(value) else _networks(key, value)


def _roles(key: str, value: object) -> tuple[OperRole, ...]:
    """``["name:cap,cap", ...]``; from the environment one string, roles split by spaces
    (a comma already separates capabilities)."""
    if isinstance(value, str):
        items = value.replace(";", " ").split()
    elif isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        items = list(value)
    else:
        raise fail(key, value, 'expected a list of "name:capability,..." strings')
    allowed = ", ".join(sorted(OPER_CAPABILITIES))
    roles: list[OperRole] = []
    for item in items:
        name, sep, caps = item.strip().partition(":")
        if not sep:
            raise fail(key, item, 'expected "name:capability,...", e.g. "moderator:kick,mute"')
        if not valid_role_name(name):
            raise fail(
                key,
                item,
                "expected a role name of lowercase letters, digits, '-' and '_',"
                " starting with a letter, at most 32 characters",
            )
        if name == DEFAULT_OPER_ROLE:
            raise fail(key, item, f"the role {DEFAULT_OPER_ROLE!r} is set by 'opers.capabilities'")
        if any(role.name == name for role in roles):
            raise fail(key, item, f"the role {name!r} is defined twice")
        capabilities = [c for c in (part.strip() for part in caps.split(",")) if c]
        unknown = sorted(set(capabilities) - OPER_CAPABILITIES)
        if unknown:
            raise fail(key, item, f"unknown capability {', '.join(unknown)}; expected {allowed}")
        roles.append(OperRole(name, frozenset(capabilities)))
    return tuple(roles)


def _one_of(*choices: str) -> Callable[[str, object], str]:
    """A word from ``choices``, in any case."""

    def choose(key: str, value: object) -> str:
        if isinstance(value, str) and value.strip().lower() in choices:
            return value.strip().lower()
        raise fail(key, value, "expected one of " + ", ".join(choices))

    return choose


def _registration(key: str, value: object) -> str:
    if value in ("open", "closed"):
        return str(value)
    raise fail(key, value, 'expected "open" or "closed"')


def _store_url(key: str, value: object) -> str:
    try:
        parse_store_url(str(value), Path("."))
    except ValueError as err:  # shown without the password a mistyped URL may carry
        raise fail(key, redacted(str(value)), str(err).split(": ", 1)[-1]) from None
    return str(value).strip()


def _cluster_url(key: str, value: object) -> str:
    text = _str(key, value).strip()
    if not text:
        return text
    expected = "expected redis://HOST:PORT/DB, rediss://... or unix:///PATH"
    if not text.startswith(("redis://", "rediss://", "unix://")):
        raise fail(key, value, expected)
    # Checked as redis-py will read it (the port's range, the brackets of an IPv6
    # address, the query's options), so a typo is this one line, not a traceback at
    # start; redis-py is imported only for a URL that names a network.
    from redis.asyncio.connection import parse_url

    try:
        parse_url(text)
    except ValueError as err:
        raise fail(key, value, f"{err} ({expected})") from None
    database = urlsplit(text).path.strip("/")
    if not text.startswith("unix://") and database and not database.isdigit():
        raise fail(key, value, f"the database after the port is a number, as in /0 ({expected})")
    return text


_NODE_NAME = re.compile(r"[A-Za-z0-9._-]{1,40}")


def _node_name(key: str, value: object) -> str:
    text = _str(key, value).strip()
    if not text:
        return socket.gethostname().split(".")[0][:40] or "node"
    if not _NODE_NAME.fullmatch(text):
        raise fail(key, value, "expected up to 40 letters, digits, '.', '-' or '_'")
    return text


def _casemapping(key: str, value: object) -> CaseMapping:
    try:
        return CaseMapping(str(value).lower())
    except ValueError:
        raise fail(key, value, 'expected "rfc1459" or "ascii"') from None


def _str(key: str, value: object) -> str:
    if not isinstance(value, str):
        raise fail(key, value, "expected a string")
    return value


def _word(key: str, value: object) -> str:
    """A name that goes into protocol lines: one word, never empty."""
    text = _str(key, value)
    if not text or " " in text:
        raise fail(key, value, "expected a non-empty value without spaces")
    return text


def _hostname(key: str, value: object) -> str:
    text = _word(key, value)
    if "." not in text:
        raise fail(key, value, "expected a name with at least one dot, like chat.example.org")
    return text


def _str_or_none(key: str, value: object) -> str | None:
    """A string where empty means "none" (TOML has no null)."""
    return _str(key, value) or None


def _path(key: str, value: object) -> Path:
    return Path(_str(key, value))


def _path_or_none(key: str, value: object) -> Path | None:
    text = _str(key, value)
    return Path(text) if text else None


KINDS: dict[str, Callable[[str, object], object]] = {
    "port": _port,  # 0-65535, or "off" (None)
    "count": _count,  # a whole number, at least 1
    "count0": _count0,  # a whole number; 0 usually means "no bound" or "none"
    "rate": _rate,  # a whole number per second, as a float
    "seconds": _seconds,  # 1 to 86400, as a float
    "seconds_or_off": _seconds_or_off,  # whole seconds, or "off" (None)
    "ipv6_prefix": _ipv6_prefix,
    "metadata_bytes": _metadata_bytes,
    "bool": _bool,
    "lines": _lines,  # a list of strings, or one comma-separated string
    "channels": _channels,
    "capabilities": _capabilities,
    "networks": _networks,
    "networks_or_off": _networks_or_off,  # CIDRs, or "off" (none)
    "roles": _roles,
    "registration": _registration,
    "proxy_header": _one_of("x-forwarded-for", "forwarded"),
    "http_tls": _one_of("auto", "on", "off"),
    "always_on": _one_of("disabled", "opt-in", "opt-out"),
    "store_url": _store_url,
    "cluster_url": _cluster_url,
    "node_name": _node_name,
    "casemapping": _casemapping,
    "str": _str,
    "str_or_none": _str_or_none,
    "word": _word,
    "host": _word,
    "hostname": _hostname,
    "path": _path,
    "path_or_none": _path_or_none,
}
