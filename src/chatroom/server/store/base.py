"""Durable records and the ``Store`` protocol every backend implements.

The server core keeps all durable state in memory and only ever *describes* changes
(``Change`` records); a backend turns a sequence of them into one all-or-nothing
transaction. Records are frozen so that the core can share them freely between its own
state and effects already queued for the writer thread.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol, get_args

__all__ = [
    "BAN_KINDS",
    "USER_AUDIT_ENTRIES",
    "USER_AUDIT_SQL",
    "USER_AUDIT_STEP",
    "Account",
    "AccountMute",
    "AlreadyExistsError",
    "AlreadyExistsText",
    "AppendAudit",
    "AuditEntry",
    "BanKind",
    "Change",
    "ChannelListEntry",
    "ConflictError",
    "CreateAccount",
    "DeleteAccount",
    "DeleteBan",
    "DeleteBanTarget",
    "DeleteChannel",
    "DeleteMetadata",
    "DeleteMute",
    "DeletePresence",
    "DeleteReadMarkers",
    "Presence",
    "PutAccount",
    "PutAccountOption",
    "PutBan",
    "PutChannel",
    "PutMetadata",
    "PutMute",
    "PutPresence",
    "PutReadMarker",
    "RegisterChannel",
    "RegisteredChannel",
    "RenameChannel",
    "ServerBan",
    "SetAccountCertfps",
    "SetAccountOperRole",
    "SetAccountPassword",
    "SetChannelFounder",
    "Snapshot",
    "Store",
    "StoreDelta",
    "StoreError",
    "Touched",
    "UpdateChannel",
    "ban_key",
    "commit_error",
    "made_by_any_user",
    "touched_by",
]

BanKind = Literal["account", "nick", "address", "cidr"]
BAN_KINDS: frozenset[str] = frozenset(get_args(BanKind))


class StoreError(Exception):
    """A backend failure the caller can report; the transaction was rolled back."""


class ConflictError(StoreError):
    """A change broke a uniqueness rule (a certificate fingerprint or ban mask reused)."""


class AlreadyExistsError(ConflictError):
    """An insert found its key taken: the account or room was created by someone else
    (another connection, ``chatroom admin``, another server) since the caller looked."""


class AlreadyExistsText(str):
    """The error text of a commit refused by ``AlreadyExistsError``, as the core receives it
    (``World.persisted(token, error)``): still a plain string for every caller that only
    logs it, while the account and room paths answer "already exists" from its type."""


def commit_error(error: BaseException) -> str:
    """How the shell reports a failed commit to the core."""
    if isinstance(error, AlreadyExistsError):
        return AlreadyExistsText(str(error))
    return repr(error)


@dataclass(frozen=True, slots=True)
class Account:
    """A registered account; ``key`` is the casefolded ``name`` and is what is unique.

    ``oper_role`` names the account's operator role (its capabilities are in the config);
    None means it is no server operator.
    """

    name: str
    key: str
    password_hash: str
    scram: str | None
    email: str | None
    created_at: float
    oper_role: str | None = None
    certfps: tuple[str, ...] = ()

    @property
    def oper(self) -> bool:
        """Whether the account has any operator role; what it may do depends on the role."""
        return self.oper_role is not None


@dataclass(frozen=True, slots=True)
class ServerBan:
    """A server-wide ban; ``id`` is None until the store has assigned one."""

    id: int | None
    kind: BanKind
    mask: str
    reason: str
    set_by: str
    set_at: float
    expires_at: float | None


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One moderation or administration action, kept for accountability."""

    id: int | None
    at: float
    actor: str
    action: str
    target: str
    reason: str


@dataclass(frozen=True, slots=True)
class AccountMute:
    """A server-wide mute: the account may still read, but its messages are refused."""

    account_key: str
    account_name: str
    reason: str
    set_by: str
    set_at: float
    expires_at: float | None


@dataclass(frozen=True, slots=True)
class ChannelListEntry:
    """One +b/+e/+I/+q entry of a registered room (``letter`` says which list)."""

    letter: str
    mask: str
    set_by: str
    set_at: float
    expires_at: float | None = None


@dataclass(frozen=True, slots=True)
class RegisteredChannel:
    """A room registered to its founder (ChanServ): what survives a restart.

    ``key`` is the casefolded ``name``; ``ops`` are account names that get +o on join;
    ``modes`` holds the flag letters (like "nt"); ``channel_key`` is the +k password.
    """

    key: str
    name: str
    founder: str
    registered_at: float
    topic: str = ""
    topic_set_by: str = ""
    topic_set_at: float = 0.0
    modes: str = "nt"
    channel_key: str | None = None
    limit: int | None = None
    ops: tuple[str, ...] = ()
    lists: tuple[ChannelListEntry, ...] = ()


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Everything the core loads at start; ``version`` counts committed transactions."""

    accounts: dict[str, Account] = field(default_factory=dict)
    bans: list[ServerBan] = field(default_factory=list)
    version: int = 0
    mutes: dict[str, AccountMute] = field(default_factory=dict)
    channels: dict[str, RegisteredChannel] = field(default_factory=dict)
    # IRCv3 metadata of accounts: account key -> {metadata key: value}.
    metadata: dict[str, dict[str, str]] = field(default_factory=dict)
    # Per-account choices (NickServ SET): account key -> {option name: value}.
    options: dict[str, dict[str, str]] = field(default_factory=dict)
    # IRCv3 draft/read-marker: account key -> {folded target: unix time of the marker}.
    read_markers: dict[str, dict[str, float]] = field(default_factory=dict)
    # Always-on users kept while no connection is attached: account key -> presence.
    presence: dict[str, Presence] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Presence:
    """What an always-on user keeps across a restart while none of its connections is
    attached: its nick, its rooms (names as shown), since when it has been missing lines
    (``last_seen``, unix time; what it missed starts there) and its user modes (letters,
    ``+o`` excepted: that follows the account's operator role)."""

    account_key: str
    nick: str
    channels: tuple[str, ...]
    away: str | None
    last_seen: float
    modes: str = ""


@dataclass(frozen=True, slots=True)
class PutAccount:
    """Create or replace the account with ``account.key`` (restores and migrations)."""

    account: Account


@dataclass(frozen=True, slots=True)
class CreateAccount:
    """Insert a new account; ``AlreadyExistsError`` if its key is taken, never a replace.

    Registration (REGISTER, NickServ, ``chatroom admin create``) writes this: a name taken
    meanwhile by another process is refused by the database, not silently overwritten.
    """

    account: Account


@dataclass(frozen=True, slots=True)
class SetAccountOperRole:
    """Grant (a role name) or revoke (None) operator rights, if the account still exists."""

    key: str
    oper_role: str | None


@dataclass(frozen=True, slots=True)
class SetAccountPassword:
    """Replace an account's password (argon2id hash and SCRAM verifier), if it still exists.

    The server writes this (NickServ SET PASSWORD, a rehash at login), and
    ``SetAccountCertfps`` for CERT, instead of ``PutAccount``: changing only its own field,
    it never brings back an account ``chatroom admin delete`` removed, nor undoes a grant
    or password set from the shell, in the seconds before the server reloads.
    """

    key: str
    password_hash: str
    scram: str | None


@dataclass(frozen=True, slots=True)
class SetAccountCertfps:
    """Replace an account's certificate fingerprints, if it still exists; the rest of the
    account stays as stored (see ``SetAccountPassword``)."""

    key: str
    certfps: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class DeleteAccount:
    """Remove an account with its metadata, options, read markers and kept presence;
    deleting a missing one is a no-op so retries are harmless."""

    key: str


@dataclass(frozen=True, slots=True)
class PutBan:
    """Create or replace a ban.

    With ``ban.id`` set the ban with that id is replaced. With ``id=None`` the store picks
    the id, except that a ban with the same ``(kind, mask)`` is updated in place, so
    re-banning a mask changes its reason/expiry instead of duplicating it.
    """

    ban: ServerBan


@dataclass(frozen=True, slots=True)
class DeleteBan:
    """Remove a ban by id; a missing id is a no-op."""

    id: int


@dataclass(frozen=True, slots=True)
class DeleteBanTarget:
    """Remove the ban on ``(kind, mask)``; a missing one is a no-op.

    The core lifts bans this way: it never learns the ids the store assigns to bans it
    created, but ``(kind, mask)`` is unique too.
    """

    kind: BanKind
    mask: str


# Entries any user can make as often as flood control lets it: room moderation
# (``channel.*``: KICK, MODE +b/+o..., RENAME in a room a guest made, ChanServ) and an account's
# changes to its own password and certificates (``account.password``, ``account.cert.*``
# with the account as actor). Such an entry is kept while it is among the newest
# ``USER_AUDIT_ENTRIES`` entries of the log, so the log stays bounded; every other entry
# (bans, mutes, operators, accounts, an operator or admin changing someone's password or
# certificates) is kept.
USER_AUDIT_ENTRIES = 100_000
# Each such entry looks for older ones only among the last ids to leave the newest
# ``USER_AUDIT_ENTRIES``, so its cost does not grow with the entries kept for good; one
# that more than this many entries of other kinds in a row pushed past stays (bounded
# by those entries, which no user makes at will).
USER_AUDIT_STEP = 1024
# The same rule in SQL (SQLite and PostgreSQL alike).
USER_AUDIT_SQL = (
    "(action LIKE 'channel.%' OR (action = 'account.password' AND target = actor)"
    " OR (action LIKE 'account.cert.%' AND substr(target, 1, length(actor) + 1) = actor || ' '))"
)


def made_by_any_user(entry: AuditEntry) -> bool:
    """An entry of the kind ``USER_AUDIT_ENTRIES`` bounds."""
    if entry.action.startswith("channel."):
        return True
    if entry.action == "account.password":
        return entry.target == entry.actor
    return entry.action.startswith("account.cert.") and entry.target.startswith(entry.actor + " ")


@dataclass(frozen=True, slots=True)
class AppendAudit:
    """Append to the audit log (``entry.id`` is ignored: the store numbers entries); room
    entries any user makes (``made_by_any_user``) go once older than the newest
    ``USER_AUDIT_ENTRIES``."""

    entry: AuditEntry


@dataclass(frozen=True, slots=True)
class PutMute:
    """Create or replace the mute of ``mute.account_key``."""

    mute: AccountMute


@dataclass(frozen=True, slots=True)
class DeleteMute:
    """Lift a mute; a missing one is a no-op."""

    account_key: str


@dataclass(frozen=True, slots=True)
class PutChannel:
    """Create or replace a registered room (its whole state: ops and lists included)."""

    channel: RegisteredChannel


@dataclass(frozen=True, slots=True)
class RegisterChannel:
    """Insert a new registered room; ``AlreadyExistsError`` if it is registered already."""

    channel: RegisteredChannel


@dataclass(frozen=True, slots=True)
class UpdateChannel:
    """Save a registered room's state (topic, modes, key, limit, ops, lists), if it still
    is registered; its founder and registration time stay as stored.

    The server writes this after every change in a room. Unlike ``PutChannel`` it never
    brings back a room that ``chatroom admin room-drop`` dropped, nor undoes a
    ``room-founder`` transfer, in the seconds before the running server reloads.
    """

    channel: RegisteredChannel


@dataclass(frozen=True, slots=True)
class SetChannelFounder:
    """Give a registered room a new founder (an account name); a missing room is a no-op."""

    key: str
    founder: str


@dataclass(frozen=True, slots=True)
class DeleteChannel:
    """Drop a room's registration; a missing one is a no-op."""

    key: str


@dataclass(frozen=True, slots=True)
class RenameChannel:
    """A registered room was renamed (``RENAME``): it moves to ``new_key`` with its ops
    and lists. A room that is no longer registered stays so, as with ``UpdateChannel``."""

    key: str
    new_key: str
    new_name: str


@dataclass(frozen=True, slots=True)
class PutMetadata:
    """Set one metadata key (IRCv3 ``draft/metadata-2``) of an existing account."""

    account_key: str
    key: str
    value: str


@dataclass(frozen=True, slots=True)
class DeleteMetadata:
    """Remove one metadata key of an account, or every key when ``key`` is None; removing
    what is not there is a no-op. Deleting the account removes its metadata too."""

    account_key: str
    key: str | None = None


@dataclass(frozen=True, slots=True)
class PutAccountOption:
    """Set (or, with ``value`` None, clear) one per-account option of an existing account:
    ``multiclient`` and ``always-on`` ("on"/"off"); cleared means the server's default."""

    account_key: str
    name: str
    value: str | None


@dataclass(frozen=True, slots=True)
class PutReadMarker:
    """Move the account's read marker on ``target`` (a folded nick or room name) to
    ``at`` (unix time, millisecond precision). The core only ever moves it forward."""

    account_key: str
    target: str
    at: float


@dataclass(frozen=True, slots=True)
class DeleteReadMarkers:
    """Forget every account's read marker on ``target``: a renamed room's old name, whose
    markers moved to the new one (``PutReadMarker``), so that a new room that takes the
    old name starts with none."""

    target: str


@dataclass(frozen=True, slots=True)
class PutPresence:
    """Create or replace the kept presence of an always-on account."""

    presence: Presence


@dataclass(frozen=True, slots=True)
class DeletePresence:
    """Forget the kept presence of an account (no-op when there is none)."""

    account_key: str


Change = (
    PutAccount
    | CreateAccount
    | SetAccountOperRole
    | SetAccountPassword
    | SetAccountCertfps
    | DeleteAccount
    | PutBan
    | DeleteBan
    | DeleteBanTarget
    | AppendAudit
    | PutMute
    | DeleteMute
    | PutChannel
    | RegisterChannel
    | UpdateChannel
    | SetChannelFounder
    | DeleteChannel
    | RenameChannel
    | PutMetadata
    | DeleteMetadata
    | PutAccountOption
    | PutReadMarker
    | DeleteReadMarkers
    | PutPresence
    | DeletePresence
)


def ban_key(kind: str, mask: str) -> str:
    """What identifies a ban across processes: ``(kind, mask)`` is unique, and unlike the
    id it is known to the server for the bans it set itself."""
    return f"{kind}:{mask}"


@dataclass(frozen=True, slots=True)
class Touched:
    """The rows a commit changed, by key: what a notification to other processes carries."""

    accounts: frozenset[str] = frozenset()
    bans: frozenset[str] = frozenset()  # ``ban_key(kind, mask)``
    mutes: frozenset[str] = frozenset()
    channels: frozenset[str] = frozenset()

    def __or__(self, other: Touched) -> Touched:
        return Touched(
            self.accounts | other.accounts,
            self.bans | other.bans,
            self.mutes | other.mutes,
            self.channels | other.channels,
        )

    def __bool__(self) -> bool:
        return bool(self.accounts or self.bans or self.mutes or self.channels)


def touched_by(changes: Sequence[Change]) -> Touched:
    """The keys ``changes`` touch, except bans named by id (the backend adds those)."""
    accounts: set[str] = set()
    bans: set[str] = set()
    mutes: set[str] = set()
    channels: set[str] = set()
    for change in changes:
        match change:
            case PutAccount(a) | CreateAccount(a):
                accounts.add(a.key)
            case (
                SetAccountOperRole(key, _)
                | SetAccountPassword(key, _, _)
                | SetAccountCertfps(key, _)
                | DeleteAccount(key)
            ):
                accounts.add(key)
            case PutBan(b):
                bans.add(ban_key(b.kind, b.mask))
            case DeleteBanTarget(kind, mask):
                bans.add(ban_key(kind, mask))
            case PutMute(m):
                mutes.add(m.account_key)
            case DeleteMute(key):
                mutes.add(key)
            case PutChannel(c) | RegisterChannel(c) | UpdateChannel(c):
                channels.add(c.key)
            case SetChannelFounder(key, _) | DeleteChannel(key):
                channels.add(key)
            case RenameChannel(key, new_key, _):
                channels.update((key, new_key))
            case (
                PutMetadata(account_key, _, _)
                | DeleteMetadata(account_key, _)
                | PutAccountOption(account_key, _, _)
            ):
                accounts.add(account_key)  # an account's metadata and options travel with it
            case PutReadMarker() | DeleteReadMarkers() | PutPresence() | DeletePresence():
                pass  # written only by the server that keeps them in memory
    return Touched(frozenset(accounts), frozenset(bans), frozenset(mutes), frozenset(channels))


@dataclass(frozen=True, slots=True)
class StoreDelta:
    """The rows ``Touched`` named, as stored now; None where the row no longer exists.
    ``metadata`` and ``options`` hold those of every account named (empty: none, or no
    account)."""

    accounts: dict[str, Account | None] = field(default_factory=dict)
    metadata: dict[str, dict[str, str]] = field(default_factory=dict)
    options: dict[str, dict[str, str]] = field(default_factory=dict)
    bans: dict[str, ServerBan | None] = field(default_factory=dict)
    mutes: dict[str, AccountMute | None] = field(default_factory=dict)
    channels: dict[str, RegisteredChannel | None] = field(default_factory=dict)


class Store(Protocol):
    """Durable state behind one interface, so backends are interchangeable."""

    def load(self) -> Snapshot:
        """Read everything (and, in SQLite, mark the point ``watch`` compares with)."""
        ...

    def apply(self, changes: Sequence[Change]) -> list[int]:
        """Commit ``changes`` as one transaction, all or nothing.

        Returns the id of the ban each ``PutBan`` wrote, in order, so a caller that let the
        store choose (the admin CLI) learns it. A ``CreateAccount`` or ``RegisterChannel``
        whose key is taken raises ``AlreadyExistsError`` (and nothing is written).
        """
        ...

    def watch(self) -> AsyncIterator[Touched | None]:
        """Yield once per outside commit (another process) while the server runs: the keys
        it changed, or None when only "something changed" is known (then reload all)."""
        ...

    def read_touched(self, touched: Touched) -> StoreDelta:
        """The current rows of the keys in ``touched`` (for a change applied by key)."""
        ...

    def audit(self, since: float | None = None) -> list[AuditEntry]:
        """Audit entries with ``at >= since`` (all when None), oldest first."""
        ...

    def close(self) -> None:
        """Release resources; the store must not be used afterwards."""
        ...
