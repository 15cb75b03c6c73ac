"""Account administration from the shell (``chatroom admin ...``).

Each function is one transaction: the change and its audit entry commit together, so the
log never claims an action that did not happen, nor misses one that did. The running
server notices the write through ``Store.changed_since_load`` and reloads.
"""

from __future__ import annotations

import dataclasses
import re
import time
from collections.abc import Callable

from chatroom.irc.casemap import CaseMapping, casefolder
from chatroom.server.auth.passwords import PasswordHasher, make_scram_verifier
from chatroom.server.store.base import (
    Account,
    AppendAudit,
    AuditEntry,
    Change,
    DeleteAccount,
    PutAccount,
    Store,
)

__all__ = [
    "ACTOR",
    "MAX_NICK_LENGTH",
    "create_account",
    "delete_account",
    "list_accounts",
    "set_oper",
    "set_password",
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
    clock: Callable[[], float] = time.time,
) -> Account:
    """Register ``name``; ValueError if the name is invalid, taken, or the password empty."""
    validate_nick(name)
    _check_password(password)
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
        oper=oper,
    )
    action = "account.create.oper" if oper else "account.create"
    _commit(store, PutAccount(account), now, action, name)
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
    _commit(store, PutAccount(updated), clock(), "account.password", account.name)
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
    """Remove the account (its fingerprints go with it); returns what was deleted."""
    account = _existing(store, name, fold)
    _commit(store, DeleteAccount(account.key), clock(), "account.delete", account.name)
    return account


def set_oper(
    store: Store,
    name: str,
    oper: bool,
    fold: Fold = _RFC1459,
    *,
    clock: Callable[[], float] = time.time,
) -> Account:
    """Grant or revoke server operator rights."""
    account = _existing(store, name, fold)
    updated = dataclasses.replace(account, oper=oper)
    action = "account.oper.grant" if oper else "account.oper.revoke"
    _commit(store, PutAccount(updated), clock(), action, account.name)
    return updated


def _check_password(password: str) -> None:
    if not password:
        raise ValueError("password must not be empty")


def _existing(store: Store, name: str, fold: Fold) -> Account:
    account = store.load().accounts.get(fold(name))
    if account is None:
        raise ValueError(f"no account named {name!r}")
    return account


def _commit(store: Store, change: Change, now: float, action: str, target: str) -> None:
    entry = AuditEntry(id=None, at=now, actor=ACTOR, action=action, target=target, reason="")
    store.apply([change, AppendAudit(entry)])
