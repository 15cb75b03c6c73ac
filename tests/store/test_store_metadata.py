"""Account metadata (IRCv3 draft/metadata-2) and room renames: what every ``Store``
backend promises, run against memory and SQLite like the rest of the contract."""

from __future__ import annotations

from pathlib import Path

import pytest

from chatroom.server.store.base import (
    Change,
    ChannelListEntry,
    ConflictError,
    DeleteAccount,
    DeleteMetadata,
    PutAccount,
    PutChannel,
    PutMetadata,
    RegisteredChannel,
    RenameChannel,
    Store,
    Touched,
    touched_by,
)
from chatroom.server.store.factory import open_store
from chatroom.server.store.url import parse_store_url
from tests.store.test_store_contract import account


def test_metadata_of_an_account_is_kept_and_replaced_per_key(store: Store) -> None:
    store.apply([PutAccount(account("alice"))])
    store.apply(
        [PutMetadata("alice", "display-name", "Alice A."), PutMetadata("alice", "avatar", "x")]
    )
    store.apply([PutMetadata("alice", "display-name", "Alice B.")])
    assert store.load().metadata == {"alice": {"display-name": "Alice B.", "avatar": "x"}}


def test_metadata_survives_reopening_the_database(store_url: str, tmp_path: Path) -> None:
    first = open_store(parse_store_url(store_url, tmp_path))
    first.apply([PutAccount(account("alice")), PutMetadata("alice", "avatar", "https://a/b.png")])
    first.close()
    again = open_store(parse_store_url(store_url, tmp_path))
    assert again.load().metadata == {"alice": {"avatar": "https://a/b.png"}}
    again.close()


def test_deleting_one_key_or_all_keys(store: Store) -> None:
    store.apply([PutAccount(account("alice")), PutAccount(account("bob"))])
    store.apply(
        [
            PutMetadata("alice", "display-name", "A"),
            PutMetadata("alice", "avatar", "a"),
            PutMetadata("bob", "avatar", "b"),
        ]
    )
    store.apply([DeleteMetadata("alice", "avatar"), DeleteMetadata("alice", "missing")])
    assert store.load().metadata == {"alice": {"display-name": "A"}, "bob": {"avatar": "b"}}
    store.apply([DeleteMetadata("alice")])
    assert store.load().metadata == {"bob": {"avatar": "b"}}


def test_dropping_an_account_drops_its_metadata(store: Store) -> None:
    store.apply([PutAccount(account("alice")), PutMetadata("alice", "avatar", "a")])
    store.apply([DeleteAccount("alice")])
    store.apply([PutAccount(account("alice"))])  # a new account of the same name starts bare
    assert store.load().metadata == {}


def test_metadata_for_a_missing_account_is_refused_whole(store: Store) -> None:
    store.apply([PutAccount(account("alice"))])
    with pytest.raises(ConflictError):
        store.apply([PutMetadata("alice", "avatar", "a"), PutMetadata("ghost", "avatar", "g")])
    assert store.load().metadata == {}


def _room(key: str, name: str) -> RegisteredChannel:
    return RegisteredChannel(
        key,
        name,
        "alice",
        1000.0,
        topic="hello",
        ops=("bob",),
        lists=(ChannelListEntry("b", "spam!*@*", "alice", 1001.0),),
    )


def test_renaming_a_registered_room_keeps_its_founder_ops_and_lists(store: Store) -> None:
    store.apply([PutChannel(_room("#old", "#Old"))])
    store.apply([RenameChannel("#old", "#new", "#New")])
    channels = store.load().channels
    assert set(channels) == {"#new"}
    moved = channels["#new"]
    assert (moved.name, moved.founder, moved.topic, moved.ops) == (
        "#New",
        "alice",
        "hello",
        ("bob",),
    )
    assert moved.lists == (ChannelListEntry("b", "spam!*@*", "alice", 1001.0),)


def test_a_case_only_rename_changes_the_name_alone(store: Store) -> None:
    store.apply([PutChannel(_room("#old", "#old"))])
    store.apply([RenameChannel("#old", "#old", "#OLD")])
    assert store.load().channels["#old"].name == "#OLD"


def test_renaming_a_room_that_is_not_registered_changes_nothing(store: Store) -> None:
    store.apply([RenameChannel("#gone", "#new", "#new")])
    assert store.load().channels == {}


def test_renaming_onto_another_registered_room_is_refused(store: Store) -> None:
    store.apply([PutChannel(_room("#a", "#a")), PutChannel(_room("#b", "#b"))])
    with pytest.raises(ConflictError):
        store.apply([RenameChannel("#a", "#b", "#b")])
    assert set(store.load().channels) == {"#a", "#b"}


def test_metadata_and_renames_travel_by_key_to_other_processes(store: Store) -> None:
    """What another server learns from a notification: the account whose metadata changed
    (with all its keys as stored now), and both names of a renamed room."""
    store.apply([PutAccount(account("alice")), PutChannel(_room("#old", "#Old"))])
    changes: list[Change] = [
        PutMetadata("alice", "avatar", "a"),
        RenameChannel("#old", "#new", "#New"),
    ]
    touched = touched_by(changes)
    assert touched == Touched(accounts=frozenset({"alice"}), channels=frozenset({"#old", "#new"}))
    store.apply(changes)
    delta = store.read_touched(touched)
    assert delta.metadata == {"alice": {"avatar": "a"}}
    assert delta.channels["#old"] is None
    moved = delta.channels["#new"]
    assert moved is not None
    assert moved.name == "#New"
    store.apply([DeleteMetadata("alice")])
    assert store.read_touched(touch_by_key("alice")).metadata == {"alice": {}}


def touch_by_key(account_key: str) -> Touched:
    return touched_by([DeleteMetadata(account_key)])
