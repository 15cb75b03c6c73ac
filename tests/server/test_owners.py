"""The owners of the core's state keep their own rules (docs/architecture.md, "Who owns
what"): the nick registry, the rooms and the account book, each on its own, with no
world around them."""

from __future__ import annotations

from chatroom.irc.casemap import CaseMapping, casefolder
from chatroom.server.core.accountbook import AccountBook
from chatroom.server.core.nicks import NickRegistry
from chatroom.server.core.rooms import Rooms
from chatroom.server.core.users import User
from chatroom.server.store.base import Account, Presence, PutAccountOption

fold = casefolder(CaseMapping.RFC1459)


def _user(nick: str) -> User:
    return User(host="example.org", nick=nick)


def _account(name: str) -> Account:
    return Account(name, fold(name), "hash", "scram", None, 1.0)


# ----------------------------------------------------------------------------- nicks


def test_a_nick_is_found_in_any_case_the_casemapping_folds() -> None:
    nicks = NickRegistry(fold)
    alice = _user("Alice[away]")
    nicks.claim(alice, alice.nick)
    assert nicks.find("ALICE{AWAY}") is alice
    assert nicks.get(fold("alice[away]")) is alice


def test_rename_moves_the_nick_and_sets_it_on_the_user() -> None:
    nicks = NickRegistry(fold)
    alice = _user("alice")
    nicks.claim(alice, "alice")
    nicks.rename(alice, "Alicia")
    assert alice.nick == "Alicia"
    assert nicks.find("alice") is None
    assert nicks.find("alicia") is alice
    assert dict(nicks.items()) == {"alicia": alice}


def test_release_leaves_a_nick_held_by_someone_else() -> None:
    """A device that asked for a nick another user holds never held it: releasing it
    (when the device attaches elsewhere or leaves) must not free the holder's nick."""
    nicks = NickRegistry(fold)
    holder, asker = _user("alice"), _user("alice")
    nicks.claim(holder, "alice")
    nicks.release(asker)
    assert nicks.find("alice") is holder
    nicks.release(holder)
    assert nicks.find("alice") is None
    assert len(nicks) == 0


# ----------------------------------------------------------------------------- rooms


def test_an_empty_room_goes_unless_it_is_permanent() -> None:
    rooms = Rooms(fold)
    lobby = rooms.create("#Lobby", 1.0, permanent=True)
    chat = rooms.create("#chat", 1.0)
    rooms.discard_if_empty(lobby)
    rooms.discard_if_empty(chat)
    assert rooms.find("#lobby") is lobby
    assert rooms.find("#CHAT") is None
    assert list(rooms) == [lobby]


def test_a_room_with_members_is_kept() -> None:
    rooms = Rooms(fold)
    chat = rooms.create("#chat", 1.0)
    chat.add(_user("alice"), "o")
    rooms.discard_if_empty(chat)
    assert rooms.find("#chat") is chat


def test_a_renamed_room_is_found_only_by_its_new_name() -> None:
    rooms = Rooms(fold)
    room = rooms.create("#old", 1.0)
    room.add(_user("alice"), "o")
    rooms.rename(room, "#New")
    assert room.name == "#New"
    assert rooms.find("#old") is None
    assert rooms.get("#new") is room
    assert len(rooms) == 1


# ----------------------------------------------------------------------------- accounts


def test_an_account_keeps_its_first_online_user() -> None:
    """A second user of the same account (another nick) does not replace the first: new
    devices attach to the one already online."""
    book = AccountBook()
    first, second = _user("alice"), _user("alice_bot")
    book.set_online("alice", first)
    book.set_online("alice", second)
    assert book.online("alice") is first
    book.set_offline("alice", second)  # not the account's user: nothing changes
    assert book.online("alice") is first
    book.set_offline("alice", first)
    assert book.online("alice") is None


def test_a_name_being_registered_is_taken_until_it_ends() -> None:
    book = AccountBook()
    assert not book.taken("alice")
    book.reserve("alice")
    assert book.taken("alice")
    assert "alice" not in book  # taken, but not an account yet
    book.unreserve("alice")
    book.put(_account("Alice"))
    assert book.taken("alice")
    assert book["alice"].name == "Alice"


def test_a_reloaded_account_brings_its_options_and_a_deleted_one_loses_them() -> None:
    book = AccountBook()
    book.load({}, {}, {})
    book.load_one("alice", _account("alice"), {"always-on": "on"})
    assert book.option("alice", "always-on") == "on"
    assert book.option("alice", "multiclient") is None
    book.load_one("alice", None, {})
    assert book.get("alice") is None
    assert book.option("alice", "always-on") is None


def test_kept_presence_and_waiting_messages_are_per_account() -> None:
    book = AccountBook()
    kept = Presence("alice", "alice", ("#room",), None, 5.0, "")
    book.keep(kept)
    book.add_waiting("alice", 1000)
    change = book.add_waiting("alice", 2000)
    assert change == PutAccountOption("alice", "offline-mailbox", "1000 2")  # to persist
    assert book.kept("alice") is kept
    assert book.all_kept() == [kept]
    assert book.waiting("alice") == 2
    assert book.waiting("bob") == 0
    assert book.take_waiting("alice") == (1000, PutAccountOption("alice", "offline-mailbox", None))
    assert book.waiting("alice") == 0  # counted again from the login on
    assert book.take_waiting("alice") == (None, None)
    assert book.forget_kept("alice")
    assert not book.forget_kept("alice")
