"""METADATA (IRCv3 draft/metadata-2) through the core harness: keys on users and rooms,
subscriptions, limits, and account metadata that is saved before it is confirmed."""

from __future__ import annotations

import pytest

from chatroom import config as cfg
from chatroom.irc.message import Message
from chatroom.server.core.world import World
from chatroom.server.harness import Harness, SimClient
from chatroom.server.store.base import PutAccount
from tests.server.support import codes, join_all

CAPS = ["draft/metadata-2", "batch"]


def _batch(replies: list[Message], kind: str = "metadata") -> tuple[tuple[str, ...], list[Message]]:
    """The batch's parameters after the type, and the lines inside it."""
    start, *inside, end = replies
    assert (start.command, start.params[1]) == ("BATCH", kind), codes(replies)
    ref = start.params[0][1:]
    assert end.command == "BATCH"
    assert end.params == ("-" + ref,)
    assert all(m.tags.get("batch") == ref for m in inside)
    return start.params[2:], inside


def _fail(replies: list[Message]) -> tuple[str, ...]:
    assert [m.command for m in replies] == ["FAIL"], codes(replies)
    assert replies[0].params[0] == "METADATA"
    return replies[0].params[1:-1]


def _pair(h: Harness, chan: str = "#room") -> tuple[SimClient, SimClient]:
    alice = h.connect("alice", caps=CAPS)
    bob = h.connect("bob", caps=CAPS)
    join_all([alice, bob], chan)
    return alice, bob


def test_the_capability_is_advertised_with_its_limits() -> None:
    """The current spec's name (draft/metadata-2) and its tokens, from the settings."""
    h = Harness()
    tokens = [t for line in h.connect().cmd("CAP LS 302") for t in line.params[-1].split()]
    limits = h.world.settings.limits
    assert (
        f"draft/metadata-2=before-connect,max-subs={limits.metadata_max_subs},"
        f"max-keys={limits.metadata_max_keys},max-value-bytes={limits.metadata_max_value_bytes}"
    ) in tokens


def test_set_answers_the_new_value_and_get_returns_it_in_a_metadata_batch() -> None:
    h = Harness()
    alice = h.connect("alice", caps=CAPS)
    set_reply = alice.cmd("METADATA * SET display-name :Alice Liddell")
    assert [(m.command, m.params) for m in set_reply] == [
        ("761", ("alice", "alice", "display-name", "*", "Alice Liddell"))
    ]
    params, inside = _batch(alice.cmd("METADATA alice GET display-name avatar BAD"))
    assert params == ("alice",)
    assert [m.command for m in inside] == ["761", "766", "FAIL"]
    assert inside[1].params[:3] == ("alice", "alice", "avatar")
    assert inside[2].params[:3] == ("METADATA", "KEY_INVALID", "BAD")
    params, inside = _batch(alice.cmd("METADATA * LIST"))
    assert [m.params[2:] for m in inside] == [("display-name", "*", "Alice Liddell")]


def test_removing_a_key_answers_766_and_removing_a_missing_key_fails() -> None:
    h = Harness()
    alice = h.connect("alice", caps=CAPS)
    alice.cmd("METADATA * SET avatar :https://example.org/a.png")
    assert codes(alice.cmd("METADATA * SET avatar")) == ["766"]
    assert _fail(alice.cmd("METADATA * SET avatar")) == ("KEY_NOT_SET", "alice", "avatar")
    _, inside = _batch(alice.cmd("METADATA * LIST"))
    assert inside == []


def test_keys_values_and_counts_are_bounded() -> None:
    h = Harness()
    alice = h.connect("alice", caps=CAPS)
    limits = h.world.settings.limits
    assert _fail(alice.cmd("METADATA * SET Display-Name :x")) == ("KEY_INVALID", "Display-Name")
    assert _fail(alice.cmd("METADATA * SET a:b :x")) == ("KEY_INVALID", "a:b")
    too_long = "x" * (limits.metadata_max_value_bytes + 1)
    assert _fail(alice.cmd(f"METADATA * SET avatar :{too_long}")) == ("VALUE_INVALID",)
    for i in range(limits.metadata_max_keys):
        assert codes(alice.cmd(f"METADATA * SET k{i} :v")) == ["761"]
    assert _fail(alice.cmd("METADATA * SET one-more :v")) == ("LIMIT_REACHED", "alice")
    assert codes(alice.cmd("METADATA * SET k0 :changed")) == ["761"]  # replacing is fine


def test_nobody_sets_another_users_keys_and_unknown_targets_are_invalid() -> None:
    h = Harness()
    alice, _bob = _pair(h)
    assert _fail(alice.cmd("METADATA bob SET display-name :Not Bob")) == (
        "KEY_NO_PERMISSION",
        "bob",
        "display-name",
    )
    assert _fail(alice.cmd("METADATA nobody LIST")) == ("INVALID_TARGET", "nobody")
    h.connect("carol").cmd("JOIN #secret")
    assert _fail(alice.cmd("METADATA #secret LIST")) == ("INVALID_TARGET", "#secret")
    assert _fail(alice.cmd("METADATA * FROB")) == ("SUBCOMMAND_INVALID", "FROB")


def test_subscribers_who_share_a_room_hear_changes_and_the_setter_does_not() -> None:
    h = Harness()
    alice, bob = _pair(h)
    carol = h.connect("carol", caps=CAPS)  # subscribed, but shares no room with alice
    dave = h.connect("dave", caps=CAPS)  # shares the room, never subscribed
    dave.cmd("JOIN #room")
    for client in (bob, carol):
        assert [
            (m.command, m.params) for m in client.cmd("METADATA * SUB display-name avatar")
        ] == [("770", (client.nick, "display-name avatar"))]
    alice.cmd("METADATA * SET display-name :Alice")
    assert [(m.command, m.params) for m in bob.take()] == [
        ("METADATA", ("alice", "display-name", "*", "Alice"))
    ]
    alice.cmd("METADATA * SET display-name")
    assert [m.params for m in bob.take()] == [("alice", "display-name", "*")]
    assert carol.take() == []
    assert dave.take() == []
    # A value set to what it already was is not news.
    alice.cmd("METADATA * SET avatar :a")
    bob.take()
    alice.cmd("METADATA * SET avatar :a")
    assert bob.take() == []


def test_room_metadata_is_set_by_its_ops_and_heard_by_its_subscribed_members() -> None:
    h = Harness()
    alice, bob = _pair(h)  # alice created the room: she is its op
    bob.cmd("METADATA * SUB display-name")
    assert _fail(bob.cmd("METADATA #room SET display-name :Bob's")) == (
        "KEY_NO_PERMISSION",
        "#room",
        "display-name",
    )
    assert codes(alice.cmd("METADATA #room SET display-name :The Room")) == ["761"]
    assert [m.params for m in bob.take()] == [("#room", "display-name", "*", "The Room")]
    _, inside = _batch(bob.cmd("METADATA #room GET display-name"))
    assert inside[0].params[-1] == "The Room"
    _, inside = _batch(alice.cmd("METADATA #room CLEAR"))
    assert [m.params for m in inside] == [("alice", "#room", "display-name", "*")]
    assert [m.params for m in bob.take()] == [("#room", "display-name", "*")]


def test_a_join_brings_the_room_and_members_values_both_ways() -> None:
    h = Harness()
    alice = h.connect("alice", caps=CAPS)
    alice.cmd("METADATA * SUB display-name")
    alice.cmd("JOIN #room")
    alice.cmd("METADATA #room SET display-name :Room")
    alice.cmd("METADATA * SET display-name :Alice")
    bob = h.connect("bob", caps=CAPS)
    bob.cmd("METADATA * SUB display-name")
    bob.cmd("METADATA * SET display-name :Bob")
    joined = [m.params for m in bob.cmd("JOIN #room") if m.command == "METADATA"]
    assert joined == [
        ("#room", "display-name", "*", "Room"),
        ("alice", "display-name", "*", "Alice"),
    ]
    assert [m.params for m in alice.take() if m.command == "METADATA"] == [
        ("bob", "display-name", "*", "Bob")
    ]


def test_subscribing_later_sends_the_current_values_of_the_rooms_one_is_in() -> None:
    h = Harness()
    alice, bob = _pair(h)
    alice.cmd("METADATA * SET avatar :https://a.example/a.png")
    replies = bob.cmd("METADATA * SUB avatar")
    assert [(m.command, m.params) for m in replies] == [
        ("770", ("bob", "avatar")),
        ("METADATA", ("alice", "avatar", "*", "https://a.example/a.png")),
    ]
    params, inside = _batch(bob.cmd("METADATA #room SYNC"))
    assert params == ("#room",)
    assert [m.params[0] for m in inside] == ["alice"]


def test_subscriptions_stop_at_the_limit_and_name_the_first_key_left_out() -> None:
    h = Harness()
    bob = h.connect("bob", caps=CAPS)
    most = h.world.settings.limits.metadata_max_subs
    keys = " ".join(f"k{i}" for i in range(most + 2))
    replies = bob.cmd(f"METADATA * SUB BAD {keys}")
    assert codes(replies) == ["FAIL", "FAIL", "770"]
    assert replies[0].params[1:3] == ("KEY_INVALID", "BAD")
    assert replies[1].params[1:3] == ("TOO_MANY_SUBS", f"k{most}")
    _, inside = _batch(bob.cmd("METADATA * SUBS"), "metadata-subs")
    listed = [key for m in inside for key in m.params[-1].split()]
    assert sorted(listed) == sorted(f"k{i}" for i in range(most))
    assert [(m.command, m.params) for m in bob.cmd("METADATA * UNSUB k0 nope")] == [
        ("771", ("bob", "k0 nope"))
    ]


def _account(h: Harness, name: str) -> None:
    """An account in the world and in the store, as ``chatroom admin create`` leaves it."""
    h.store.apply([PutAccount(h.add_account(name, "secret-password"))])


def _logged_in(h: Harness, nick: str = "alice", caps: list[str] = CAPS) -> SimClient:
    _account(h, nick)
    client = h.connect(nick, caps=caps)
    client.cmd(f"PRIVMSG NickServ :IDENTIFY {nick} secret-password")
    assert client.session.account == nick
    return client


def test_an_accounts_metadata_is_saved_and_comes_back_on_its_next_connection() -> None:
    h = Harness()
    alice = _logged_in(h)
    alice.cmd("METADATA * SET display-name :Alice L.")
    assert h.store.load().metadata == {"alice": {"display-name": "Alice L."}}
    alice.drop()
    again = h.connect("alice2", caps=CAPS)
    again.cmd("PRIVMSG NickServ :IDENTIFY alice secret-password")
    _, inside = _batch(again.cmd("METADATA * GET display-name"))
    assert inside[0].params[-1] == "Alice L."


def test_an_accounts_metadata_survives_a_restart() -> None:
    """A new core loads what the store holds; the welcome carries one's own metadata."""
    h = Harness()
    alice = _logged_in(h)
    alice.cmd("METADATA * SET avatar :https://a.example/me.png")
    restarted = Harness()
    restarted.store = h.store
    restarted.world.load_snapshot(h.store.load())
    client = restarted.connect()
    client.send("CAP LS 302", "CAP REQ :draft/metadata-2 batch sasl", "NICK alice", "USER a 0 * :a")
    client.send("AUTHENTICATE PLAIN", "AUTHENTICATE " + _plain("alice", "secret-password"))
    client.take()
    burst = client.cmd("CAP END")
    start = next(
        i for i, m in enumerate(burst) if m.command == "BATCH" and m.params[1:2] == ("metadata",)
    )
    assert burst[start].params[2] == "alice"
    assert burst[start + 1].params == ("alice", "avatar", "*", "https://a.example/me.png")


def _plain(account: str, password: str) -> str:
    import base64

    return base64.b64encode(f"\0{account}\0{password}".encode()).decode()


def test_an_accounts_change_is_confirmed_only_after_the_commit() -> None:
    h = Harness()
    alice, bob = _pair(h)
    _account(h, "alice")
    alice.cmd("PRIVMSG NickServ :IDENTIFY alice secret-password")
    bob.cmd("METADATA * SUB display-name")
    h.defer_answers = True
    alice.send("METADATA * SET display-name :Alice", "PING after")
    assert alice.take() == []
    assert bob.take() == []
    h.answer()
    assert codes(alice.take()) == ["761", "PONG"]
    assert [m.command for m in bob.take()] == ["METADATA"]


def test_a_failed_commit_is_reported_and_changes_nothing() -> None:
    h = Harness()
    alice = _logged_in(h)
    h.store_fails = True
    assert _fail(alice.cmd("METADATA * SET display-name :Lost")) == ("INTERNAL_ERROR",)
    h.store_fails = False
    _, inside = _batch(alice.cmd("METADATA * GET display-name"))
    assert codes(inside) == ["766"]


def test_metadata_set_before_connecting_is_kept_and_saved_at_login() -> None:
    """before-connect: a client may set its own keys during registration."""
    h = Harness()
    _account(h, "alice")
    client = h.connect()
    client.send("CAP LS 302", "CAP REQ :draft/metadata-2 batch sasl")
    client.take()
    set_reply = client.cmd("METADATA * SET display-name :Early Alice")
    assert [m.command for m in set_reply] == ["761"]
    assert set_reply[0].params[0] == "*"
    assert _fail(client.cmd("METADATA bob SET display-name :x")) == ("INVALID_TARGET", "bob")
    client.send("NICK alice", "USER a 0 * :a")
    client.send("AUTHENTICATE PLAIN", "AUTHENTICATE " + _plain("alice", "secret-password"))
    burst = client.cmd("CAP END")
    assert ("alice", "display-name", "*", "Early Alice") in [m.params for m in burst]
    assert h.store.load().metadata == {"alice": {"display-name": "Early Alice"}}


def test_without_the_cap_metadata_is_refused_before_registration_and_never_pushed() -> None:
    h = Harness()
    client = h.connect()
    assert codes(client.cmd("METADATA * SET display-name :x")) == ["451"]
    alice, _ = _pair(h)
    plain = h.connect("plain")
    plain.cmd("JOIN #room")
    plain.cmd("METADATA * SUB display-name")  # allowed, but nothing is pushed without the cap
    alice.cmd("METADATA * SET display-name :Alice")
    assert plain.take() == []


def test_a_dropped_account_takes_its_metadata_with_it() -> None:
    h = Harness()
    alice = _logged_in(h)
    alice.cmd("METADATA * SET display-name :Alice")
    alice.cmd("PRIVMSG NickServ :DROP alice")
    world: World = h.world
    assert "alice" not in world.metadata.accounts
    assert h.store.load().metadata == {}


def test_the_limits_come_from_the_config_and_values_stay_within_a_line() -> None:
    config = cfg.load(env={}, flags={"limits.metadata_max_keys": 3, "limits.metadata_max_subs": 4})
    assert (config.core.limits.metadata_max_keys, config.core.limits.metadata_max_subs) == (3, 4)
    with pytest.raises(cfg.ConfigError, match="metadata_max_value_bytes"):
        cfg.load(env={}, flags={"limits.metadata_max_value_bytes": 301})
