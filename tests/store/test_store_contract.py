"""The behaviour every ``Store`` backend promises; run against memory, SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses

import pytest

from chatroom.server.store import base
from chatroom.server.store.base import (
    Account,
    AccountMute,
    AlreadyExistsError,
    AppendAudit,
    AuditEntry,
    ChannelListEntry,
    ConflictError,
    CreateAccount,
    DeleteAccount,
    DeleteBan,
    DeleteBanTarget,
    DeleteChannel,
    DeleteMute,
    PutAccount,
    PutBan,
    PutChannel,
    PutMute,
    RegisterChannel,
    RegisteredChannel,
    ServerBan,
    SetAccountCertfps,
    SetAccountOperRole,
    SetAccountPassword,
    SetChannelFounder,
    Store,
    StoreDelta,
    Touched,
    UpdateChannel,
    ban_key,
)


def account(name: str, **overrides: object) -> Account:
    base = Account(
        name=name,
        key=name.lower(),
        password_hash="$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaA",
        scram=None,
        email=None,
        created_at=1000.0,
    )
    return dataclasses.replace(base, **overrides)  # type: ignore[arg-type]


def ban(mask: str, ban_id: int | None = None, reason: str = "spam") -> ServerBan:
    return ServerBan(
        id=ban_id,
        kind="address",
        mask=mask,
        reason=reason,
        set_by="oper",
        set_at=1000.0,
        expires_at=None,
    )


def audit_entry(at: float, action: str = "kill") -> AuditEntry:
    return AuditEntry(id=None, at=at, actor="oper", action=action, target="bob", reason="r")


def test_new_store_is_empty(store: Store) -> None:
    snapshot = store.load()
    assert snapshot.accounts == {}
    assert snapshot.bans == []
    assert store.audit() == []


def test_put_account_is_loaded_back_unchanged(store: Store) -> None:
    alice = account(
        "Alice",
        scram="SCRAM-SHA-256$4096:c2FsdA==$a2V5:a2V5",
        email="a@x.org",
        oper_role="moderator",
        certfps=("ab" * 32, "cd" * 32),
    )
    store.apply([PutAccount(alice)])
    assert store.load().accounts == {"alice": alice}


def test_put_account_with_same_key_replaces_it(store: Store) -> None:
    store.apply([PutAccount(account("Alice", certfps=("ab" * 32,)))])
    replaced = account("ALICE", oper_role="oper", certfps=("cd" * 32,))
    store.apply([PutAccount(replaced)])
    assert store.load().accounts == {"alice": replaced}


def test_oper_role_is_kept_and_none_means_not_an_operator(store: Store) -> None:
    store.apply([PutAccount(account("Alice")), PutAccount(account("Mod", oper_role="mod"))])
    accounts = store.load().accounts
    assert (accounts["alice"].oper_role, accounts["alice"].oper) == (None, False)
    assert (accounts["mod"].oper_role, accounts["mod"].oper) == ("mod", True)
    store.apply([PutAccount(account("Mod", oper_role=None))])
    assert store.load().accounts["mod"].oper_role is None


def test_the_servers_account_writes_change_only_their_own_fields(store: Store) -> None:
    """A grant, an email or a name set from the shell survives the server's later
    password or certificate write for the same account."""
    granted = account("Alice", email="a@x.org", oper_role="oper", certfps=("ab" * 32,))
    store.apply([PutAccount(granted)])
    store.apply([SetAccountPassword("alice", "new-hash", "new-scram")])
    store.apply([SetAccountCertfps("alice", ("cd" * 32, "ef" * 32))])
    assert store.load().accounts["alice"] == dataclasses.replace(
        granted, password_hash="new-hash", scram="new-scram", certfps=("cd" * 32, "ef" * 32)
    )


def test_the_servers_account_writes_never_bring_a_deleted_account_back(store: Store) -> None:
    store.apply([PutAccount(account("Alice"))])
    store.apply([DeleteAccount("alice")])
    store.apply([SetAccountPassword("alice", "late", None), SetAccountCertfps("alice", ())])
    assert store.load().accounts == {}


def test_a_fingerprint_set_on_its_own_still_belongs_to_one_account(store: Store) -> None:
    store.apply([PutAccount(account("Alice", certfps=("ab" * 32,))), PutAccount(account("Bob"))])
    with pytest.raises(ConflictError):
        store.apply([SetAccountCertfps("bob", ("ab" * 32,))])
    assert store.load().accounts["bob"].certfps == ()


def test_deleted_account_is_gone(store: Store) -> None:
    store.apply([PutAccount(account("Alice")), PutAccount(account("Bob"))])
    store.apply([DeleteAccount("alice")])
    assert set(store.load().accounts) == {"bob"}


def test_deleting_a_missing_account_is_harmless(store: Store) -> None:
    store.apply([DeleteAccount("nobody")])
    assert store.load().accounts == {}


def test_a_fingerprint_cannot_belong_to_two_accounts(store: Store) -> None:
    store.apply([PutAccount(account("Alice", certfps=("ab" * 32,)))])
    with pytest.raises(ConflictError):
        store.apply([PutAccount(account("Bob", certfps=("ab" * 32,)))])
    assert set(store.load().accounts) == {"alice"}


def test_a_failed_transaction_changes_nothing(store: Store) -> None:
    store.apply([PutAccount(account("Alice", certfps=("ab" * 32,)))])
    before = store.load()
    with pytest.raises(ConflictError):
        store.apply(
            [
                PutAccount(account("Carol")),
                PutBan(ban("10.0.0.1")),
                AppendAudit(audit_entry(1.0)),
                PutAccount(account("Bob", certfps=("ab" * 32,))),
            ]
        )
    after = store.load()
    assert (after.accounts, after.bans, after.version) == (
        before.accounts,
        before.bans,
        before.version,
    )
    assert store.audit() == []


def test_every_commit_advances_the_version(store: Store) -> None:
    first = store.load().version
    store.apply([PutAccount(account("Alice"))])
    store.apply([DeleteAccount("alice")])
    assert store.load().version == first + 2


def test_new_bans_get_distinct_ids_in_order(store: Store) -> None:
    ids = store.apply([PutBan(ban("10.0.0.1")), PutBan(ban("10.0.0.2"))])
    assert len(set(ids)) == 2
    assert [b.id for b in store.load().bans] == ids
    assert [b.mask for b in store.load().bans] == ["10.0.0.1", "10.0.0.2"]


def test_banning_the_same_mask_again_updates_the_ban(store: Store) -> None:
    [first] = store.apply([PutBan(ban("10.0.0.1", reason="spam"))])
    [second] = store.apply([PutBan(ban("10.0.0.1", reason="flood"))])
    assert first == second
    assert [(b.id, b.reason) for b in store.load().bans] == [(first, "flood")]


def test_put_ban_with_id_replaces_that_ban(store: Store) -> None:
    [ban_id] = store.apply([PutBan(ban("10.0.0.1"))])
    updated = dataclasses.replace(ban("10.0.0.9", ban_id=ban_id), expires_at=5000.0)
    store.apply([PutBan(updated)])
    assert store.load().bans == [updated]


def test_moving_a_ban_onto_another_bans_mask_is_a_conflict(store: Store) -> None:
    _first, second = store.apply([PutBan(ban("10.0.0.1")), PutBan(ban("10.0.0.2"))])
    with pytest.raises(ConflictError):
        store.apply([PutBan(ban("10.0.0.1", ban_id=second))])
    assert [b.mask for b in store.load().bans] == ["10.0.0.1", "10.0.0.2"]


def test_deleted_ban_ids_are_not_reused(store: Store) -> None:
    [first] = store.apply([PutBan(ban("10.0.0.1"))])
    store.apply([DeleteBan(first)])
    [second] = store.apply([PutBan(ban("10.0.0.2"))])
    assert second != first
    assert [b.id for b in store.load().bans] == [second]


def test_audit_is_append_only_and_numbered_in_order(store: Store) -> None:
    store.apply([AppendAudit(audit_entry(1.0, "kill")), AppendAudit(audit_entry(2.0, "ban"))])
    store.apply([AppendAudit(audit_entry(3.0, "unban"))])
    entries = store.audit()
    assert [e.action for e in entries] == ["kill", "ban", "unban"]
    ids = [e.id or 0 for e in entries]
    assert 0 not in ids
    assert ids == sorted(ids)
    assert len(set(ids)) == 3


def test_room_moderation_entries_beyond_the_newest_n_go_and_others_stay(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(base, "USER_AUDIT_ENTRIES", 3)
    store.apply([AppendAudit(audit_entry(1.0, "ban.add"))])
    store.apply([AppendAudit(audit_entry(float(t), "channel.kick")) for t in range(2, 8)])
    entries = store.audit()
    assert [(e.at, e.action) for e in entries] == [
        (1.0, "ban.add"),
        (5.0, "channel.kick"),
        (6.0, "channel.kick"),
        (7.0, "channel.kick"),
    ]
    store.apply([AppendAudit(audit_entry(8.0, "channel.kick"))])
    assert [e.at for e in store.audit()] == [1.0, 6.0, 7.0, 8.0]


def test_room_entries_are_looked_for_only_among_the_last_ids_to_leave_the_newest_n(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """So a room entry costs the same however many entries are kept for good; one that
    more than ``USER_AUDIT_STEP`` entries of other kinds pushed out stays."""
    monkeypatch.setattr(base, "USER_AUDIT_ENTRIES", 2)
    monkeypatch.setattr(base, "USER_AUDIT_STEP", 2)
    store.apply([AppendAudit(audit_entry(1.0, "channel.kick"))])
    store.apply([AppendAudit(audit_entry(float(t), "ban.add")) for t in range(2, 7)])
    store.apply([AppendAudit(audit_entry(float(t), "channel.kick")) for t in range(7, 12)])
    kicks = [e.at for e in store.audit() if e.action == "channel.kick"]
    assert kicks == [1.0, 10.0, 11.0]


def test_own_certificate_changes_are_bounded_and_an_operators_are_kept(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(base, "USER_AUDIT_ENTRIES", 2)
    by_oper = AuditEntry(None, 1.0, "oper", "account.cert.add", "bob ab12", "")
    store.apply([AppendAudit(by_oper)])
    for t in range(2, 6):
        store.apply(
            [AppendAudit(AuditEntry(None, float(t), "bob", "account.cert.del", "bob ab12", ""))]
        )
    assert [(e.at, e.actor) for e in store.audit()] == [(1.0, "oper"), (4.0, "bob"), (5.0, "bob")]


def test_own_password_changes_are_bounded_and_an_admins_are_kept(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(base, "USER_AUDIT_ENTRIES", 2)
    store.apply([AppendAudit(AuditEntry(None, 1.0, "admin", "account.password", "bob", ""))])
    for t in range(2, 6):
        store.apply([AppendAudit(AuditEntry(None, float(t), "bob", "account.password", "bob", ""))])
    assert [(e.at, e.actor) for e in store.audit()] == [(1.0, "admin"), (4.0, "bob"), (5.0, "bob")]


def test_audit_since_returns_entries_at_or_after_the_time(store: Store) -> None:
    store.apply([AppendAudit(audit_entry(float(t))) for t in (1, 2, 3)])
    assert [e.at for e in store.audit(since=2.0)] == [2.0, 3.0]


def test_an_empty_transaction_is_allowed(store: Store) -> None:
    assert store.apply([]) == []


def test_loaded_snapshot_is_not_affected_by_later_changes(store: Store) -> None:
    snapshot = store.load()
    store.apply([PutAccount(account("Alice"))])
    assert snapshot.accounts == {}


# ----------------------------------------------------------------------------- moderation records


def mute(key: str, expires_at: float | None = None) -> AccountMute:
    return AccountMute(key, key.title(), "noise", "oper", 1000.0, expires_at)


def room(name: str, **overrides: object) -> RegisteredChannel:
    base = RegisteredChannel(key=name.lower(), name=name, founder="alice", registered_at=1000.0)
    return dataclasses.replace(base, **overrides)  # type: ignore[arg-type]


def test_deleting_a_ban_by_kind_and_mask_removes_only_that_ban(store: Store) -> None:
    store.apply([PutBan(ban("10.0.0.1")), PutBan(ban("10.0.0.2"))])
    store.apply([DeleteBanTarget("address", "10.0.0.1"), DeleteBanTarget("nick", "10.0.0.2")])
    assert [b.mask for b in store.load().bans] == ["10.0.0.2"]


def test_mute_is_loaded_back_replaced_and_deleted(store: Store) -> None:
    store.apply([PutMute(mute("carol"))])
    assert store.load().mutes == {"carol": mute("carol")}
    store.apply([PutMute(mute("carol", expires_at=5000.0))])
    assert store.load().mutes["carol"].expires_at == 5000.0
    store.apply([DeleteMute("carol"), DeleteMute("nobody")])
    assert store.load().mutes == {}


def test_registered_room_is_loaded_back_whole_with_lists_in_order(store: Store) -> None:
    lobby = room(
        "#Lobby",
        topic="hi",
        topic_set_by="alice!a@h",
        topic_set_at=1001.0,
        modes="imnt",
        channel_key="sekrit",
        limit=25,
        ops=("bob", "carol"),
        lists=(
            ChannelListEntry("b", "z!*@*", "alice", 1002.0, 9000.0),
            ChannelListEntry("q", "m!*@*", "alice", 1003.0),
            ChannelListEntry("b", "a!*@*", "alice", 1004.0),
        ),
    )
    store.apply([PutChannel(lobby)])
    assert store.load().channels == {"#lobby": lobby}


def test_putting_a_room_again_replaces_its_ops_and_lists(store: Store) -> None:
    entry = ChannelListEntry("b", "x!*@*", "alice", 1002.0)
    store.apply([PutChannel(room("#r", ops=("bob",), lists=(entry,)))])
    store.apply([PutChannel(room("#r", founder="dave"))])
    assert store.load().channels["#r"] == room("#r", founder="dave")


def test_dropped_room_is_gone_with_its_lists(store: Store) -> None:
    entry = ChannelListEntry("e", "x!*@*", "alice", 1002.0)
    store.apply([PutChannel(room("#r", ops=("bob",), lists=(entry,)))])
    store.apply([DeleteChannel("#r"), DeleteChannel("#missing")])
    assert store.load().channels == {}
    store.apply([PutChannel(room("#r"))])
    assert store.load().channels["#r"].lists == ()


def test_updating_a_room_keeps_its_stored_founder_and_registration_time(store: Store) -> None:
    """The server saves rooms with UpdateChannel; a founder set from the shell survives it."""
    store.apply([PutChannel(room("#r"))])
    store.apply([SetChannelFounder("#r", "carol")])
    entry = ChannelListEntry("b", "x!*@*", "alice", 1002.0)
    saved = room("#r", topic="new", ops=("bob",), lists=(entry,), registered_at=5.0)
    store.apply([UpdateChannel(saved)])
    assert store.load().channels["#r"] == dataclasses.replace(
        saved, founder="carol", registered_at=1000.0
    )


def test_updating_or_refounding_a_dropped_room_does_not_bring_it_back(store: Store) -> None:
    store.apply([PutChannel(room("#r"))])
    store.apply([DeleteChannel("#r")])
    store.apply([UpdateChannel(room("#r", topic="late write")), SetChannelFounder("#r", "bob")])
    assert store.load().channels == {}


# ----------------------------------------------------------------------------- uniqueness


def test_creating_an_account_whose_name_is_taken_fails_and_overwrites_nothing(
    store: Store,
) -> None:
    """A registration racing another process's: the insert refuses, the first one stays."""
    store.apply([CreateAccount(account("Bob", password_hash="first"))])
    with pytest.raises(AlreadyExistsError):
        store.apply(
            [
                CreateAccount(account("BOB", key="bob", password_hash="second")),
                AppendAudit(audit_entry(1.0, "account.create")),
            ]
        )
    assert store.load().accounts["bob"].password_hash == "first"
    assert store.audit() == []  # the whole transaction was refused, its audit entry too


def test_a_created_account_comes_back_with_its_fingerprints(store: Store) -> None:
    store.apply([CreateAccount(account("carol", certfps=("aa" * 32,)))])
    assert store.load().accounts["carol"].certfps == ("aa" * 32,)


def test_registering_a_room_that_is_registered_fails_and_keeps_the_founder(
    store: Store,
) -> None:
    first = RegisteredChannel("#room", "#Room", "alice", 1.0, ops=("carol",))
    store.apply([RegisterChannel(first)])
    with pytest.raises(AlreadyExistsError):
        store.apply([RegisterChannel(dataclasses.replace(first, founder="mallory", ops=()))])
    assert store.load().channels["#room"] == first


def test_setting_an_oper_role_changes_only_the_role(store: Store) -> None:
    store.apply([PutAccount(account("dave", password_hash="h1", certfps=("bb" * 32,)))])
    store.apply([SetAccountOperRole("dave", "moderator"), SetAccountOperRole("nobody", "x")])
    dave = store.load().accounts["dave"]
    assert (dave.oper_role, dave.password_hash, dave.certfps) == ("moderator", "h1", ("bb" * 32,))
    assert "nobody" not in store.load().accounts
    store.apply([SetAccountOperRole("dave", None)])
    assert not store.load().accounts["dave"].oper


# ----------------------------------------------------------------------------- by key


def test_touched_rows_are_read_back_by_key_and_missing_ones_as_none(store: Store) -> None:
    room = RegisteredChannel(
        "#room", "#Room", "alice", 1.0, lists=(ChannelListEntry("b", "x!*@*", "op", 2.0),)
    )
    store.apply(
        [
            PutAccount(account("alice")),
            PutAccount(account("zed")),
            PutBan(ban("192.0.2.1")),
            PutMute(AccountMute("alice", "alice", "r", "op", 1.0, None)),
            PutChannel(room),
        ]
    )
    touched = Touched(
        accounts=frozenset({"alice", "gone"}),
        bans=frozenset({ban_key("address", "192.0.2.1"), ban_key("address", "192.0.2.9")}),
        mutes=frozenset({"alice"}),
        channels=frozenset({"#room", "#none"}),
    )
    delta = store.read_touched(touched)
    assert isinstance(delta, StoreDelta)
    assert delta.accounts == {"alice": store.load().accounts["alice"], "gone": None}
    found = delta.bans[ban_key("address", "192.0.2.1")]
    assert found is not None
    assert found.mask == "192.0.2.1"
    assert delta.bans[ban_key("address", "192.0.2.9")] is None
    assert delta.mutes["alice"] == store.load().mutes["alice"]
    assert delta.channels == {"#room": room, "#none": None}
    assert store.read_touched(Touched()) == StoreDelta()


def test_a_ban_whose_mask_holds_colons_is_read_back_by_its_key(store: Store) -> None:
    """A ban key is "kind:mask" and an IPv6 mask has colons of its own: only the first
    colon separates them."""
    ipv6 = dataclasses.replace(ban("2001:db8::/32"), kind="cidr")
    store.apply([PutBan(ipv6), PutBan(ban("192.0.2.1"))])
    key = ban_key("cidr", "2001:db8::/32")
    found = store.read_touched(Touched(bans=frozenset({key}))).bans
    assert list(found) == [key]
    assert found[key] == store.load().bans[0]
