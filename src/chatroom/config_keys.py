"""Every configuration key, declared once: the table the rest of the configuration follows.

A ``Setting`` gives a dotted key (``listen.port``, which also names its environment
variable ``CHATROOM_LISTEN_PORT``), its default as written in TOML, its kind (how a value
is checked and what it becomes, see ``config_kinds``), one line of documentation, and
where it lands in ``Config`` (the section's object in ``LANDS_IN``, field of the same
name, unless ``to=`` says otherwise). A new setting is one entry in ``SETTINGS`` plus the
field it lands in; loading, ``chatroom config --defaults`` and chatroom.example.toml
follow from it (config.py).

This module is only the table, apart from the loading, so that reading which keys exist
(and adding one) is not mixed with how files, the environment and flags are read.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chatroom.server.core.settings import OPER_CAPABILITIES

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
