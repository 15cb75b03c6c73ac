"""The core and the store's answers about other processes, through the harness:

- a name taken in the store by another process (the world has not heard of it yet) is
  refused by the insert, and the core answers "already exists" (REGISTER, NickServ
  REGISTER, ChanServ REGISTER), never overwriting the stored record;
- rows another process changed, applied by key (``World.load_changes``), have the same
  effects as a full reload: a deleted account is logged out (its metadata gone), a ban
  disconnects, a mute mutes, a dropped room loses its registration.
"""

from __future__ import annotations

from chatroom.server.harness import Harness
from chatroom.server.store.base import (
    Account,
    AccountMute,
    CreateAccount,
    DeleteAccount,
    PutBan,
    PutMetadata,
    PutMute,
    RegisterChannel,
    RegisteredChannel,
    ServerBan,
    StoreDelta,
    Touched,
    ban_key,
    touched_by,
)
from tests.server.moderation_support import notices, user


def _taken_elsewhere(h: Harness, name: str) -> Account:
    """An account another process created: in the store, not (yet) in the world."""
    account = Account(name, h.world.fold(name), "hash-from-elsewhere", None, None, 1.0)
    h.store.apply([CreateAccount(account)])
    return account


def _apply_outside(h: Harness, touched: Touched) -> None:
    """What the shell does when the store names keys another process changed."""
    h.world.load_changes(h.store.read_touched(touched))
    h.pump()


def test_register_of_a_name_taken_meanwhile_fails_with_account_exists() -> None:
    h = Harness()
    _taken_elsewhere(h, "dave")
    client = h.connect("dave")
    answer = [m for m in client.cmd("REGISTER * * daves-password") if m.command == "FAIL"]
    assert [tuple(m.params[:2]) for m in answer] == [("REGISTER", "ACCOUNT_EXISTS")]
    assert client.session.account is None
    assert h.store.load().accounts["dave"].password_hash == "hash-from-elsewhere"
    assert "account.register" not in [e.action for e in h.store.audit()]


def test_nickserv_register_of_a_name_taken_meanwhile_says_it_exists() -> None:
    h = Harness()
    _taken_elsewhere(h, "erin")
    client = h.connect("erin")
    said = notices(client.cmd("PRIVMSG NickServ :REGISTER erins-password"))
    assert said == ["That account already exists."]
    assert h.store.load().accounts["erin"].password_hash == "hash-from-elsewhere"


def test_chanserv_register_of_a_room_registered_meanwhile_keeps_the_stored_founder() -> None:
    h = Harness()
    elsewhere = RegisteredChannel("#room", "#room", "mallory", 1.0)
    alice = user(h, "alice")
    alice.cmd("JOIN #room")
    h.store.apply([RegisterChannel(elsewhere)])
    said = notices(alice.cmd("PRIVMSG ChanServ :REGISTER #room"))
    assert said == ["#room is already registered."]
    assert h.store.load().channels["#room"].founder == "mallory"
    room = h.world.rooms.find("#room")
    assert room is not None
    assert room.registration is None
    _apply_outside(h, Touched(channels=frozenset({"#room"})))
    registration = room.registration
    assert registration is not None
    assert registration.founder == "mallory"


def test_an_account_deleted_elsewhere_is_logged_out_when_its_key_arrives() -> None:
    h = Harness()
    bob = user(h, "bob")
    h.store.apply([DeleteAccount("bob")])
    _apply_outside(h, Touched(accounts=frozenset({"bob"})))
    assert "bob" not in h.world.accounts
    assert bob.session.account is None


def test_a_ban_and_a_mute_set_elsewhere_take_effect_by_key() -> None:
    h = Harness()
    carol = user(h, "carol")
    dave = user(h, "dave")
    ban = ServerBan(None, "account", "carol", "from elsewhere", "admin-cli", 1.0, None)
    mute = AccountMute("dave", "dave", "quiet", "admin-cli", 1.0, None)
    h.store.apply([PutBan(ban), PutMute(mute)])
    _apply_outside(
        h, Touched(bans=frozenset({ban_key("account", "carol")}), mutes=frozenset({"dave"}))
    )
    assert carol.closed_reason is not None
    assert "from elsewhere" in carol.closed_reason
    assert dave.session.muted == mute


def test_a_ban_lifted_elsewhere_is_lifted_by_kind_and_mask() -> None:
    """The server never learns the ids of the bans it sets: a lift is matched by key."""
    h = Harness()
    h.world.load_changes(
        StoreDelta(
            bans={"address:192.0.2.1": ServerBan(None, "address", "192.0.2.1", "r", "x", 1.0, None)}
        )
    )
    assert len(h.world.sanctions.bans) == 1
    h.world.load_changes(StoreDelta(bans={"address:192.0.2.1": None}))
    assert len(h.world.sanctions.bans) == 0


def test_metadata_changed_elsewhere_arrives_with_its_account_key() -> None:
    """Another server set (then an admin dropped) an account's metadata: the key named in
    the notification brings the account's keys as stored, or takes them away."""
    h = Harness()
    user(h, "frank")
    h.store.apply([PutMetadata("frank", "display-name", "Frank F.")])
    _apply_outside(h, touched_by([PutMetadata("frank", "display-name", "")]))
    assert h.world.metadata.accounts["frank"] == {"display-name": "Frank F."}
    h.store.apply([DeleteAccount("frank")])
    _apply_outside(h, Touched(accounts=frozenset({"frank"})))
    assert "frank" not in h.world.metadata.accounts
