"""JOIN, PART, TOPIC, NAMES, LIST, INVITE and KICK through the core harness."""

from __future__ import annotations

import pytest

from chatroom.irc.message import Message
from chatroom.server.core.access import nick_change_refused
from chatroom.server.core.settings import CoreSettings, Limits
from chatroom.server.harness import Harness
from tests.server.support import codes, first, one, room


def names_of(msgs: list[Message]) -> list[str]:
    return [name for m in msgs if m.command == "353" for name in m.params[-1].split()]


# ----------------------------------------------------------------------------- JOIN


def test_join_creates_channel_and_first_joiner_gets_ops() -> None:
    h = Harness()
    alice = h.connect("alice")
    msgs = alice.cmd("JOIN #new")
    assert codes(msgs) == ["JOIN", "353", "366"]
    assert msgs[0].source == "alice!~alice@127.0.0.1"
    assert msgs[0].params == ("#new",)
    assert first(msgs, "353").params == ("alice", "=", "#new", "@alice")


@pytest.mark.parametrize(
    ("name", "code_point"),
    [
        ("#lob\u200bby", "U+200B"),  # zero-width space: looks exactly like #lobby
        ("#abc\u202e", "U+202E"),  # right-to-left override: reorders what follows
        ("#\x02bold", "U+0002"),  # IRC bold
        ("#\x0304red", "U+0003"),  # IRC colour
        ("#\x1b[2J", "U+001B"),  # an escape sequence for everyone's terminal
        ("#a\u00a0b", "U+00A0"),  # no-break space
    ],
)
def test_join_refuses_room_names_with_invisible_or_control_characters(
    name: str, code_point: str
) -> None:
    h = Harness()
    alice = h.connect("alice")
    reply = one(alice.cmd(f"JOIN {name}"), "479")
    assert reply.params[1] == name
    assert code_point in reply.params[2]
    assert h.world.rooms.find(name) is None


def test_join_accepts_room_names_in_any_script() -> None:
    h = Harness()
    alice = h.connect("alice")
    assert codes(alice.cmd("JOIN #café-日本語")) == ["JOIN", "353", "366"]


def test_new_channel_defaults_to_no_external_and_topic_lock() -> None:
    h = Harness()
    (alice,) = room(h, "alice")
    assert first(alice.cmd("MODE #room"), "324").params[2] == "+nt"


def test_join_is_seen_by_every_member_including_the_joiner() -> None:
    h = Harness()
    (alice,) = room(h, "alice")
    bob = h.connect("bob")
    bob.send("JOIN #room")
    assert first(alice.take(), "JOIN").source == "bob!~bob@127.0.0.1"
    assert "JOIN" in codes(bob.take())


def test_second_joiner_gets_no_ops() -> None:
    h = Harness()
    _alice, bob = room(h, "alice", "bob")
    assert names_of(bob.cmd("NAMES #room")) == ["@alice", "bob"]


def test_permanent_channel_never_gives_ops_and_never_vanishes() -> None:
    h = Harness()
    alice = h.connect("alice")
    assert first(alice.cmd("JOIN #lobby"), "353").params[-1] == "alice"
    alice.cmd("PART #lobby")
    assert h.world.rooms.find("#lobby") is not None


def test_empty_channel_disappears_after_last_part() -> None:
    h = Harness()
    (alice,) = room(h, "alice")
    alice.cmd("PART #room")
    assert h.world.rooms.find("#room") is None


def test_join_several_channels_with_keys() -> None:
    h = Harness()
    alice, bob = h.connect("alice"), h.connect("bob")
    alice.send("JOIN #a,#b", "MODE #a +k sesame", "MODE #b +k door")
    msgs = bob.cmd("JOIN #a,#b sesame,door")
    assert [m.params[0] for m in msgs if m.command == "JOIN"] == ["#a", "#b"]


def test_joining_a_channel_twice_is_silently_ignored() -> None:
    h = Harness()
    (alice,) = room(h, "alice")
    assert alice.cmd("JOIN #room") == []


def test_join_without_hash_is_no_such_channel() -> None:
    """403 ERR_NOSUCHCHANNEL: the name is not a channel name at all."""
    h = Harness()
    msgs = h.connect("alice").cmd("JOIN room")
    assert first(msgs, "403").params[1] == "room"


def test_join_too_long_name_is_no_such_channel() -> None:
    """modern docs (CHANNELLEN) and irctest: a name past the limit is 403, not 479."""
    h = Harness(CoreSettings(limits=Limits(channel_length=10)))
    msgs = h.connect("alice").cmd("JOIN #abcdefghijk")
    assert codes(msgs) == ["403"]


def test_one_bad_name_does_not_stop_the_others() -> None:
    h = Harness()
    msgs = h.connect("alice").cmd("JOIN bad,#good")
    assert codes(msgs) == ["403", "JOIN", "353", "366"]


def test_too_many_channels() -> None:
    """405 ERR_TOOMANYCHANNELS once CHANLIMIT is reached."""
    h = Harness(CoreSettings(limits=Limits(channels_per_user=2)))
    msgs = h.connect("alice").cmd("JOIN #a,#b,#c")
    assert first(msgs, "405").params[1] == "#c"
    assert codes(msgs).count("JOIN") == 2


def test_join_needs_the_key() -> None:
    h = Harness()
    (alice,) = room(h, "alice")
    alice.cmd("MODE #room +k sesame")
    bob = h.connect("bob")
    assert first(bob.cmd("JOIN #room wrong"), "475").params[1] == "#room"
    assert "JOIN" in codes(bob.cmd("JOIN #room sesame"))


def test_join_refused_when_full() -> None:
    h = Harness()
    alice, _bob = room(h, "alice", "bob")
    alice.cmd("MODE #room +l 2")
    assert codes(h.connect("carol").cmd("JOIN #room")) == ["471"]


def test_invite_only_needs_an_invite() -> None:
    h = Harness()
    (alice,) = room(h, "alice")
    alice.cmd("MODE #room +i")
    bob = h.connect("bob")
    assert codes(bob.cmd("JOIN #room")) == ["473"]
    alice.cmd("INVITE bob #room")
    assert "JOIN" in codes(bob.cmd("JOIN #room"))


def test_invite_is_consumed_by_joining() -> None:
    h = Harness()
    alice, bob = room(h, "alice", "bob")
    alice.cmd("MODE #room +i")
    bob.cmd("PART #room")
    alice.cmd("INVITE bob #room")
    bob.cmd("JOIN #room")
    bob.cmd("PART #room")
    assert codes(bob.cmd("JOIN #room")) == ["473"]


def test_invite_exception_lets_matching_user_past_invite_only() -> None:
    h = Harness()
    (alice,) = room(h, "alice")
    alice.cmd("MODE #room +iI bob!*@*")
    assert "JOIN" in codes(h.connect("bob").cmd("JOIN #room"))
    assert codes(h.connect("carol").cmd("JOIN #room")) == ["473"]


def test_banned_user_cannot_join_unless_excepted() -> None:
    h = Harness()
    (alice,) = room(h, "alice")
    alice.cmd("MODE #room +b *!*@127.0.0.1")
    assert codes(h.connect("bob").cmd("JOIN #room")) == ["474"]
    alice.cmd("MODE #room +e carol")
    assert "JOIN" in codes(h.connect("carol").cmd("JOIN #room"))


def test_ban_matches_case_insensitively() -> None:
    h = Harness()
    (alice,) = room(h, "alice")
    alice.cmd("MODE #room +b BOB")
    assert codes(h.connect("bob").cmd("JOIN #room")) == ["474"]


def test_ban_matches_the_ip_when_the_host_differs() -> None:
    h = Harness()
    (alice,) = room(h, "alice")
    alice.cmd("MODE #room +b *!*@10.0.0.9")
    bob = h.connect("bob", ip="10.0.0.9")
    bob.session.owner.host = "bob.example"
    assert codes(bob.cmd("JOIN #room")) == ["474"]


def test_account_extban_matches_the_account() -> None:
    h = Harness()
    (alice,) = room(h, "alice")
    alice.cmd("MODE #room +b a:troll*")
    bob, carol = h.connect("bob"), h.connect("carol")
    bob.session.account = "Trollface"
    assert codes(bob.cmd("JOIN #room")) == ["474"]
    assert "JOIN" in codes(carol.cmd("JOIN #room"))


def test_invite_bypasses_the_ban() -> None:
    """InspIRCd's default: an invitation overrides +b, +k and +l."""
    h = Harness()
    (alice,) = room(h, "alice")
    bob = h.connect("bob")
    alice.cmd("MODE #room +bk bob secret")
    alice.cmd("INVITE bob #room")
    assert "JOIN" in codes(bob.cmd("JOIN #room"))


def test_join_sends_topic_then_names() -> None:
    h = Harness()
    (alice,) = room(h, "alice")
    alice.cmd("TOPIC #room :Hello world")
    msgs = h.connect("bob").cmd("JOIN #room")
    assert codes(msgs) == ["JOIN", "332", "333", "353", "366"]
    assert first(msgs, "332").params[2] == "Hello world"
    assert first(msgs, "333").params[2] == "alice!~alice@127.0.0.1"


def test_join_zero_parts_every_channel() -> None:
    h = Harness()
    alice = h.connect("alice")
    alice.cmd("JOIN #a,#b")
    msgs = alice.cmd("JOIN 0")
    assert sorted(m.params[0] for m in msgs if m.command == "PART") == ["#a", "#b"]
    assert alice.session.channels == {}


# ----------------------------------------------------------------------------- PART


def test_part_reaches_every_member_with_the_reason() -> None:
    h = Harness()
    alice, bob = room(h, "alice", "bob")
    msgs = bob.cmd("PART #room :bye now")
    assert first(msgs, "PART").params == ("#room", "bye now")
    assert first(alice.take(), "PART").source == "bob!~bob@127.0.0.1"


def test_part_unknown_channel_is_403() -> None:
    h = Harness()
    assert codes(h.connect("alice").cmd("PART #nowhere")) == ["403"]


def test_part_channel_you_are_not_in_is_442() -> None:
    h = Harness()
    room(h, "alice")
    assert codes(h.connect("bob").cmd("PART #room")) == ["442"]


# ----------------------------------------------------------------------------- TOPIC


def test_topic_query_without_topic_is_331() -> None:
    h = Harness()
    (alice,) = room(h, "alice")
    assert codes(alice.cmd("TOPIC #room")) == ["331"]


def test_topic_set_is_broadcast_and_queryable() -> None:
    h = Harness()
    alice, bob = room(h, "alice", "bob")
    alice.cmd("TOPIC #room :News")
    assert first(bob.take(), "TOPIC").params == ("#room", "News")
    assert codes(bob.cmd("TOPIC #room")) == ["332", "333"]


def test_topic_lock_needs_ops() -> None:
    """482 ERR_CHANOPRIVSNEEDED: +t lets only operators change the topic."""
    h = Harness()
    alice, bob = room(h, "alice", "bob")
    assert codes(bob.cmd("TOPIC #room :mine")) == ["482"]
    alice.cmd("MODE #room -t")
    assert codes(bob.cmd("TOPIC #room :mine")) == ["TOPIC"]


def test_topic_set_from_outside_is_442() -> None:
    h = Harness()
    room(h, "alice")
    assert codes(h.connect("bob").cmd("TOPIC #room :x")) == ["442"]


def test_topic_query_of_secret_channel_from_outside_is_442() -> None:
    h = Harness()
    (alice,) = room(h, "alice")
    alice.cmd("TOPIC #room :hidden")
    bob = h.connect("bob")
    assert codes(bob.cmd("TOPIC #room")) == ["332", "333"]
    alice.cmd("MODE #room +s")
    assert codes(bob.cmd("TOPIC #room")) == ["442"]


def test_topic_is_truncated_to_topiclen() -> None:
    h = Harness(CoreSettings(limits=Limits(topic_length=5)))
    (alice,) = room(h, "alice")
    assert first(alice.cmd("TOPIC #room :abcdefgh"), "TOPIC").params[1] == "abcde"


def test_topic_on_unknown_channel_is_403() -> None:
    h = Harness()
    assert codes(h.connect("alice").cmd("TOPIC #nope")) == ["403"]


# ----------------------------------------------------------------------------- NAMES


def test_names_multi_prefix_shows_every_prefix() -> None:
    h = Harness()
    (alice,) = room(h, "alice")
    alice.cmd("MODE #room +v alice")
    carol = h.connect("carol", caps=["multi-prefix"])
    assert names_of(carol.cmd("NAMES #room")) == ["@+alice"]
    assert names_of(alice.cmd("NAMES #room")) == ["@alice"]


def test_names_userhost_in_names_shows_full_prefix() -> None:
    h = Harness()
    room(h, "alice")
    carol = h.connect("carol", caps=["userhost-in-names"])
    assert names_of(carol.cmd("NAMES #room")) == ["@alice!~alice@127.0.0.1"]


def test_names_of_secret_channel_from_outside_is_only_366() -> None:
    h = Harness()
    (alice,) = room(h, "alice")
    alice.cmd("MODE #room +s")
    assert first(alice.cmd("NAMES #room"), "353").params[1] == "@"
    assert codes(h.connect("bob").cmd("NAMES #room")) == ["366"]


def test_names_hides_invisible_users_from_outsiders() -> None:
    h = Harness()
    alice, bob = room(h, "alice", "bob")
    bob.cmd("MODE bob +i")
    assert names_of(h.connect("carol").cmd("NAMES #room")) == ["@alice"]
    assert names_of(alice.cmd("NAMES #room")) == ["@alice", "bob"]


def test_names_splits_long_replies_under_512_bytes() -> None:
    h = Harness()
    nicks = [f"user{i:02d}_padding_nick" for i in range(60)]
    room(h, *nicks)
    viewer = h.connect("viewer", caps=["userhost-in-names"])
    viewer.send("NAMES #room")
    raw = list(viewer.inbox)
    msgs = viewer.take()
    assert codes(msgs).count("353") > 1
    assert all(len(line) <= 512 for line in raw)
    assert len(names_of(msgs)) == 60
    assert codes(msgs)[-1] == "366"


def test_names_without_parameters_ends_with_star() -> None:
    h = Harness()
    assert first(h.connect("alice").cmd("NAMES"), "366").params[1] == "*"


def test_names_of_unknown_channel_is_only_366() -> None:
    h = Harness()
    assert codes(h.connect("alice").cmd("NAMES #ghost")) == ["366"]


# ----------------------------------------------------------------------------- LIST


def test_list_shows_channels_with_counts_and_topics() -> None:
    h = Harness()
    alice, _bob = room(h, "alice", "bob")
    alice.cmd("TOPIC #room :chat here")
    msgs = h.connect("carol").cmd("LIST")
    assert codes(msgs)[0] == "321"
    assert codes(msgs)[-1] == "323"
    entry = next(m for m in msgs if m.command == "322" and m.params[1] == "#room")
    assert entry.params[2:] == ("2", "chat here")


def test_list_hides_secret_channels_from_outsiders() -> None:
    h = Harness()
    (alice,) = room(h, "alice")
    alice.cmd("MODE #room +s")
    listed = [m.params[1] for m in h.connect("bob").cmd("LIST") if m.command == "322"]
    assert "#room" not in listed
    assert "#room" in [m.params[1] for m in alice.cmd("LIST") if m.command == "322"]


def test_list_named_channels_only() -> None:
    h = Harness()
    room(h, "alice")
    msgs = h.connect("bob").cmd("LIST #room,#ghost")
    assert [m.params[1] for m in msgs if m.command == "322"] == ["#room"]


def test_list_elist_user_count_filters() -> None:
    """ELIST=U: ``>n`` lists rooms with more than n users, ``<n`` fewer than n."""
    h = Harness()
    _alice, bob = room(h, "alice", "bob", chan="#big")
    bob.cmd("JOIN #small")
    big = [m.params[1] for m in bob.cmd("LIST >1") if m.command == "322"]
    small = [m.params[1] for m in bob.cmd("LIST <2,>0") if m.command == "322"]
    assert big == ["#big"]
    assert small == ["#small"]


# ----------------------------------------------------------------------------- INVITE


def test_invite_reaches_target_and_confirms_with_341() -> None:
    h = Harness()
    (alice,) = room(h, "alice")
    bob = h.connect("bob")
    assert first(alice.cmd("INVITE bob #room"), "341").params[1:] == ("bob", "#room")
    invite = first(bob.take(), "INVITE")
    assert invite.source == "alice!~alice@127.0.0.1"
    assert invite.params == ("bob", "#room")


def test_invite_errors() -> None:
    """401 no such nick, 403 no such channel, 442 not on it, 443 already there."""
    h = Harness()
    alice, _bob = room(h, "alice", "bob")
    carol = h.connect("carol")
    assert codes(alice.cmd("INVITE nobody #room")) == ["401"]
    assert codes(alice.cmd("INVITE carol #ghost")) == ["403"]
    assert codes(carol.cmd("INVITE alice #room")) == ["442"]
    assert codes(alice.cmd("INVITE bob #room")) == ["443"]


def test_invite_to_invite_only_channel_needs_ops() -> None:
    h = Harness()
    alice, bob = room(h, "alice", "bob")
    h.connect("carol")
    alice.cmd("MODE #room +i")
    assert codes(bob.cmd("INVITE carol #room")) == ["482"]


def test_invite_notify_tells_ops_on_invite_only_channel() -> None:
    """IRCv3 invite-notify: members with the cap who may invite see the INVITE."""
    h = Harness()
    alice = h.connect("alice")
    watcher = h.connect("watcher", caps=["invite-notify"])
    plain = h.connect("plain", caps=["invite-notify"])
    h.connect("carol")
    alice.send("JOIN #room")
    watcher.send("JOIN #room")
    plain.send("JOIN #room")
    alice.send("MODE #room +io watcher")
    watcher.take()
    plain.take()
    alice.cmd("INVITE carol #room")
    assert first(watcher.take(), "INVITE").params == ("carol", "#room")
    assert plain.take() == []


def test_invite_without_params_lists_pending_invites() -> None:
    h = Harness()
    (alice,) = room(h, "alice")
    bob = h.connect("bob")
    alice.cmd("INVITE bob #room")
    msgs = bob.cmd("INVITE")
    assert codes(msgs) == ["336", "337"]
    assert msgs[0].params[1] == "#room"


# ----------------------------------------------------------------------------- KICK


def test_kick_is_broadcast_then_removes_the_target() -> None:
    h = Harness()
    alice, bob, carol = room(h, "alice", "bob", "carol")
    alice.cmd("KICK #room bob :behave")
    kick = first(bob.take(), "KICK")
    assert kick.params == ("#room", "bob", "behave")
    assert "KICK" in codes(carol.take())
    assert bob.session.channels == {}


def test_kick_default_reason_is_kickers_nick() -> None:
    h = Harness()
    alice, _bob = room(h, "alice", "bob")
    assert first(alice.cmd("KICK #room bob"), "KICK").params[2] == "alice"


def test_kick_reason_truncated_to_kicklen() -> None:
    h = Harness(CoreSettings(limits=Limits(kick_length=3)))
    alice, _bob = room(h, "alice", "bob")
    assert first(alice.cmd("KICK #room bob :goodbye"), "KICK").params[2] == "goo"


def test_kick_needs_ops() -> None:
    h = Harness()
    _alice, bob = room(h, "alice", "bob")
    assert codes(bob.cmd("KICK #room alice")) == ["482"]


def test_kick_errors() -> None:
    """403 no such channel, 442 kicker not in it, 441 target not in it."""
    h = Harness()
    (alice,) = room(h, "alice")
    bob = h.connect("bob")
    assert codes(alice.cmd("KICK #ghost bob")) == ["403"]
    assert codes(bob.cmd("KICK #room alice")) == ["442"]
    assert codes(alice.cmd("KICK #room bob")) == ["441"]


def test_kick_several_nicks() -> None:
    h = Harness()
    alice, _bob, _carol = room(h, "alice", "bob", "carol")
    msgs = alice.cmd("KICK #room bob,carol")
    assert [m.params[1] for m in msgs if m.command == "KICK"] == ["bob", "carol"]


# ----------------------------------------------------------------------------- NICK helper


def test_banned_member_is_refused_a_nick_change() -> None:
    """InspIRCd 435 ERR_BANONCHAN: a banned member cannot dodge the ban by renaming."""
    h = Harness()
    alice, bob = room(h, "alice", "bob")
    alice.cmd("MODE #room +b bob")
    refusal = nick_change_refused(h.world, bob.session, "bobby")
    assert refusal is not None
    assert refusal[0] == "#room"
    alice.cmd("MODE #room +v bob")
    assert nick_change_refused(h.world, bob.session, "bobby") is None
