"""Account administration from the shell (``chatroom admin ...``).

Each function is one transaction: the change and its audit entry commit together, so the
log never claims an action that did not happen, nor misses one that did. A running
server learns of the write from ``Store.watch`` (PostgreSQL: a notification naming the
keys; SQLite: the file's data version) and applies it. Each write changes only what the
command is about (``SetAccountPassword``, ``SetAccountOperRole``), so it cannot undo a
change the server made to the same account a moment before.
"""

from __future__ import annotations

import calendar
import dataclasses
import re
import time
from collections.abc import Callable

from chatroom.irc.casemap import CaseMapping, casefolder
from chatroom.irc.masks import normalize_mask
from chatroom.server.auth.passwords import PasswordHasher, make_scram_verifier
from chatroom.server.core.bans import classify_target, is_active, parse_duration, until_text
from chatroom.server.core.settings import DEFAULT_OPER_ROLE, valid_role_name
from chatroom.server.store.base import (
    Account,
    AccountMute,
    AlreadyExistsError,
    AppendAudit,
    AuditEntry,
    BanKind,
    Change,
    CreateAccount,
    DeleteAccount,
    DeleteBanTarget,
    DeleteMute,
    PutBan,
    PutMute,
    ServerBan,
    SetAccountOperRole,
    SetAccountPassword,
    Store,
)

__all__ = [
    "ACTOR",
    "MAX_NICK_LENGTH",
    "add_ban",
    "audit_log",
    "create_account",
    "delete_account",
    "list_accounts",
    "list_bans",
    "mute_account",
    "parse_since",
    "remove_ban",
    "set_oper",
    "set_password",
    "unmute_account",
    "validate_nick",
]

ACTOR = "admin-cli"
MAX_NICK_LENGTH = 30
_NICK = re.compile(r"[A-Za-z\[\]\\`_^{|}][A-Za-z0-9\[\]\\`_^{|}-]*")

Fold = Callable[[str], str]
_RFC1459: Fold = casefolder(CaseMapping.RFC1459)


def validate_nick(name: str) -> None:
    """Raise ValueError unless ``name`` can be used as a nickname (and so an account)."""
    if not name:
        raise ValueError("account name must not be empty")
    if len(name) > MAX_NICK_LENGTH:
        raise ValueError(f"account name {name!r} is longer than {MAX_NICK_LENGTH} characters")
    if not _NICK.fullmatch(name):
        raise ValueError(
            f"account name {name!r} is not a valid nickname: use letters, digits and"
            " []\\`_^{|}-, not starting with a digit or '-'"
        )


def create_account(
    store: Store,
    hasher: PasswordHasher,
    name: str,
    password: str,
    oper: bool = False,
    fold: Fold = _RFC1459,
    *,
    email: str | None = None,
    role: str | None = None,
    clock: Callable[[], float] = time.time,
) -> Account:
    """Register ``name``; ValueError if the name is invalid, taken, or the password empty.

    ``oper`` gives the account the default operator role; ``role`` names another one (and
    implies ``oper``). Whether the config defines the role is the caller's check: the
    store accepts any well-formed name, so a role may be handed out before it is defined.
    """
    validate_nick(name)
    _check_password(password)
    oper_role = _role(role) if role is not None else (DEFAULT_OPER_ROLE if oper else None)
    key = fold(name)
    existing = store.load().accounts.get(key)
    if existing is not None:
        raise ValueError(f"account {existing.name!r} already exists")
    now = clock()
    account = Account(
        name=name,
        key=key,
        password_hash=hasher.hash(password),
        scram=make_scram_verifier(password),
        email=email,
        created_at=now,
        oper_role=oper_role,
    )
    action = "account.create.oper" if oper_role is not None else "account.create"
    try:
        commit_with_audit(store, CreateAccount(account), now, action, name, oper_role or "")
    except AlreadyExistsError:
        # Taken since we looked (a REGISTER on the running server): the insert refused it.
        raise ValueError(f"account {name!r} already exists") from None
    return account


def set_password(
    store: Store,
    hasher: PasswordHasher,
    name: str,
    password: str,
    fold: Fold = _RFC1459,
    *,
    clock: Callable[[], float] = time.time,
) -> Account:
    """Replace the password (argon2id hash and SCRAM verifier together)."""
    _check_password(password)
    account = _existing(store, name, fold)
    updated = dataclasses.replace(
        account, password_hash=hasher.hash(password), scram=make_scram_verifier(password)
    )
    change = SetAccountPassword(account.key, updated.password_hash, updated.scram)
    commit_with_audit(store, change, clock(), "account.password", account.name)
    return updated


def list_accounts(store: Store) -> list[Account]:
    """All accounts, ordered by their folded name."""
    accounts = store.load().accounts
    return [accounts[key] for key in sorted(accounts)]


def delete_account(
    store: Store,
    name: str,
    fold: Fold = _RFC1459,
    *,
    clock: Callable[[], float] = time.time,
) -> Account:
    """Remove the account (its fingerprints go with it); returns what was deleted.

    Refused while it founds registered rooms: a founder is kept by name, so whoever
    registered the name next would own them. The operator transfers or drops them first.
    """
    account = _existing(store, name, fold)
    founded = sorted(
        room.name
        for room in store.load().channels.values()
        if room.founder is not None and fold(room.founder) == account.key
    )
    if founded:
        raise ValueError(
            f"{account.name} founds {', '.join(founded)}: give each to another account"
            " (chatroom admin room-founder ROOM ACCOUNT) or drop it (chatroom admin"
            " room-drop ROOM) first, or whoever registers the name next would own it"
        )
    commit_with_audit(store, DeleteAccount(account.key), clock(), "account.delete", account.name)
    return account


def set_oper(
    store: Store,
    name: str,
    oper: bool,
    fold: Fold = _RFC1459,
    *,
    role: str | None = None,
    clock: Callable[[], float] = time.time,
) -> Account:
    """Grant (with ``role``, else the default role) or revoke server operator rights.

    Granting to an operator changes its role; the audit entry's reason is the role given.
    """
    if not oper and role is not None:
        raise ValueError("a role is given only when granting operator rights")
    account = _existing(store, name, fold)
    oper_role = (_role(role) if role is not None else DEFAULT_OPER_ROLE) if oper else None
    updated = dataclasses.replace(account, oper_role=oper_role)
    action = "account.oper.grant" if oper else "account.oper.revoke"
    change = SetAccountOperRole(account.key, oper_role)
    commit_with_audit(store, change, clock(), action, account.name, oper_role or "")
    return updated


def _role(role: str) -> str:
    if not valid_role_name(role):
        raise ValueError(
            f"role {role!r} is not a valid role name: lowercase letters, digits, '-' and '_',"
            " starting with a letter"
        )
    return role


def _check_password(password: str) -> None:
    if not password:
        raise ValueError("password must not be empty")


def _existing(store: Store, name: str, fold: Fold) -> Account:
    account = store.load().accounts.get(fold(name))
    if account is None:
        raise ValueError(f"no account named {name!r}")
    return account


def commit_with_audit(
    store: Store, change: Change, now: float, action: str, target: str, reason: str = ""
) -> list[int]:
    """Apply ``change`` and its audit entry in one transaction (every admin action does)."""
    entry = AuditEntry(id=None, at=now, actor=ACTOR, action=action, target=target, reason=reason)
    return store.apply([change, AppendAudit(entry)])


# ----------------------------------------------------------------------------- moderation


def _duration(text: str | None) -> float | None:
    if text is None:
        return None
    seconds = parse_duration(text)
    if seconds is None:
        raise ValueError(f"{text!r} is not a duration; use e.g. 90, 10m, 2h, 1d, 1w")
    return seconds


def ban_target(store: Store, text: str, fold: Fold = _RFC1459) -> tuple[BanKind, str]:
    """The ``(kind, mask)`` a target means here, where nobody is online to look up.

    As over IRC (``BAN``), except that a bare word is the account of that name if it
    exists, else the nick mask ``word!*@*``.
    """
    classified = classify_target(text)
    if classified is not None:
        kind, mask = classified
    elif fold(text) in store.load().accounts:
        kind, mask = "account", text
    else:
        kind, mask = "nick", normalize_mask(text)
    return kind, fold(mask) if kind in ("account", "nick") else mask


def add_ban(
    store: Store,
    target: str,
    reason: str = "",
    duration: str | None = None,
    fold: Fold = _RFC1459,
    *,
    clock: Callable[[], float] = time.time,
) -> ServerBan:
    """Ban server-wide; a running server disconnects matching users when it reloads."""
    kind, mask = ban_target(store, target, fold)
    seconds = _duration(duration)
    now = clock()
    expires = now + seconds if seconds is not None else None
    ban = ServerBan(None, kind, mask, reason, ACTOR, now, expires)
    when = until_text(expires, now)
    [ban_id] = commit_with_audit(
        store,
        PutBan(ban),
        now,
        "ban.add",
        f"{kind}:{mask}",
        f"{reason} ({when})" if reason else when,
    )
    return dataclasses.replace(ban, id=ban_id)


def remove_ban(
    store: Store, target: str, fold: Fold = _RFC1459, *, clock: Callable[[], float] = time.time
) -> ServerBan:
    """Lift the ban on ``target`` (as ``bans`` shows it, e.g. ``account:bob``)."""
    bans = store.load().bans
    wanted = {ban_target(store, target, fold)}
    if classify_target(target) is None:  # a bare word: an account or a nick ban
        wanted |= {("account", fold(target)), ("nick", fold(normalize_mask(target)))}
    if target.isdigit():
        found = next((b for b in bans if b.id == int(target)), None)
    else:
        found = next((b for b in bans if (b.kind, fold(b.mask)) in wanted), None)
    if found is None:
        raise ValueError(f"no server ban on {target!r}; see 'chatroom admin bans'")
    change = DeleteBanTarget(found.kind, found.mask)
    commit_with_audit(
        store, change, clock(), "ban.remove", f"{found.kind}:{found.mask}", found.reason
    )
    return found


def list_bans(store: Store, now: float | None = None) -> list[ServerBan]:
    """The bans still in force, oldest first (expired ones are dropped by the server)."""
    at = time.time() if now is None else now
    return [b for b in store.load().bans if is_active(b, at)]


def mute_account(
    store: Store,
    name: str,
    reason: str = "",
    duration: str | None = None,
    fold: Fold = _RFC1459,
    *,
    clock: Callable[[], float] = time.time,
) -> AccountMute:
    """Mute an account server-wide: it can read, its messages are refused with a reason."""
    account = _existing(store, name, fold)
    seconds = _duration(duration)
    now = clock()
    expires = now + seconds if seconds is not None else None
    mute = AccountMute(account.key, account.name, reason, ACTOR, now, expires)
    when = until_text(expires, now)
    detail = f"{reason} ({when})" if reason else when  # as for a ban
    commit_with_audit(store, PutMute(mute), now, "mute.add", account.name, detail)
    return mute


def list_mutes(store: Store, now: float | None = None) -> list[AccountMute]:
    """The mutes still in force, by account name (an expired one no longer silences)."""
    at = time.time() if now is None else now
    live = [m for m in store.load().mutes.values() if is_active(m, at)]
    return sorted(live, key=lambda m: m.account_key)


def unmute_account(
    store: Store, name: str, fold: Fold = _RFC1459, *, clock: Callable[[], float] = time.time
) -> AccountMute:
    mute = store.load().mutes.get(fold(name))
    if mute is None:
        raise ValueError(f"{name!r} is not muted")
    commit_with_audit(
        store, DeleteMute(mute.account_key), clock(), "mute.remove", mute.account_name
    )
    return mute


def parse_since(text: str, now: float, option: str = "--since") -> float:
    """``--since``: a duration back from now (``2h``) or a UTC date (``2030-01-31``,
    ``2030-01-31T10:00``)."""
    seconds = parse_duration(text)
    if seconds is not None:
        return now - seconds
    for layout in ("%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d"):
        try:
            return float(calendar.timegm(time.strptime(text, layout)))
        except ValueError:
            continue
    raise ValueError(f"{option} {text!r}: use a duration (2h, 7d) or a UTC date (2030-01-31)")


def audit_log(store: Store, since: float | None = None) -> list[AuditEntry]:
    return store.audit(since)
