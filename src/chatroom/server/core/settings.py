"""The core's view of the configuration: plain values, validated elsewhere (``chatroom.config``).

The core never reads files or the environment; the shell builds one ``CoreSettings`` at start
and hands it in, so tests can build any configuration in one line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from chatroom.irc.casemap import CaseMapping


@dataclass(frozen=True, slots=True)
class Limits:
    """Every bound the protocol advertises or enforces, in one place."""

    nick_length: int = 30
    user_length: int = 16
    channel_length: int = 50
    topic_length: int = 390
    kick_length: int = 255
    away_length: int = 200
    key_length: int = 32
    realname_length: int = 128
    channels_per_user: int = 50
    targets_per_message: int = 4
    list_entries: int = 100
    modes_per_command: int = 6
    whowas_entries: int = 1000
    monitor_entries: int = 100
    # Flood control: a token bucket per connection (operators are exempt).
    flood_burst: int = 20
    flood_per_second: float = 4.0
    flood_backlog: int = 64
    # IRCv3 draft/multiline: the most one multi-line message may carry (CAP value
    # max-bytes, max-lines); each relayed copy costs about lines * 100 bytes more.
    multiline_max_bytes: int = 4096
    multiline_max_lines: int = 100
    # IRCv3 draft/metadata-2 (CAP value max-subs, max-keys, max-value-bytes): a value
    # longer than 300 bytes would not fit its 761 reply in 512 bytes.
    metadata_max_subs: int = 50
    metadata_max_keys: int = 20
    metadata_max_value_bytes: int = 300
    # Connection limits, checked when a connection opens.
    connections_per_address: int = 16
    connections_total: int = 20000
    connects_per_address_per_minute: int = 30
    # Every per-address limit (connections, connect rate, login throttle) counts an IPv6
    # address together with the rest of its network of this many bits.
    ipv6_prefix: int = 64


@dataclass(frozen=True, slots=True)
class Timeouts:
    """Seconds; the shell's ticker calls ``World.tick`` about once a second."""

    registration: float = 60.0
    ping_interval: float = 120.0
    ping_timeout: float = 60.0
    # Longest wait for a password check, a commit or a history query; the command then
    # fails with its usual error and the connection's held lines run.
    answer: float = 30.0


@dataclass(frozen=True, slots=True)
class AccountSettings:
    """Who may create accounts and how logins are guarded."""

    registration: str = "open"  # "open": anyone may register a nickname; "closed": admins only
    guests: bool = True  # may people without an account chat?
    allow_plaintext_login: bool = False  # PLAIN/PASS over unencrypted non-loopback links
    nick_grace_seconds: float = 30.0  # time to identify before a registered nick is taken back
    min_password_length: int = 8
    registrations_per_hour: int = 10  # accounts one address group may create an hour; 0: any
    max_pending_checks: int = 64  # password checks queued at once before logins are refused
    # REGISTER before the welcome (draft/account-registration "before-connect").
    registration_before_connect: bool = True
    # REGISTER needs an address ("email-required"); it is stored, never mailed.
    require_email: bool = False
    # One person, many devices: a connection that logs in to an account already online
    # attaches to the same user (NickServ SET MULTICLIENT overrides it per account).
    multiclient: bool = True
    # Always-on users stay in their rooms with no connection: "disabled", "opt-in"
    # (NickServ SET ALWAYS-ON ON) or "opt-out" (on unless the account turns it off).
    always_on: str = "opt-in"
    # Lines a connection without draft/chathistory gets replayed of what its user missed
    # (always-on rooms and private messages), oldest first; 0 replays nothing.
    missed_replay_lines: int = 200
    # Private messages kept for an account that has no connection, before the sender gets
    # "mailbox full" instead of "stored"; guests never get offline messages.
    offline_messages: int = 100


# What an IRC operator may be allowed to do; each role (``opers.capabilities`` for the
# default role, ``opers.roles`` for the others) picks from these. ``admin`` gates the
# commands that act on the server itself rather than on one user (CHGHOST); ``accounts``
# the management of other people's accounts (NickServ CERT <account>), because how an
# account logs in is worth more than any one moderation power.
OPER_CAPABILITIES = frozenset({"kick", "kill", "ban", "mute", "channels", "accounts", "admin"})

# The role existing operators had before roles existed, and the one ``--oper`` grants
# when no role is named; its capabilities are ``opers.capabilities``.
DEFAULT_OPER_ROLE = "oper"

_ROLE_NAME = re.compile(r"[a-z][a-z0-9_-]{0,31}")


def valid_role_name(name: str) -> bool:
    """Lowercase letters, digits, ``-`` and ``_``, starting with a letter, at most 32:
    role names appear in WHOIS, in the audit log and in the config, so they stay plain."""
    return _ROLE_NAME.fullmatch(name) is not None


@dataclass(frozen=True, slots=True)
class OperRole:
    """A named set of operator capabilities, given to accounts by name."""

    name: str
    capabilities: frozenset[str]


@dataclass(frozen=True, slots=True)
class HistorySettings:
    """Message history: what the core replays and serves, and what the store keeps."""

    chathistory_limit: int = 100  # most lines one CHATHISTORY request returns (ISUPPORT)
    replay_lines: int = 10  # lines replayed on join to clients without draft/chathistory
    retention_days: int = 0  # drop lines older than this; 0 keeps them until max_per_target
    max_per_target: int = 10000  # lines kept per room or private conversation; 0: no bound
    # Records waiting for the history writer before the shell stops reading the
    # connections that produce them (net/backpressure.py); the core does not use it.
    queue_limit: int = 4096


@dataclass(frozen=True, slots=True)
class CoreSettings:
    server_name: str = "chatroom.local"
    network_name: str = "ChatRoom"
    description: str = "ChatRoom IRC server"  # LINKS shows it as the server's info
    version: str = "chatroom-0.1.0"
    motd: tuple[str, ...] = ("Welcome to ChatRoom. Say hello in #lobby.",)
    admin_info: tuple[str, ...] = ("ChatRoom server", "Run by its operator", "admin@localhost")
    server_password: str | None = None
    casemapping: CaseMapping = CaseMapping.RFC1459
    permanent_channels: tuple[str, ...] = ("#lobby",)
    limits: Limits = field(default_factory=Limits)
    timeouts: Timeouts = field(default_factory=Timeouts)
    accounts: AccountSettings = field(default_factory=AccountSettings)
    history: HistorySettings = field(default_factory=HistorySettings)
    oper_capabilities: frozenset[str] = OPER_CAPABILITIES  # of the default role
    oper_roles: tuple[OperRole, ...] = ()  # the other roles (never the default one)

    def role_capabilities(self, role: str | None) -> frozenset[str] | None:
        """The capabilities of ``role``; None when the config does not define it.

        None is not the empty set: an account whose role was taken out of the config is no
        operator at all, rather than an operator who may do nothing.
        """
        if role is None:
            return None
        if role == DEFAULT_OPER_ROLE:
            return self.oper_capabilities
        return next((r.capabilities for r in self.oper_roles if r.name == role), None)

    def role_names(self) -> list[str]:
        """Every role an account may be given, sorted (for error messages)."""
        return sorted({DEFAULT_OPER_ROLE, *(r.name for r in self.oper_roles)})
