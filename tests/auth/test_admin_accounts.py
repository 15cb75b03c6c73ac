"""``chatroom admin`` account functions, against the real SQLite store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from chatroom import admin
from chatroom.irc.casemap import CaseMapping, casefolder
from chatroom.server.auth.passwords import (
    PasswordHasher,
    fast_params_for_tests,
    parse_scram_verifier,
)
from chatroom.server.store.sqlite import SqliteStore, default_db_path

HASHER = PasswordHasher(fast_params_for_tests())
FOLD = casefolder(CaseMapping.RFC1459)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqliteStore]:
    backend = SqliteStore(default_db_path(tmp_path))
    yield backend
    backend.close()


def clock() -> float:
    return 1234.5


def test_created_account_can_log_in_with_its_password(store: SqliteStore) -> None:
    account = admin.create_account(store, HASHER, "Alice", "s3cret", False, FOLD, clock=clock)
    stored = store.load().accounts["alice"]
    assert stored == account
    assert (stored.name, stored.created_at, stored.oper) == ("Alice", 1234.5, False)
    assert HASHER.verify(stored.password_hash, "s3cret")
    assert stored.scram is not None
    assert parse_scram_verifier(stored.scram).iterations == 4096


def test_create_writes_an_audit_entry(store: SqliteStore) -> None:
    admin.create_account(store, HASHER, "Root", "pw", True, FOLD, clock=clock)
    [entry] = store.audit()
    assert (entry.actor, entry.action, entry.target, entry.at) == (
        "admin-cli",
        "account.create.oper",
        "Root",
        1234.5,
    )
    assert store.load().accounts["root"].oper


def test_names_equal_under_rfc1459_are_the_same_account(store: SqliteStore) -> None:
    admin.create_account(store, HASHER, "Fo[o]", "pw", fold=FOLD)
    with pytest.raises(ValueError, match="already exists"):
        admin.create_account(store, HASHER, "fo{O}", "pw", fold=FOLD)


@pytest.mark.parametrize(
    "name", ["", "1abc", "-abc", "has space", "a" * 31, "caf\u00e9", "a,b", "#chan"]
)
def test_invalid_nickname_cannot_be_an_account(store: SqliteStore, name: str) -> None:
    with pytest.raises(ValueError, match="account name"):
        admin.create_account(store, HASHER, name, "pw", fold=FOLD)
    assert store.load().accounts == {}


@pytest.mark.parametrize("name", ["a", "[bot]", "x" * 30, "`_^{|}-9", "Zed\\"])
def test_valid_nicknames_are_accepted(name: str) -> None:
    admin.validate_nick(name)


def test_empty_password_is_refused(store: SqliteStore) -> None:
    with pytest.raises(ValueError, match="password"):
        admin.create_account(store, HASHER, "alice", "", fold=FOLD)


def test_set_password_replaces_hash_and_scram(store: SqliteStore) -> None:
    before = admin.create_account(store, HASHER, "alice", "old", fold=FOLD)
    after = admin.set_password(store, HASHER, "ALICE", "new", FOLD)
    stored = store.load().accounts["alice"]
    assert stored == after
    assert HASHER.verify(stored.password_hash, "new")
    assert not HASHER.verify(stored.password_hash, "old")
    assert stored.scram != before.scram
    assert store.audit()[-1].action == "account.password"


def test_set_password_of_missing_account_is_an_error(store: SqliteStore) -> None:
    with pytest.raises(ValueError, match="no account named 'ghost'"):
        admin.set_password(store, HASHER, "ghost", "pw", FOLD)


def test_list_accounts_is_sorted_by_folded_name(store: SqliteStore) -> None:
    for name in ("carol", "Alice", "bob"):
        admin.create_account(store, HASHER, name, "pw", fold=FOLD)
    assert [a.name for a in admin.list_accounts(store)] == ["Alice", "bob", "carol"]


def test_deleted_account_is_gone_after_reopen(tmp_path: Path) -> None:
    path = default_db_path(tmp_path)
    store = SqliteStore(path)
    admin.create_account(store, HASHER, "alice", "pw", fold=FOLD)
    admin.delete_account(store, "Alice", FOLD)
    store.close()
    reopened = SqliteStore(path)
    assert reopened.load().accounts == {}
    assert [e.action for e in reopened.audit()] == ["account.create", "account.delete"]
    reopened.close()


def test_deleting_a_missing_account_is_an_error(store: SqliteStore) -> None:
    with pytest.raises(ValueError, match="no account"):
        admin.delete_account(store, "ghost", FOLD)


def test_set_oper_grants_and_revokes(store: SqliteStore) -> None:
    admin.create_account(store, HASHER, "alice", "pw", fold=FOLD)
    assert admin.set_oper(store, "alice", True, FOLD).oper
    assert store.load().accounts["alice"].oper
    assert not admin.set_oper(store, "alice", False, FOLD).oper
    assert [e.action for e in store.audit()][-2:] == [
        "account.oper.grant",
        "account.oper.revoke",
    ]


def test_oper_without_a_role_is_the_default_role_and_a_role_can_be_named(
    store: SqliteStore,
) -> None:
    admin.create_account(store, HASHER, "alice", "pw", fold=FOLD)
    assert admin.set_oper(store, "alice", True, FOLD).oper_role == "oper"
    assert admin.set_oper(store, "alice", True, FOLD, role="moderator").oper_role == "moderator"
    assert store.load().accounts["alice"].oper_role == "moderator"
    assert [(e.action, e.reason) for e in store.audit()][-2:] == [
        ("account.oper.grant", "oper"),
        ("account.oper.grant", "moderator"),
    ]
    assert admin.set_oper(store, "alice", False, FOLD).oper_role is None


def test_create_with_a_role_makes_an_operator_of_that_role(store: SqliteStore) -> None:
    account = admin.create_account(store, HASHER, "Mod", "pw", fold=FOLD, role="moderator")
    assert store.load().accounts["mod"].oper_role == account.oper_role == "moderator"
    assert store.audit()[-1].action == "account.create.oper"


def test_a_malformed_role_or_a_role_with_revoke_is_refused(store: SqliteStore) -> None:
    admin.create_account(store, HASHER, "alice", "pw", fold=FOLD)
    with pytest.raises(ValueError, match="not a valid role name"):
        admin.set_oper(store, "alice", True, FOLD, role="Big Boss")
    with pytest.raises(ValueError, match="only when granting"):
        admin.set_oper(store, "alice", False, FOLD, role="moderator")
    with pytest.raises(ValueError, match="not a valid role name"):
        admin.create_account(store, HASHER, "bob", "pw", fold=FOLD, role="")
    assert store.load().accounts["alice"].oper_role is None
