"""RENAME (IRCv3 draft/channel-rename) through the core harness: who may rename, what
members with and without the capability see, and what follows the new name."""

from __future__ import annotations

from chatroom.irc import numerics as n
from chatroom.irc.message import Message
from chatroom.server.harness import Harness, SimClient
from tests.server.moderation_support import audit_actions, oper
from tests.server.support import codes, join_all
from tests.server.test_chanserv import cs, founded, restarted

CAP = "draft/channel-rename"


def _fail(replies: list[Message]) -> tuple[str, ...]:
    assert codes(replies) == ["FAIL"], codes(replies)
    return replies[0].params[:-1]


def test_the_capability_is_advertised() -> None:
    h = Harness()
    tokens = [t for line in h.connect().cmd("CAP LS 302") for t in line.params[-1].split()]
    assert CAP in tokens


def test_members_with_the_cap_see_rename_and_the_others_part_and_join() -> None:
    """The spec's fallback: PART the old name, JOIN the new one, then topic and NAMES."""
    h = Harness()
    alice = h.connect("alice", caps=[CAP])
    bob = h.connect("bob")
    join_all([alice, bob], "#coding")
    alice.cmd("TOPIC #coding :All about code")
    bob.take()
    replies = alice.cmd("RENAME #coding #programming :Wider scope")
    assert [(m.command, m.params) for m in replies] == [
        ("RENAME", ("#coding", "#programming", "Wider scope"))
    ]
    assert replies[0].source == alice.session.prefix
    seen = bob.take()
    assert [(m.command, m.source, m.params[0]) for m in seen[:2]] == [
        ("PART", bob.session.prefix, "#coding"),
        ("JOIN", bob.session.prefix, "#programming"),
    ]
    assert seen[0].params[1] == "Wider scope"
    assert codes(seen[2:]) == [n.RPL_TOPIC, n.RPL_TOPICWHOTIME, n.RPL_NAMREPLY, n.RPL_ENDOFNAMES]
    assert seen[4].params[-1].split() == ["@alice", "bob"]
    # The room lives on under its new name, members, topic and ops included.
    channel = h.world.rooms.find("#programming")
    assert channel is not None
    assert h.world.rooms.find("#coding") is None
    assert channel.topic == "All about code"
    assert channel.is_op(alice.session.owner)
    assert set(alice.session.channels) == {"#programming"}
    bob.cmd("PRIVMSG #programming :still here")
    assert [m.params for m in alice.take()] == [("#programming", "still here")]


def test_a_rename_without_a_reason_still_carries_an_empty_one() -> None:
    h = Harness()
    alice = h.connect("alice", caps=[CAP])
    alice.cmd("JOIN #a")
    replies = alice.cmd("RENAME #a #b")
    assert replies[0].params == ("#a", "#b", "")


def test_the_renamer_without_the_cap_gets_the_fallback_too() -> None:
    h = Harness()
    alice = h.connect("alice")
    alice.cmd("JOIN #a")
    assert codes(alice.cmd("RENAME #a #b"))[:2] == ["PART", "JOIN"]


def test_only_room_ops_and_operators_may_rename() -> None:
    h = Harness()
    alice, bob = h.connect("alice"), h.connect("bob")
    join_all([alice, bob], "#a")
    assert codes(bob.cmd("RENAME #a #b")) == [n.ERR_CHANOPRIVSNEEDED]
    assert codes(h.connect("carol").cmd("RENAME #a #b")) == [n.ERR_NOTONCHANNEL]
    assert codes(bob.cmd("RENAME #nowhere #b")) == [n.ERR_NOSUCHCHANNEL]
    assert codes(bob.cmd("RENAME #a")) == [n.ERR_NEEDMOREPARAMS]
    admin = oper(h)
    assert "#a is now called #b" in admin.cmd("RENAME #a #b :tidy up")[0].params[-1]
    assert codes(alice.take())[:2] == ["PART", "JOIN"]
    assert h.world.rooms.find("#b") is not None


def test_names_in_use_invalid_or_from_the_config_are_refused() -> None:
    h = Harness()
    alice = h.connect("alice", caps=[CAP])
    alice.cmd("JOIN #a")
    h.connect("bob").cmd("JOIN #taken")
    assert _fail(alice.cmd("RENAME #a #TAKEN")) == ("RENAME", "CHANNEL_NAME_IN_USE", "#a", "#TAKEN")
    assert _fail(alice.cmd("RENAME #a nohash")) == ("RENAME", "CANNOT_RENAME", "#a", "nohash")
    assert _fail(alice.cmd("RENAME #a #a"))[1] == "CANNOT_RENAME"
    alice.cmd("JOIN #lobby")
    admin = oper(h)
    assert _fail(admin.cmd("RENAME #lobby #hall"))[1] == "CANNOT_RENAME"


def test_a_second_rename_must_wait_unless_an_operator_does_it() -> None:
    h = Harness()
    alice = h.connect("alice", caps=[CAP])
    alice.cmd("JOIN #a")
    alice.cmd("RENAME #a #b")
    assert _fail(alice.cmd("RENAME #b #c"))[1] == "CANNOT_RENAME"
    h.tick(61)
    assert codes(alice.cmd("RENAME #b #c")) == ["RENAME"]
    assert codes(oper(h).cmd("RENAME #c #d")) != ["FAIL"]


def test_changing_only_the_case_is_allowed_and_has_no_fallback() -> None:
    h = Harness()
    alice = h.connect("alice", caps=[CAP])
    bob = h.connect("bob")
    join_all([alice, bob], "#room")
    assert codes(alice.cmd("RENAME #room #Room")) == ["RENAME"]
    assert bob.take() == []
    channel = h.world.rooms.find("#room")
    assert channel is not None
    assert channel.name == "#Room"


def test_joining_the_old_name_is_redirected() -> None:
    h = Harness()
    alice = h.connect("alice", caps=[CAP])
    alice.cmd("JOIN #old")
    alice.cmd("RENAME #old #new")
    aware = h.connect("aware", caps=[CAP])
    assert _fail(aware.cmd("JOIN #old")) == ("JOIN", "CHANNEL_RENAMED", "#old", "#new")
    plain = h.connect("plain")
    replies = plain.cmd("JOIN #old")
    assert replies[0].command == n.ERR_LINKCHANNEL
    assert replies[0].params[1:3] == ("#old", "#new")
    assert (replies[1].command, replies[1].params[0]) == ("JOIN", "#new")
    # Once the redirection has lapsed, the old name is free for a new room.
    h.tick(3601)
    assert codes(aware.cmd("JOIN #old"))[0] == "JOIN"


def test_invitations_follow_the_room() -> None:
    h = Harness()
    alice = h.connect("alice")
    alice.cmd("JOIN #club")
    alice.cmd("MODE #club +i")
    bob = h.connect("bob")
    alice.cmd("INVITE bob #club")
    alice.cmd("RENAME #club #society")
    assert codes(bob.cmd("JOIN #society"))[0] == "JOIN"


def test_history_follows_the_new_name() -> None:
    h = Harness()
    caps = ["batch", "server-time", "message-tags", "draft/chathistory", CAP]
    alice = h.connect("alice", caps=caps)
    alice.cmd("JOIN #old")
    alice.cmd("PRIVMSG #old :said before the rename")
    alice.cmd("RENAME #old #new")
    replies = alice.cmd("CHATHISTORY LATEST #new * 10")
    lines = [m for m in replies if m.command == "PRIVMSG"]
    assert [m.params for m in lines] == [("#new", "said before the rename")]
    # The lines replayed on join to clients without CHATHISTORY name the new room too.
    bob = h.connect("bob", caps=["batch", "server-time"])
    replayed = [m.params for m in bob.cmd("JOIN #new") if m.command == "PRIVMSG"]
    assert replayed == [("#new", "said before the rename")]


def test_a_registered_room_keeps_its_registration_under_the_new_name() -> None:
    h = Harness()
    founder = founded(h, room="#old")
    founder.cmd("RENAME #old #new :rebrand")
    stored = h.store.load().channels
    assert set(stored) == {"#new"}
    assert (stored["#new"].name, stored["#new"].founder) == ("#new", "alice")
    assert "alice" in " ".join(cs(founder, "INFO #new"))
    assert ("alice", "channel.rename", "#old #new") in audit_actions(h)
    fresh = restarted(h)
    channel = fresh.world.rooms.find("#new")
    assert channel is not None
    assert channel.registration is not None
    assert fresh.world.rooms.find("#old") is None


def test_what_a_reader_already_got_is_not_replayed_again_under_the_new_name() -> None:
    h = Harness()
    h.add_account("bob", "secret-password")
    alice = h.connect("alice", caps=[CAP])
    bob = h.connect("bob", caps=["batch", "server-time"])
    bob.cmd("PRIVMSG NickServ :IDENTIFY bob secret-password")
    join_all([alice, bob], "#old")
    alice.cmd("PRIVMSG #old :bob was here for this")
    bob.cmd("PART #old")
    alice.cmd("PRIVMSG #old :said while bob was away")
    alice.cmd("RENAME #old #new")
    replayed = [m.params for m in bob.cmd("JOIN #new") if m.command == "PRIVMSG"]
    assert replayed == [("#new", "said while bob was away")]


def _marked_then_renamed() -> tuple[Harness, SimClient]:
    """alice marks #old read, then renames it #new."""
    h = Harness()
    h.add_account("alice", "secret-password")
    alice = h.connect("alice", caps=[CAP, "draft/read-marker"])
    alice.cmd("PRIVMSG NickServ :IDENTIFY alice secret-password")
    alice.cmd("JOIN #old")
    alice.cmd("MARKREAD #old timestamp=2026-01-02T03:04:05.678Z")
    alice.cmd("RENAME #old #new")
    return h, alice


def test_read_markers_follow_the_new_name_and_are_saved_under_it() -> None:
    h, alice = _marked_then_renamed()
    marks = [m.params for m in alice.cmd("MARKREAD #new") if m.command == "MARKREAD"]
    assert marks == [("#new", "timestamp=2026-01-02T03:04:05.678Z")]
    assert h.store.load().read_markers["alice"] == {"#new": 1767323045.678}


def test_a_new_room_that_takes_a_renamed_rooms_old_name_starts_with_no_read_marker() -> None:
    h, alice = _marked_then_renamed()
    h.world.load_snapshot(h.store.load())  # another process wrote: read back from the store
    alice.cmd("JOIN #old")
    marks = [m.params for m in alice.cmd("MARKREAD #old") if m.command == "MARKREAD"]
    assert marks == [("#old", "*")]


def test_while_a_registered_rooms_new_name_is_saved_the_room_keeps_its_old_one() -> None:
    """Nothing moves before the commit: a member's line meanwhile goes to the old name,
    before the RENAME line, and nobody can take the new name in between."""
    h = Harness()
    founder = founded(h, room="#old")
    member = h.connect("member")
    watcher = h.connect("watcher", caps=[CAP])
    join_all([member, watcher], "#old")
    h.hold_persists = True
    founder.send("RENAME #old #new :rebrand")
    member.send("PRIVMSG #old :said in between")
    squatter = h.connect("squatter")
    assert codes(squatter.cmd("JOIN #new")) == [n.ERR_UNAVAILRESOURCE]
    assert h.world.rooms.find("#old") is not None
    h.release_persists()
    heard = [(m.command, m.params[0]) for m in watcher.take() if m.command in ("PRIVMSG", "RENAME")]
    assert heard == [("PRIVMSG", "#old"), ("RENAME", "#old")]
    assert h.world.rooms.find("#new") is not None
    assert "366" in codes(squatter.cmd("JOIN #old"))  # redirected to the room's new name


def test_a_rename_the_database_refuses_leaves_the_room_as_it_was() -> None:
    h = Harness()
    founder = founded(h, room="#old")
    h.hold_persists = True
    founder.send("RENAME #old #new")
    h.release_persists(fail=True)
    said = founder.take()
    assert not [m for m in said if m.command == "RENAME"]
    assert any("#old was not renamed" in m.params[-1] for m in said if m.command == "NOTICE")
    assert h.world.rooms.find("#old") is not None
    assert h.world.rooms.find("#new") is None
    assert h.world.rooms.reserved == {}
    assert set(h.store.load().channels) == {"#old"}
