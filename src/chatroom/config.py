"""Configuration: defaults < TOML file < environment (CHATROOM_*) < command-line flags.

Every setting has one dotted key (``listen.port``), one environment variable
(``CHATROOM_LISTEN_PORT``) and one type. Values are validated once, here, into frozen
dataclasses; a bad value stops start-up with a message naming the key and what is allowed.
"""

from __future__ import annotations

import difflib
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from typing import Any

from chatroom.irc.casemap import CaseMapping
from chatroom.irc.masks import is_channel_name
from chatroom.server.core.settings import (
    DEFAULT_OPER_ROLE,
    OPER_CAPABILITIES,
    AccountSettings,
    CoreSettings,
    HistorySettings,
    Limits,
    OperRole,
    Timeouts,
    valid_role_name,
)
from chatroom.server.store.url import StoreLocation, parse_store_url

MAX_METADATA_VALUE_BYTES = 300


class ConfigError(ValueError):
    """A setting is wrong; the message names the key and what would be accepted."""


@dataclass(frozen=True, slots=True)
class Setting:
    key: str
    default: Any
    kind: str
    help: str


def _setting(key: str, default: Any, kind: str, help: str) -> Setting:
    return Setting(key, default, kind, help)


# The single list of every setting: its default, its type and one line of documentation.
# ``chatroom config --defaults`` prints this table as a commented TOML file.
SETTINGS: tuple[Setting, ...] = (
    _setting("server.name", "chatroom.local", "hostname", "Server name shown to clients."),
    _setting("server.network", "ChatRoom", "word", "Network name (ISUPPORT NETWORK)."),
    _setting("server.description", "ChatRoom IRC server", "str", "About this server (LINKS)."),
    _setting("server.data_dir", "./chatroom-data", "path", "Database, certificate and state."),
    _setting(
        "store.url",
        "",
        "store_url",
        "Where accounts, bans, rooms and history live: empty = SQLite files in"
        " server.data_dir; sqlite:///DIR; postgresql://USER@HOST:PORT/DB"
        " (Unix socket: postgresql:///DB?host=/run/postgresql).",
    ),
    _setting("server.motd", ["Welcome to ChatRoom. Say hello in #lobby."], "lines", "MOTD."),
    _setting("server.password", "", "str", "Server password (PASS); empty means none."),
    _setting("server.casemapping", "rfc1459", "casemapping", "rfc1459 or ascii."),
    _setting("server.channels", ["#lobby"], "channels", "Rooms that always exist."),
    _setting("listen.host", "127.0.0.1", "host", "Address for every listener."),
    _setting("listen.port", 6667, "port", "Plain IRC port; 0 picks a free one, off disables."),
    _setting(
        "listen.http_port", 8080, "port", "Web client, IRC over WebSocket, /metrics; off disables."
    ),
    _setting(
        "http.origins", [], "lines", "Extra web origins allowed on /ws; empty: same origin only."
    ),
    _setting(
        "http.hostnames",
        [],
        "lines",
        "Names the web port is reached at (besides IP addresses, localhost, server.name and"
        ' listen.host); other Host headers get 421, against DNS rebinding. "*": any.',
    ),
    _setting(
        "http.trusted_proxies",
        [],
        "networks",
        "Reverse proxies (CIDRs) whose client address header is believed, for limits, bans,"
        " throttling and WHOIS; everyone else's is ignored.",
    ),
    _setting(
        "http.proxy_header",
        "x-forwarded-for",
        "proxy_header",
        "Header the trusted proxies set: x-forwarded-for (with X-Forwarded-Proto) or"
        " forwarded (RFC 7239).",
    ),
    _setting(
        "http.tls",
        "auto",
        "http_tls",
        "auto: HTTPS when listening off loopback or when tls.cert is set (self-signed"
        " without it); on: always HTTPS; off: plain HTTP even off loopback (behind a proxy).",
    ),
    _setting(
        "http.request_timeout",
        10,
        "seconds",
        "Seconds a web connection has to send a complete request (from connecting, TLS"
        " included, or from its previous response) before it is closed.",
    ),
    _setting("listen.tls_port", 6697, "port", "IRC over TLS port; off disables."),
    _setting("tls.cert", "", "str", "PEM certificate; empty: self-signed, made on first start."),
    _setting("tls.key", "", "str", "PEM private key for tls.cert."),
    _setting(
        "tls.sts_duration",
        86400,
        "seconds_or_off",
        "With tls.cert set: seconds clients must keep to TLS (IRCv3 sts); off: no policy.",
    ),
    _setting("accounts.registration", "open", "registration", "open: anyone; closed: admins."),
    _setting("accounts.guests", True, "bool", "May people without an account chat?"),
    _setting(
        "accounts.allow_plaintext_login", False, "bool", "Passwords over non-TLS remote links."
    ),
    _setting("accounts.nick_grace_seconds", 30, "seconds", "Time to identify for a nick."),
    _setting("accounts.min_password_length", 8, "count", "Shortest password accepted."),
    _setting(
        "accounts.registration_before_connect",
        True,
        "bool",
        "May REGISTER come before the welcome (before-connect)?",
    ),
    _setting(
        "accounts.require_email",
        False,
        "bool",
        "Must REGISTER give an email address? It is stored, never mailed.",
    ),
    _setting(
        "opers.capabilities",
        sorted(OPER_CAPABILITIES),
        "capabilities",
        "What operators of the default role (oper) may do: kick, kill, ban, mute,"
        " channels (override room ops), accounts (others' NickServ CERT), admin (CHGHOST).",
    ),
    _setting(
        "opers.roles",
        [],
        "roles",
        'More operator roles, each "name:capability,...", e.g. "moderator:kick,mute"'
        " (in the environment: separated by spaces).",
    ),
    _setting("argon2.memory_kib", 19456, "count", "argon2id memory cost (KiB)."),
    _setting("argon2.time_cost", 2, "count", "argon2id iterations."),
    _setting("argon2.parallelism", 1, "count", "argon2id lanes."),
    _setting("limits.nick_length", 30, "count", "Longest nickname."),
    _setting("limits.channel_length", 50, "count", "Longest room name."),
    _setting("limits.topic_length", 390, "count", "Longest topic."),
    _setting("limits.channels_per_user", 50, "count", "Rooms one client may be in."),
    _setting("limits.targets_per_message", 4, "count", "Targets in one PRIVMSG/NOTICE."),
    _setting("limits.list_entries", 100, "count", "Entries per ban/exception/invite list."),
    _setting(
        "limits.sendq_bytes", 1_048_576, "count", "Unsent bytes before a slow reader is dropped."
    ),
    _setting("limits.flood_burst", 20, "count", "Lines a client may send at once."),
    _setting("limits.flood_per_second", 4, "count0", "Steady lines per second; 0: no limit."),
    _setting("limits.connections_per_address", 16, "count", "Open connections per address."),
    _setting("limits.connects_per_address_per_minute", 30, "count", "New connections a minute."),
    _setting("limits.connections_total", 20000, "count", "Open connections in all."),
    _setting(
        "limits.ipv6_prefix",
        64,
        "ipv6_prefix",
        "IPv6 networks of this many bits count as one address in per-address limits.",
    ),
    _setting("limits.multiline_max_bytes", 4096, "count", "Bytes in one multi-line message."),
    _setting("limits.multiline_max_lines", 100, "count", "Lines in one multi-line message."),
    _setting("limits.metadata_max_keys", 20, "count", "METADATA keys per user or room."),
    _setting("limits.metadata_max_subs", 50, "count", "METADATA keys one client may follow."),
    _setting(
        "limits.metadata_max_value_bytes", 300, "count", "Longest METADATA value (300 at most)."
    ),
    _setting("timeouts.registration", 60, "seconds", "Time to finish NICK/USER."),
    _setting("history.retention_days", 0, "count0", "Drop lines older than this; 0 keeps them."),
    _setting("history.max_per_target", 10000, "count0", "Lines kept per room or chat; 0: all."),
    _setting("history.replay_lines", 10, "count0", "Lines replayed on join without CHATHISTORY."),
    _setting("history.chathistory_limit", 100, "count", "Most lines one CHATHISTORY returns."),
    _setting("timeouts.ping_interval", 120, "seconds", "Idle time before the server PINGs."),
    _setting("timeouts.ping_timeout", 60, "seconds", "Time to answer that PING."),
)
BY_KEY = {s.key: s for s in SETTINGS}


def env_name(key: str) -> str:
    return "CHATROOM_" + key.upper().replace(".", "_")


@dataclass(frozen=True, slots=True)
class ListenConfig:
    host: str
    port: int | None
    http_port: int | None = None


@dataclass(frozen=True, slots=True)
class TlsConfig:
    port: int | None
    cert: Path | None  # None: a self-signed certificate in the data directory
    key: Path | None
    # Seconds of IRCv3 STS policy, advertised only with an operator's certificate;
    # None: no policy. A self-signed certificate never gets one (clients cannot verify it).
    sts_duration: int | None = None


@dataclass(frozen=True, slots=True)
class HttpConfig:
    origins: tuple[str, ...] = ()
    hostnames: tuple[str, ...] = ()
    trusted_proxies: tuple[IPv4Network | IPv6Network, ...] = ()
    proxy_header: str = "x-forwarded-for"  # or "forwarded"
    tls: str = "auto"  # "auto", "on" or "off"
    request_timeout: float = 10.0


@dataclass(frozen=True, slots=True)
class Config:
    core: CoreSettings
    listen: ListenConfig
    data_dir: Path
    sendq_bytes: int
    http: HttpConfig = HttpConfig()
    tls: TlsConfig = TlsConfig(None, None, None)
    argon2: tuple[int, int, int] = (19456, 2, 1)  # memory KiB, time cost, parallelism
    store_url: str = ""  # empty: the SQLite files in data_dir (see store/url.py)

    @property
    def store(self) -> StoreLocation:
        """Where the store and the history live (``store.url``, else the data directory)."""
        return parse_store_url(self.store_url, self.data_dir)


def _fail(key: str, value: object, allowed: str) -> ConfigError:
    return ConfigError(f"config key {key!r}: got {value!r}; {allowed}")


def _int_in(key: str, value: object, low: int, high: int, what: str) -> int:
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise _fail(key, value, f"expected {what} from {low} to {high}")
    return value


def _as_list(key: str, value: object) -> list[str]:
    if isinstance(value, str):
        return [v for v in (p.strip() for p in value.split(",")) if v]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    raise _fail(key, value, "expected a list of strings (or a comma-separated string)")


def _check(setting: Setting, value: object) -> object:
    """Convert and validate one value, whatever layer it came from."""
    key, kind = setting.key, setting.kind
    if kind == "port":
        if isinstance(value, str) and value.strip().lower() == "off":
            return None
        return _int_in(key, value, 0, 65535, 'a port number (or "off")')
    if kind == "count":
        return _int_in(key, value, 1, 1 << 31, "a whole number")
    if kind == "count0":
        return _int_in(key, value, 0, 1 << 31, "a whole number")
    if kind == "ipv6_prefix":
        return _int_in(key, value, 16, 128, "a prefix length in bits")
    if kind == "seconds_or_off":
        if isinstance(value, str) and value.strip().lower() == "off":
            return None
        return _int_in(key, value, 0, 1 << 31, 'a number of seconds (or "off")')
    if kind == "seconds":
        return _int_in(key, value, 1, 86400, "a number of seconds")
    if kind in ("lines", "channels"):
        items = _as_list(key, value)
        if kind == "channels":
            for name in items:
                if not is_channel_name(name):
                    raise _fail(key, name, "expected room names that start with '#'")
        return tuple(items)
    if kind == "capabilities":
        items = _as_list(key, value)
        unknown = sorted(set(items) - OPER_CAPABILITIES)
        if unknown:
            raise _fail(key, unknown, f"expected some of {', '.join(sorted(OPER_CAPABILITIES))}")
        return frozenset(items)
    if kind == "roles":
        return _roles(key, value)
    if kind == "networks":
        return _networks(key, value)
    if kind in _CHOICES:
        if isinstance(value, str) and value.strip().lower() in _CHOICES[kind]:
            return value.strip().lower()
        raise _fail(key, value, "expected one of " + ", ".join(_CHOICES[kind]))
    if kind == "bool":
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("true", "yes", "on", "1"):
            return True
        if text in ("false", "no", "off", "0"):
            return False
        raise _fail(key, value, "expected true or false")
    if kind == "registration":
        if value in ("open", "closed"):
            return value
        raise _fail(key, value, 'expected "open" or "closed"')
    if kind == "store_url":
        try:
            parse_store_url(str(value), Path("."))
        except ValueError as err:
            raise _fail(key, value, str(err).split(": ", 1)[-1]) from None
        return str(value).strip()
    if kind == "casemapping":
        try:
            return CaseMapping(str(value).lower())
        except ValueError:
            raise _fail(key, value, 'expected "rfc1459" or "ascii"') from None
    if not isinstance(value, str):
        raise _fail(key, value, "expected a string")
    if kind in ("hostname", "word", "host") and (not value or " " in value):
        raise _fail(key, value, "expected a non-empty value without spaces")
    if kind == "hostname" and "." not in value:
        raise _fail(key, value, "expected a name with at least one dot, like chat.example.org")
    return value


_CHOICES = {"proxy_header": ("x-forwarded-for", "forwarded"), "http_tls": ("auto", "on", "off")}


def _networks(key: str, value: object) -> tuple[IPv4Network | IPv6Network, ...]:
    """CIDRs (``10.0.0.0/8``, ``::1/128``) or single addresses."""
    networks = []
    for item in _as_list(key, value):
        try:
            networks.append(ip_network(item.strip(), strict=False))
        except ValueError:
            raise _fail(key, item, "expected addresses or networks like 10.0.0.0/8") from None
    return tuple(networks)


def _roles(key: str, value: object) -> tuple[OperRole, ...]:
    """``["name:cap,cap", ...]``; from the environment one string, roles split by spaces
    (a comma already separates capabilities)."""
    if isinstance(value, str):
        items = value.replace(";", " ").split()
    elif isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        items = list(value)
    else:
        raise _fail(key, value, 'expected a list of "name:capability,..." strings')
    allowed = ", ".join(sorted(OPER_CAPABILITIES))
    roles: list[OperRole] = []
    for item in items:
        name, sep, caps = item.strip().partition(":")
        if not sep:
            raise _fail(key, item, 'expected "name:capability,...", e.g. "moderator:kick,mute"')
        if not valid_role_name(name):
            raise _fail(
                key,
                item,
                "expected a role name of lowercase letters, digits, '-' and '_',"
                " starting with a letter, at most 32 characters",
            )
        if name == DEFAULT_OPER_ROLE:
            raise _fail(key, item, f"the role {DEFAULT_OPER_ROLE!r} is set by 'opers.capabilities'")
        if any(role.name == name for role in roles):
            raise _fail(key, item, f"the role {name!r} is defined twice")
        capabilities = [c for c in (part.strip() for part in caps.split(",")) if c]
        unknown = sorted(set(capabilities) - OPER_CAPABILITIES)
        if unknown:
            raise _fail(key, item, f"unknown capability {', '.join(unknown)}; expected {allowed}")
        roles.append(OperRole(name, frozenset(capabilities)))
    return tuple(roles)


def _flatten(data: Mapping[str, Any], path: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for name, value in data.items():
        key = f"{path}.{name}" if path else name
        if isinstance(value, Mapping):
            flat.update(_flatten(value, key))
        else:
            flat[key] = value
    return flat


CONFIG_NAME = "chatroom.toml"


def search_paths() -> list[Path]:
    """Where ``serve``, ``admin`` and ``config`` look for a config file when none is named:
    the current directory (where ``chatroom init`` writes it), then the user config dir."""
    import platformdirs

    return [Path(CONFIG_NAME), Path(platformdirs.user_config_dir("chatroom")) / CONFIG_NAME]


def find_file(explicit: Path | None, env: Mapping[str, str] | None = None) -> Path | None:
    """The config file to use: ``--config``, else ``CHATROOM_CONFIG``, else the first of
    ``search_paths()`` that exists; None means the defaults (and environment) only."""
    env = os.environ if env is None else env
    if explicit is not None:
        return explicit
    if env.get("CHATROOM_CONFIG"):
        return Path(env["CHATROOM_CONFIG"])
    return next((path for path in search_paths() if path.is_file()), None)


def read_file(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"config file {str(path)!r} does not exist") from None
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"config file {str(path)!r} is not valid TOML: {err}") from None
    flat = _flatten(data)
    for key in flat:
        if key not in BY_KEY:
            close = difflib.get_close_matches(key, BY_KEY, n=1)
            hint = (
                f"did you mean {close[0]!r}?"
                if close
                else "`chatroom config --defaults` lists every key"
            )
            raise ConfigError(f"config file {str(path)!r}: unknown key {key!r}; {hint}")
    return flat


def load(
    file: Path | None = None,
    env: Mapping[str, str] | None = None,
    flags: Mapping[str, object] | None = None,
) -> Config:
    """Merge the layers (later wins) and validate every value."""
    env = os.environ if env is None else env
    raw: dict[str, object] = {s.key: s.default for s in SETTINGS}
    file = file or (Path(env["CHATROOM_CONFIG"]) if env.get("CHATROOM_CONFIG") else None)
    if file is not None:
        raw.update(read_file(file))
    for setting in SETTINGS:
        if env_name(setting.key) in env:
            raw[setting.key] = env[env_name(setting.key)]
    for key, value in (flags or {}).items():
        if value is not None:
            raw[key] = value
    values = {key: _check(BY_KEY[key], value) for key, value in raw.items()}
    return _build(values)


def _build(v: Mapping[str, Any]) -> Config:
    limits = Limits(
        nick_length=v["limits.nick_length"],
        channel_length=v["limits.channel_length"],
        topic_length=v["limits.topic_length"],
        channels_per_user=v["limits.channels_per_user"],
        targets_per_message=v["limits.targets_per_message"],
        list_entries=v["limits.list_entries"],
        flood_burst=v["limits.flood_burst"],
        flood_per_second=float(v["limits.flood_per_second"]),
        connections_per_address=v["limits.connections_per_address"],
        connects_per_address_per_minute=v["limits.connects_per_address_per_minute"],
        connections_total=v["limits.connections_total"],
        ipv6_prefix=v["limits.ipv6_prefix"],
        multiline_max_bytes=v["limits.multiline_max_bytes"],
        multiline_max_lines=v["limits.multiline_max_lines"],
        metadata_max_keys=v["limits.metadata_max_keys"],
        metadata_max_subs=v["limits.metadata_max_subs"],
        metadata_max_value_bytes=v["limits.metadata_max_value_bytes"],
    )
    if limits.metadata_max_value_bytes > MAX_METADATA_VALUE_BYTES:
        raise ConfigError(
            f"config key 'limits.metadata_max_value_bytes': at most {MAX_METADATA_VALUE_BYTES},"
            " so that a value and its reply fit one 512-byte line"
        )
    timeouts = Timeouts(
        registration=float(v["timeouts.registration"]),
        ping_interval=float(v["timeouts.ping_interval"]),
        ping_timeout=float(v["timeouts.ping_timeout"]),
    )
    core = CoreSettings(
        server_name=v["server.name"],
        network_name=v["server.network"],
        description=v["server.description"],
        motd=v["server.motd"],
        server_password=v["server.password"] or None,
        casemapping=v["server.casemapping"],
        permanent_channels=v["server.channels"],
        limits=limits,
        timeouts=timeouts,
        accounts=AccountSettings(
            registration=v["accounts.registration"],
            guests=v["accounts.guests"],
            allow_plaintext_login=v["accounts.allow_plaintext_login"],
            nick_grace_seconds=float(v["accounts.nick_grace_seconds"]),
            min_password_length=v["accounts.min_password_length"],
            registration_before_connect=v["accounts.registration_before_connect"],
            require_email=v["accounts.require_email"],
        ),
        history=HistorySettings(
            chathistory_limit=v["history.chathistory_limit"],
            replay_lines=v["history.replay_lines"],
            retention_days=v["history.retention_days"],
            max_per_target=v["history.max_per_target"],
        ),
        oper_capabilities=v["opers.capabilities"],
        oper_roles=v["opers.roles"],
    )
    if bool(v["tls.cert"]) != bool(v["tls.key"]):
        raise ConfigError("config keys 'tls.cert' and 'tls.key': set both, or neither")
    tls = TlsConfig(
        port=v["listen.tls_port"],
        cert=Path(v["tls.cert"]) if v["tls.cert"] else None,
        key=Path(v["tls.key"]) if v["tls.key"] else None,
        sts_duration=v["tls.sts_duration"],
    )
    return Config(
        core=core,
        listen=ListenConfig(
            host=v["listen.host"], port=v["listen.port"], http_port=v["listen.http_port"]
        ),
        data_dir=Path(v["server.data_dir"]),
        sendq_bytes=v["limits.sendq_bytes"],
        http=HttpConfig(
            origins=v["http.origins"],
            hostnames=v["http.hostnames"],
            trusted_proxies=v["http.trusted_proxies"],
            proxy_header=v["http.proxy_header"],
            tls=v["http.tls"],
            request_timeout=float(v["http.request_timeout"]),
        ),
        tls=tls,
        argon2=(v["argon2.memory_kib"], v["argon2.time_cost"], v["argon2.parallelism"]),
        store_url=v["store.url"],
    )


def _toml_value(value: object) -> str:
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def defaults_toml() -> str:
    """The documented default configuration, as ``chatroom config --defaults`` prints it."""
    sections: dict[str, list[Setting]] = {}
    for s in SETTINGS:
        sections.setdefault(s.key.split(".", 1)[0], []).append(s)
    lines = ["# ChatRoom configuration. Every key may also be set as CHATROOM_<SECTION>_<KEY>."]
    for section, settings in sections.items():
        lines += ["", f"[{section}]"]
        for s in settings:
            lines.append(f"# {s.help}  (env {env_name(s.key)})")
            lines.append(f"{s.key.split('.', 1)[1]} = {_toml_value(s.default)}")
    return "\n".join(lines) + "\n"
