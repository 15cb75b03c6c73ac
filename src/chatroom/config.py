"""Configuration: defaults < TOML file < environment (CHATROOM_*) < command-line flags.

Every setting is declared once, as one ``Setting`` in the table of ``config_keys``
(re-exported here: ``SETTINGS``, ``BY_KEY``, ``Setting``, ``env_name``, ``LANDS_IN``).
This module follows that table: it finds and reads the config file, lays the
environment and the flags over it (``layers``), checks every value once by its kind
(``config_kinds``), builds the frozen dataclasses of ``Config`` from where each setting
lands (``load``), and prints the documented defaults (``defaults_toml``). A bad value
stops start-up with a message naming the key and what is allowed.
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

from chatroom.config_keys import BY_KEY as BY_KEY
from chatroom.config_keys import LANDS_IN as LANDS_IN
from chatroom.config_keys import SETTINGS as SETTINGS
from chatroom.config_keys import Setting as Setting
from chatroom.config_keys import env_name as env_name
from chatroom.config_kinds import MAX_METADATA_VALUE_BYTES as MAX_METADATA_VALUE_BYTES
from chatroom.config_kinds import ConfigError as ConfigError
from chatroom.config_kinds import check
from chatroom.server.core.settings import (
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
