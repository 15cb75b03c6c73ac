"""Per-account options, read markers and the kept presence of always-on users: what
every ``Store`` backend promises (memory, SQLite, PostgreSQL), as for metadata."""

from __future__ import annotations

from pathlib import Path

import pytest

from chatroom.server.store.base import (
    Change,
    ConflictError,
    DeleteAccount,
    DeletePresence,
    DeleteReadMarkers,
    Presence,
    PutAccount,
    PutAccountOption,
    PutPresence,
    PutReadMarker,
    Store,
    touched_by,
)
from chatroom.server.store.factory import open_store
from chatroom.server.store.url import parse_store_url
from tests.store.test_store_contract import account


def _kept(key: str, *channels: str, away: str | None = "gone") -> Presence:
    return Presence(key, key.capitalize(), channels, away, 1_900_000_000.5)


def test_options_are_set_replaced_and_cleared_per_name(store: Store) -> None:
    store.apply([PutAccount(account("alice"))])
    store.apply(
        [
            PutAccountOption("alice", "multiclient", "off"),
            PutAccountOption("alice", "always-on", "on"),
        ]
    )
    store.apply([PutAccountOption("alice", "multiclient", "on")])
    assert store.load().options == {"alice": {"multiclient": "on", "always-on": "on"}}
    store.apply([PutAccountOption("alice", "always-on", None)])
    assert store.load().options == {"alice": {"multiclient": "on"}}
    store.apply(
        [PutAccountOption("alice", "multiclient", None), PutAccountOption("alice", "x", None)]
    )
    assert store.load().options == {}


def test_read_markers_are_kept_per_target_and_overwritten(store: Store) -> None:
    store.apply([PutAccount(account("alice")), PutAccount(account("bob"))])
    store.apply(
        [
            PutReadMarker("alice", "#room", 1_900_000_000.125),
            PutReadMarker("alice", "bob", 1_900_000_001.0),
            PutReadMarker("bob", "#room", 1_900_000_002.0),
        ]
    )
    store.apply([PutReadMarker("alice", "#room", 1_900_000_003.5)])
    assert store.load().read_markers == {
        "alice": {"#room": 1_900_000_003.5, "bob": 1_900_000_001.0},
        "bob": {"#room": 1_900_000_002.0},
    }


def test_every_accounts_markers_on_a_target_are_forgotten_together(store: Store) -> None:
    store.apply([PutAccount(account("alice")), PutAccount(account("bob"))])
    store.apply(
        [
            PutReadMarker("alice", "#old", 1.0),
            PutReadMarker("alice", "#other", 2.0),
            PutReadMarker("bob", "#old", 3.0),
        ]
    )
    store.apply([DeleteReadMarkers("#old"), DeleteReadMarkers("#never")])
    assert store.load().read_markers == {"alice": {"#other": 2.0}}


def test_a_presence_is_kept_replaced_whole_and_forgotten(store: Store) -> None:
    store.apply([PutAccount(account("alice")), PutAccount(account("bob"))])
    store.apply([PutPresence(_kept("alice", "#b", "#A", "#c")), PutPresence(_kept("bob"))])
    assert store.load().presence == {
        "alice": _kept("alice", "#b", "#A", "#c"),  # rooms in the order given
        "bob": _kept("bob"),
    }
    store.apply([PutPresence(_kept("alice", "#c", away=None))])
    assert store.load().presence["alice"] == _kept("alice", "#c", away=None)
    store.apply([DeletePresence("alice"), DeletePresence("nobody")])
    assert store.load().presence == {"bob": _kept("bob")}


def test_dropping_an_account_drops_its_options_markers_and_presence(store: Store) -> None:
    store.apply([PutAccount(account("alice")), PutAccount(account("bob"))])
    store.apply(
        [
            PutAccountOption("alice", "always-on", "on"),
            PutReadMarker("alice", "#room", 1.0),
            PutPresence(_kept("alice", "#room")),
            PutReadMarker("bob", "#room", 2.0),
        ]
    )
    store.apply([DeleteAccount("alice")])
    snapshot = store.load()
    assert (snapshot.options, snapshot.presence) == ({}, {})
    assert snapshot.read_markers == {"bob": {"#room": 2.0}}
    store.apply([PutAccount(account("alice"))])  # a new account of the same name starts bare
    snapshot = store.load()
    assert (snapshot.options, snapshot.presence) == ({}, {})
    assert snapshot.read_markers == {"bob": {"#room": 2.0}}


@pytest.mark.parametrize(
    "change",
    [
        PutAccountOption("ghost", "always-on", "on"),
        PutAccountOption("ghost", "always-on", None),
        PutReadMarker("ghost", "#room", 1.0),
        PutPresence(_kept("ghost", "#room")),
    ],
    ids=["option", "cleared-option", "read-marker", "presence"],
)
def test_records_of_a_missing_account_are_refused_whole(store: Store, change: Change) -> None:
    store.apply([PutAccount(account("alice"))])
    with pytest.raises(ConflictError):
        store.apply([PutAccountOption("alice", "multiclient", "off"), change])
    snapshot = store.load()
    assert (snapshot.options, snapshot.read_markers, snapshot.presence) == ({}, {}, {})


def test_options_markers_and_presence_survive_reopening(store_url: str, tmp_path: Path) -> None:
    first = open_store(parse_store_url(store_url, tmp_path))
    first.apply(
        [
            PutAccount(account("alice")),
            PutAccountOption("alice", "always-on", "on"),
            PutReadMarker("alice", "#room", 1_900_000_000.25),
            PutPresence(_kept("alice", "#room", "#other")),
        ]
    )
    first.close()
    again = open_store(parse_store_url(store_url, tmp_path))
    snapshot = again.load()
    again.close()
    assert snapshot.options == {"alice": {"always-on": "on"}}
    assert snapshot.read_markers == {"alice": {"#room": 1_900_000_000.25}}
    assert snapshot.presence == {"alice": _kept("alice", "#room", "#other")}


def test_options_travel_by_account_key_to_other_processes(store: Store) -> None:
    """Another server learns an account's options (all of them, as stored now) from the
    account key a notification names; markers and presence stay with their server."""
    store.apply([PutAccount(account("alice")), PutAccountOption("alice", "multiclient", "off")])
    changes: list[Change] = [
        PutAccountOption("alice", "always-on", "on"),
        PutReadMarker("alice", "#room", 1.0),
        PutPresence(_kept("alice")),
    ]
    touched = touched_by(changes)
    assert touched.accounts == frozenset({"alice"})
    store.apply(changes)
    assert store.read_touched(touched).options == {
        "alice": {"multiclient": "off", "always-on": "on"}
    }
    store.apply([PutAccountOption("alice", "multiclient", None)])
    store.apply([PutAccountOption("alice", "always-on", None)])
    assert store.read_touched(touched).options == {"alice": {}}


def test_a_presence_keeps_the_user_modes(store: Store) -> None:
    store.apply([PutAccount(account("alice"))])
    kept = Presence("alice", "Alice", ("#room",), None, 1_900_000_000.5, modes="Bi")
    store.apply([PutPresence(kept)])
    assert store.load().presence["alice"].modes == "Bi"
    store.apply([PutPresence(Presence("alice", "Alice", (), None, 1_900_000_001.0))])
    assert store.load().presence["alice"].modes == ""
