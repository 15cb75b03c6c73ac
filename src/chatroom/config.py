"""Configuration: defaults < TOML file < environment (CHATROOM_*) < command-line flags.

Every setting is declared once, as one ``Setting`` in ``SETTINGS``: its dotted key
(``listen.port``, which also names its environment variable ``CHATROOM_LISTEN_PORT``), its
default as written in TOML, its kind (how a value is checked and what it becomes, see
``config_kinds``), one line of documentation, and where it lands in ``Config`` (the
section's object in ``LANDS_IN``, field of the same name, unless ``to=`` says otherwise).
Loading, ``chatroom config --defaults`` and chatroom.example.toml all follow from that
table, so a new setting is one entry there plus the field it lands in. Values are validated
once, here, into frozen dataclasses; a bad value stops start-up with a message naming the
key and what is allowed.
"""

from __future__ import annotations

import difflib
import os
import stat
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from ipaddress import IPv4Network, IPv6Network
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import quote, unquote

from chatroom.config_kinds import MAX_METADATA_VALUE_BYTES as MAX_METADATA_VALUE_BYTES
from chatroom.config_kinds import ConfigError as ConfigError
from chatroom.config_kinds import check
from chatroom.server.core.settings import (
    OPER_CAPABILITIES,
    AccountSettings,
    CoreSettings,
    HistorySettings,
    Limits,
    Timeouts,
)
from chatroom.server.store.private import private_dir
from chatroom.server.store.url import StoreLocation, parse_store_url


@dataclass(frozen=True, slots=True)
class ListenConfig:
    host: str
    port: int | None
    http_port: int | None
    reuse_port: bool = False


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
    # The defaults (for an HttpServer made without a config) equal the declared ones; a
    # test keeps them so.
    origins: tuple[str, ...] = ()
    hostnames: tuple[str, ...] = ()
    trusted_proxies: tuple[IPv4Network | IPv6Network, ...] = ()
    proxy_header: str = "x-forwarded-for"  # or "forwarded"
    tls: str = "auto"  # "auto", "on" or "off"
    request_timeout: float = 10.0
    # Who may scrape /metrics (the client's address, after trusted proxies); (): nobody.
    metrics_from: tuple[IPv4Network | IPv6Network, ...] = (
        IPv4Network("127.0.0.0/8"),
        IPv6Network("::1/128"),
    )


class Argon2Config(NamedTuple):
    """argon2id costs, in the order ``Argon2Params`` takes them."""

    memory_kib: int
    time_cost: int
    parallelism: int


@dataclass(frozen=True, slots=True)
class Config:
    core: CoreSettings
    listen: ListenConfig
    data_dir: Path
    sendq_bytes: int
    http: HttpConfig
    tls: TlsConfig
    argon2: Argon2Config
    store_url: str  # empty: the SQLite files in data_dir (see store/url.py)
    cluster_url: str  # empty: a single server; redis://...: a node of a network
    node: str  # this node's name in the network (default: the host's name)
    cluster_secret: str  # signs the network's log (server/cluster/codec.py)
    snapshot_every: int  # log entries between snapshots (then the log is trimmed)

    @property
    def store(self) -> StoreLocation:
        """Where the store and the history live (``store.url``, else the data directory)."""
        return parse_store_url(self.store_url, self.data_dir)


# The objects settings land in, by their attribute path in ``Config``. Each is built from
# the settings that land on its fields; a field no setting names keeps the object's own
# default (``Limits.user_length``, ``CoreSettings.version``...).
OBJECTS: dict[str, type[Any]] = {
    "": Config,
    "core": CoreSettings,
    "core.limits": Limits,
    "core.timeouts": Timeouts,
    "core.accounts": AccountSettings,
    "core.history": HistorySettings,
    "listen": ListenConfig,
    "tls": TlsConfig,
    "http": HttpConfig,
    "argon2": Argon2Config,
}


# Where the settings of each [section] land in Config, unless a setting names another
# place (``to=``): ``limits.nick_length`` lands in ``config.core.limits.nick_length``.
LANDS_IN = {
    "server": "core",
    "store": "",
    "cluster": "",
    "listen": "listen",
    "http": "http",
    "tls": "tls",
    "accounts": "core.accounts",
    "opers": "core",
    "argon2": "argon2",
    "limits": "core.limits",
    "timeouts": "core.timeouts",
    "history": "core.history",
}


@dataclass(frozen=True, slots=True)
class Setting:
    key: str  # [section] and name in TOML; CHATROOM_SECTION_NAME in the environment
    default: Any  # as written in TOML; checked like any other value
    kind: str  # how a value is checked and what it becomes (config_kinds.KINDS)
    help: str  # one line, printed above the key by `chatroom config --defaults`
    to: str | None = None  # where it lands in Config when not where LANDS_IN puts it

    @property
    def lands_in(self) -> str:
        """The attribute path in ``Config``, e.g. ``core.limits.nick_length``."""
        if self.to is not None:
            return self.to
        section, name = self.key.split(".", 1)
        return f"{LANDS_IN[section]}.{name}".lstrip(".")


def env_name(key: str) -> str:
    return "CHATROOM_" + key.upper().replace(".", "_")


# Every setting, in the order `chatroom config --defaults` prints them (its sections in the
# order they first appear), with its default as written in TOML, its kind and its doc line.
SETTINGS: tuple[Setting, ...] = (
    Setting(
        "server.name",
        "chatroom.local",
        "hostname",
        "Server name shown to clients.",
        to="core.server_name",
    ),
    Setting(
        "server.network",
        "ChatRoom",
        "word",
        "Network name (ISUPPORT NETWORK).",
        to="core.network_name",
    ),
    Setting("server.description", "ChatRoom IRC server", "str", "About this server (LINKS)."),
    Setting(
        "server.data_dir",
        "./chatroom-data",
        "path",
        "Database, certificate and state (a relative path in a config file: from its folder).",
        to="data_dir",
    ),
    Setting(
        "store.url",
        "",
        "store_url",
        "Where accounts, bans, rooms and history live: empty = SQLite files in server.data_dir;"
        " sqlite:///DIR (sqlite:DIR: relative to this file's folder);"
        " postgresql://USER@HOST:PORT/DB (Unix socket:"
        " postgresql:///DB?host=/run/postgresql).",
        to="store_url",
    ),
    Setting(
        "cluster.url",
        "",
        "cluster_url",
        "Several nodes as one network (docs/cluster.md): redis://HOST:PORT/DB of the Redis"
        " they share; needs a postgresql:// store.url. Empty = one server, no Redis.",
        to="cluster_url",
    ),
    Setting(
        "cluster.secret",
        "",
        "str",
        "Signs the network's log, the same on every node and never in Redis: at least 32"
        " characters, e.g. `openssl rand -hex 32`. Required with cluster.url.",
        to="cluster_secret",
    ),
    Setting(
        "cluster.snapshot_every",
        50000,
        "count",
        "Log entries between snapshots of the network's state; joining nodes start from the"
        " newest one and the log before it is trimmed.",
        to="snapshot_every",
    ),
    Setting(
        "cluster.node",
        "",
        "node_name",
        "This node's name in the network (letters, digits, '.', '-', '_'); empty = host name.",
        to="node",
    ),
    Setting("server.motd", ["Welcome to ChatRoom. Say hello in #lobby."], "lines", "MOTD."),
    Setting(
        "server.password",
        "",
        "str_or_none",
        "Server password (PASS); empty means none.",
        to="core.server_password",
    ),
    Setting("server.casemapping", "rfc1459", "casemapping", "rfc1459 or ascii."),
    Setting(
        "server.channels",
        ["#lobby"],
        "channels",
        "Rooms that always exist.",
        to="core.permanent_channels",
    ),
    Setting("listen.host", "127.0.0.1", "host", "Address for every listener."),
    Setting("listen.port", 6667, "port", "Plain IRC port; 0 picks a free one, off disables."),
    Setting(
        "listen.http_port",
        8080,
        "port",
        "Web client, IRC over WebSocket, /metrics; off disables.",
    ),
    Setting(
        "listen.reuse_port",
        False,
        "bool",
        "Share the ports with other nodes on this machine (SO_REUSEPORT; serve --workers"
        " sets it); a second server on the same port is then not refused.",
    ),
    Setting(
        "http.origins",
        [],
        "lines",
        "Extra web origins allowed on /ws; empty: same origin only.",
    ),
    Setting(
        "http.hostnames",
        [],
        "lines",
        "Names the web port is reached at (besides IP addresses, localhost, server.name and"
        ' listen.host); other Host headers get 421, against DNS rebinding. "*": any.',
    ),
    Setting(
        "http.trusted_proxies",
        [],
        "networks",
        "Reverse proxies (CIDRs) whose client address header is believed, for limits, bans,"
        " throttling and WHOIS; everyone else's is ignored.",
    ),
    Setting(
        "http.proxy_header",
        "x-forwarded-for",
        "proxy_header",
        "Header the trusted proxies set: x-forwarded-for (with X-Forwarded-Proto) or forwarded"
        " (RFC 7239).",
    ),
    Setting(
        "http.tls",
        "auto",
        "http_tls",
        "auto: HTTPS when listening off loopback or when tls.cert is set (self-signed without"
        " it); on: always HTTPS; off: plain HTTP even off loopback (behind a proxy).",
    ),
    Setting(
        "http.metrics_from",
        ["127.0.0.0/8", "::1/128"],
        "networks_or_off",
        "Networks (CIDRs) that may read /metrics, by the client's address (behind a trusted"
        ' proxy: the client it names); others get 403. "off": /metrics is not served (404).',
    ),
    Setting(
        "http.request_timeout",
        10,
        "seconds",
        "Seconds a web connection has to send a complete request (from connecting, TLS included,"
        " or from its previous response) before it is closed.",
    ),
    Setting("listen.tls_port", 6697, "port", "IRC over TLS port; off disables.", to="tls.port"),
    Setting(
        "tls.cert",
        "",
        "path_or_none",
        "PEM certificate; empty: self-signed, made on first start.",
    ),
    Setting("tls.key", "", "path_or_none", "PEM private key for tls.cert."),
    Setting(
        "tls.sts_duration",
        86400,
        "seconds_or_off",
        "With tls.cert set: seconds clients must keep to TLS (IRCv3 sts); off: no policy.",
    ),
    Setting("accounts.registration", "open", "registration", "open: anyone; closed: admins."),
    Setting("accounts.guests", True, "bool", "May people without an account chat?"),
    Setting(
        "accounts.allow_plaintext_login",
        False,
        "bool",
        "Passwords over non-TLS remote links.",
    ),
    Setting("accounts.nick_grace_seconds", 30, "seconds", "Time to identify for a nick."),
    Setting("accounts.min_password_length", 8, "count", "Shortest password accepted."),
    Setting(
        "accounts.registrations_per_hour",
        10,
        "count0",
        "Accounts one address (IPv6: its network) may create an hour; 0: no bound.",
    ),
    Setting(
        "accounts.registration_before_connect",
        True,
        "bool",
        "May REGISTER come before the welcome (before-connect)?",
    ),
    Setting(
        "accounts.require_email",
        False,
        "bool",
        "Must REGISTER give an email address? It is stored, never mailed.",
    ),
    Setting(
        "accounts.multiclient",
        True,
        "bool",
        "A second connection that logs in to an account already online shares its nick and rooms.",
    ),
    Setting(
        "accounts.always_on",
        "opt-in",
        "always_on",
        "Users who stay in their rooms, away, with no connection (NickServ SET ALWAYS-ON):"
        " disabled, opt-in or opt-out.",
    ),
    Setting(
        "accounts.missed_replay_lines",
        200,
        "count0",
        "Lines of what a user missed replayed at login to clients without CHATHISTORY; 0: none.",
    ),
    Setting(
        "accounts.offline_messages",
        100,
        "count",
        "Private messages stored for an account with no connection; beyond that, senders hear"
        " it is full.",
    ),
    Setting(
        "opers.capabilities",
        sorted(OPER_CAPABILITIES),
        "capabilities",
        "What operators of the default role (oper) may do: kick, kill, ban, mute, channels"
        " (override room ops), accounts (others' NickServ CERT), admin (CHGHOST).",
        to="core.oper_capabilities",
    ),
    Setting(
        "opers.roles",
        [],
        "roles",
        'More operator roles, each "name:capability,...", e.g. "moderator:kick,mute" (in the'
        " environment: separated by spaces).",
        to="core.oper_roles",
    ),
    Setting("argon2.memory_kib", 19456, "count", "argon2id memory cost (KiB)."),
    Setting("argon2.time_cost", 2, "count", "argon2id iterations."),
    Setting("argon2.parallelism", 1, "count", "argon2id lanes."),
    Setting("limits.nick_length", 30, "count", "Longest nickname."),
    Setting("limits.channel_length", 50, "count", "Longest room name."),
    Setting("limits.topic_length", 390, "count", "Longest topic."),
    Setting("limits.channels_per_user", 50, "count", "Rooms one client may be in."),
    Setting("limits.targets_per_message", 4, "count", "Targets in one PRIVMSG/NOTICE."),
    Setting("limits.list_entries", 100, "count", "Entries per ban/exception/invite list."),
    Setting(
        "limits.sendq_bytes",
        1_048_576,
        "count",
        "Unsent bytes before a slow reader is dropped.",
        to="sendq_bytes",
    ),
    Setting("limits.flood_burst", 20, "count", "Lines a client may send at once."),
    Setting("limits.flood_per_second", 4, "rate", "Steady lines per second; 0: no limit."),
    Setting("limits.connections_per_address", 16, "count", "Open connections per address."),
    Setting("limits.connects_per_address_per_minute", 30, "count", "New connections a minute."),
    Setting("limits.connections_total", 20000, "count", "Open connections in all."),
    Setting(
        "limits.ipv6_prefix",
        64,
        "ipv6_prefix",
        "IPv6 networks of this many bits count as one address in per-address limits.",
    ),
    Setting("limits.multiline_max_bytes", 4096, "count", "Bytes in one multi-line message."),
    Setting("limits.multiline_max_lines", 100, "count", "Lines in one multi-line message."),
    Setting("limits.metadata_max_keys", 20, "count", "METADATA keys per user or room."),
    Setting("limits.metadata_max_subs", 50, "count", "METADATA keys one client may follow."),
    Setting(
        "limits.metadata_max_value_bytes",
        300,
        "metadata_bytes",
        "Longest METADATA value (300 at most).",
    ),
    Setting("timeouts.registration", 60, "seconds", "Time to finish NICK/USER."),
    Setting("history.retention_days", 0, "count0", "Drop lines older than this; 0 keeps them."),
    Setting("history.max_per_target", 10000, "count0", "Lines kept per room or chat; 0: all."),
    Setting(
        "history.queue_limit",
        4096,
        "count",
        "Lines waiting to be written before the senders' connections are paused.",
    ),
    Setting("history.replay_lines", 10, "count0", "Lines replayed on join without CHATHISTORY."),
    Setting("history.chathistory_limit", 100, "count", "Most lines one CHATHISTORY returns."),
    Setting("timeouts.ping_interval", 120, "seconds", "Idle time before the server PINGs."),
    Setting("timeouts.ping_timeout", 60, "seconds", "Time to answer that PING."),
)
BY_KEY = {s.key: s for s in SETTINGS}


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


MAX_FILE_BYTES = 1 << 20  # a config file is a few KiB; more is a mistake or an attack


def _file_text(path: Path) -> str:
    """The file's text: a regular file of at most ``MAX_FILE_BYTES``, else ConfigError.
    Opened without blocking and checked before it is read, so REHASH or SIGHUP on a path
    that became a FIFO or a device (or a huge file) never stalls the running server."""
    with os.fdopen(os.open(path, os.O_RDONLY | os.O_NONBLOCK), "rb") as fh:
        if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
            raise ConfigError(
                f"config file {str(path)!r} is not a regular file (a FIFO, device or"
                " directory); give a file (--config FILE)"
            )
        data = fh.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise ConfigError(f"config file {str(path)!r} is too large (over {MAX_FILE_BYTES} bytes)")
    try:
        return data.decode()
    except UnicodeDecodeError as err:
        raise ConfigError(f"config file {str(path)!r} is not UTF-8 text ({err.reason})") from None


def read_file(path: Path) -> dict[str, Any]:
    try:
        data = tomllib.loads(_file_text(path))
    except FileNotFoundError:
        raise ConfigError(f"config file {str(path)!r} does not exist") from None
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"config file {str(path)!r} is not valid TOML: {err}") from None
    except OSError as err:
        raise ConfigError(
            f"config file {str(path)!r} cannot be read ({err.strerror or err});"
            " give a file this user may read (--config FILE)"
        ) from None
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


def paths_from_folder(values: dict[str, Any], folder: Path) -> dict[str, Any]:
    """A config file's relative paths, taken from the file's folder: ``serve`` and ``admin``
    given ``--config DIR/chatroom.toml`` from anywhere then use the same data directory,
    never a new empty one under whatever directory they were started in."""
    for key, value in values.items():
        relative = isinstance(value, str) and value and not Path(value).is_absolute()
        if relative and BY_KEY[key].kind in ("path", "path_or_none"):
            values[key] = str(folder / value)
    url = values.get("store.url")
    if isinstance(url, str) and url[:7].lower() == "sqlite:" and url[7:8] not in ("", "/"):
        # ``sqlite:DIR`` (no slashes): a relative folder, from the file's folder too.
        values["store.url"] = "sqlite://" + quote(str((folder / unquote(url[7:])).absolute()))
    return values


def make_data_dir(path: Path) -> Path:
    """The data directory, made private if missing (serve, admin, init); one that cannot
    be made is a ConfigError naming the key, not a traceback."""
    try:
        return private_dir(path)
    except OSError as err:
        raise ConfigError(
            f"config key 'server.data_dir': cannot make {path} ({err.strerror or err});"
            " give a directory this user may create and write (--data-dir DIR)"
        ) from None


def layers(
    file: Path | None = None,
    env: Mapping[str, str] | None = None,
    flags: Mapping[str, object] | None = None,
) -> dict[str, tuple[object, str]]:
    """Each key's value before it is checked, and where it comes from: "" (the default),
    the config file's path, the environment variable's name, or "flag"; later layers win."""
    env = os.environ if env is None else env
    raw: dict[str, tuple[object, str]] = {s.key: (s.default, "") for s in SETTINGS}
    file = file or (Path(env["CHATROOM_CONFIG"]) if env.get("CHATROOM_CONFIG") else None)
    if file is not None:
        found = paths_from_folder(read_file(file), file.parent)
        raw.update({key: (value, str(file)) for key, value in found.items()})
    for setting in SETTINGS:
        if env_name(setting.key) in env:
            raw[setting.key] = (env[env_name(setting.key)], env_name(setting.key))
    for key, value in (flags or {}).items():
        if value is not None:
            raw[key] = (value, "flag")
    return raw


def load(
    file: Path | None = None,
    env: Mapping[str, str] | None = None,
    flags: Mapping[str, object] | None = None,
) -> Config:
    """Merge the layers (later wins) and validate every value."""
    raw = {key: value for key, (value, _) in layers(file, env, flags).items()}
    values = {key: check(key, BY_KEY[key].kind, value) for key, value in raw.items()}
    if values["cluster.url"] and not str(values["store.url"]).startswith("postgres"):
        raise ConfigError(
            "config key 'cluster.url': the nodes of a network share one PostgreSQL store;"
            " set store.url (or --store) to postgresql://USER@HOST:PORT/DB"
        )
    if values["cluster.url"] and len(str(values["cluster.secret"])) < 32:
        raise ConfigError(
            "config key 'cluster.secret': a network's nodes sign their log with a shared"
            " secret of at least 32 characters that Redis never sees; make one with"
            " `openssl rand -hex 32` and give every node the same (CHATROOM_CLUSTER_SECRET)"
        )
    if bool(values["tls.cert"]) != bool(values["tls.key"]):
        raise ConfigError("config keys 'tls.cert' and 'tls.key': set both, or neither")
    return _build(values)


def _build(values: Mapping[str, object]) -> Config:
    """Each object of ``OBJECTS`` made from the values that land in it, longest path first,
    so that an object is made before the one that holds it."""
    fields: dict[str, dict[str, Any]] = {path: {} for path in OBJECTS}
    for setting in SETTINGS:
        owner, _, name = setting.lands_in.rpartition(".")
        fields[owner][name] = values[setting.key]
    for path in sorted(OBJECTS, key=len, reverse=True):
        if path:
            owner, _, name = path.rpartition(".")
            fields[owner][name] = OBJECTS[path](**fields[path])
    return Config(**fields[""])


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
