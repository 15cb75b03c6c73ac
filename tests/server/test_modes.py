"""MODE for rooms and users, and the speaking rules of access.cannot_speak."""

from __future__ import annotations

from chatroom.irc.message import Message
from chatroom.server.core.access import cannot_speak
from chatroom.server.core.settings import CoreSettings, Limits
from chatroom.server.harness import Harness, SimClient
from tests.server.support import codes, first, room


def mode_line(msgs: list[Message]) -> tuple[str, ...]:
    return first(msgs, "MODE").params


def speak_refusal(h: Harness, client: SimClient, chan: str = "#room") -> str | None:
    channel = h.world.rooms.find(chan)
    assert channel is not None
    return cannot_speak(h.world, channel, client.session)


# ----------------------------------------------------------------------------- queries


def test_mode_query_gives_324_and_329() -> None:
    h = Harness()
    (alice,) = room(h, "alice")
    msgs = alice.cmd("MODE #room")
    assert codes(msgs) == ["324", "329"]
    assert msgs[0].params[1:] == ("#room", "+nt")
    assert msgs[1].params[2] == str(int(h.clock.now))


def test_key_is_shown_only_to_members() -> None:
    """RPL_CHANNELMODEIS: servers hide the key from those outside the channel."""
    h = Harness()
    (alice,) = room(h, "alice")
    alice.cmd("MODE #room +kl sesame 10")
    assert first(alice.cmd("MODE #room"), "324").params[2:] == ("+ntkl", "sesame", "10")
    outsider = h.connect("bob")
    assert first(outsider.cmd("MODE #room"), "324").params[2:] == ("+ntkl", "*", "10")


def test_mode_on_unknown_channel_is_403() -> None:
    h = Harness()
    assert codes(h.connect("alice").cmd("MODE #nosuch")) == ["403"]


def test_mode_on_unknown_nick_is_401() -> None:
    h = Harness()
    assert codes(h.connect("alice").cmd("MODE nosuch")) == ["401"]


# ----------------------------------------------------------------------------- flags


def test_op_sets_flags_broadcast_in_one_line() -> None:
    h = Harness()
    alice, bob = room(h, "alice", "bob")
    alice.cmd("MODE #room +ims-t")
    msg = first(bob.take(), "MODE")
    assert msg.source == "alice!~alice@127.0.0.1"
    assert msg.params == ("#room", "+ims-t")


def test_unchanged_modes_are_not_broadcast() -> None:
    h = Harness()
    (alice,) = room(h, "alice")
    assert alice.cmd("MODE #room +nt") == []
    assert mode_line(alice.cmd("MODE #room +nm")) == ("#room", "+m")


def test_setting_modes_needs_ops() -> None:
    """482 ERR_CHANOPRIVSNEEDED, once per command."""
    h = Harness()
    _alice, bob = room(h, "alice", "bob")
    msgs = bob.cmd("MODE #room +im")
    assert codes(msgs) == ["482"]


def test_non_member_cannot_set_modes() -> None:
    h = Harness()
    room(h, "alice")
    assert codes(h.connect("bob").cmd("MODE #room +m")) == ["482"]


def test_unknown_channel_mode_is_472_and_valid_changes_apply() -> None:
    h = Harness()
    (alice,) = room(h, "alice")
    msgs = alice.cmd("MODE #room +Zm")
    assert first(msgs, "472").params[1] == "Z"
    assert mode_line(msgs) == ("#room", "+m")


# ----------------------------------------------------------------------------- key and limit


def test_key_set_and_removed() -> None:
    h = Harness()
    (alice,) = room(h, "alice")
    assert mode_line(alice.cmd("MODE #room +k sesame")) == ("#room", "+k", "sesame")
    assert mode_line(alice.cmd("MODE #room -k")) == ("#room", "-k", "*")
    channel = h.world.rooms.find("#room")
    assert channel is not None
    assert channel.key is None


def test_key_with_space_is_525() -> None:
    """525 ERR_INVALIDKEY: a key with a space could never be sent in JOIN."""
    h = Harness()
    (alice,) = room(h, "alice")
    assert codes(alice.cmd("MODE #room +k :two words")) == ["525"]


def test_key_without_parameter_is_696() -> None:
    h = Harness()
    (alice,) = room(h, "alice")
    msgs = alice.cmd("MODE #room +k")
    assert codes(msgs) == ["696"]
    assert msgs[0].params[1:4] == ("#room", "k", "*")


def test_limit_set_and_removed() -> None:
    h = Harness()
    (alice,) = room(h, "alice")
    assert mode_line(alice.cmd("MODE #room +l 5")) == ("#room", "+l", "5")
    assert mode_line(alice.cmd("MODE #room -l")) == ("#room", "-l")


def test_invalid_limit_is_696() -> None:
    """696 ERR_INVALIDMODEPARAM <target> <mode char> <parameter> :<description>."""
    h = Harness()
    (alice,) = room(h, "alice")
    msgs = alice.cmd("MODE #room +l many")
    assert codes(msgs) == ["696"]
    assert msgs[0].params[1:4] == ("#room", "l", "many")
    assert codes(alice.cmd("MODE #room +l 0")) == ["696"]


# ----------------------------------------------------------------------------- ops and voice


def test_op_and_voice_are_granted_and_shown_in_names() -> None:
    h = Harness()
    alice, bob = room(h, "alice", "bob")
    assert mode_line(alice.cmd("MODE #room +v bob")) == ("#room", "+v", "bob")
    assert first(bob.take(), "MODE").params == ("#room", "+v", "bob")
    alice.cmd("MODE #room +o bob")
    channel = h.world.rooms.find("#room")
    assert channel is not None
    assert channel.status(bob.session.owner) == "ov"


def test_status_target_uses_canonical_nick() -> None:
    h = Harness()
    alice, _bob = room(h, "alice", "Bob")
    assert mode_line(alice.cmd("MODE #room +o BOB")) == ("#room", "+o", "Bob")


def test_status_target_not_in_channel_is_441() -> None:
    h = Harness()
    (alice,) = room(h, "alice")
    h.connect("bob")
    assert codes(alice.cmd("MODE #room +o bob")) == ["441"]


def test_status_target_unknown_is_401() -> None:
    h = Harness()
    (alice,) = room(h, "alice")
    assert codes(alice.cmd("MODE #room +v ghost")) == ["401"]


def test_deop_takes_away_op_powers() -> None:
    h = Harness()
    alice, bob = room(h, "alice", "bob")
    alice.cmd("MODE #room +o bob")
    bob.cmd("MODE #room -o alice")
    assert codes(alice.cmd("MODE #room +m")) == ["482"]


def test_param_changes_beyond_modes_limit_are_ignored() -> None:
    """ISUPPORT MODES: at most that many parameter-taking changes per command."""
    h = Harness(CoreSettings(limits=Limits(modes_per_command=2)))
    alice, _bob, _carol = room(h, "alice", "bob", "carol")
    msgs = alice.cmd("MODE #room +vvvm bob carol alice")
    assert mode_line(msgs) == ("#room", "+vvm", "bob", "carol")


# ----------------------------------------------------------------------------- lists


def test_ban_list_query_is_367_then_368() -> None:
    h = Harness()
    (alice,) = room(h, "alice")
    alice.cmd("MODE #room +b troll")
    h.clock.advance(5)
    msgs = alice.cmd("MODE #room +b")
    assert codes(msgs) == ["367", "368"]
    assert msgs[0].params[1:] == ("#room", "troll!*@*", "alice!~alice@127.0.0.1", "1800000000")


def test_list_queries_need_no_ops() -> None:
    h = Harness()
    _alice, bob = room(h, "alice", "bob")
    assert codes(bob.cmd("MODE #room b")) == ["368"]
    assert codes(bob.cmd("MODE #room e")) == ["349"]
    assert codes(bob.cmd("MODE #room I")) == ["347"]


def test_quiet_list_uses_q_parameter() -> None:
    """Solanum/InspIRCd: 728 <client> <channel> q <mask> <setter> <ts>; 729 ends it."""
    h = Harness()
    (alice,) = room(h, "alice")
    alice.cmd("MODE #room +q noisy")
    msgs = alice.cmd("MODE #room q")
    assert codes(msgs) == ["728", "729"]
    assert msgs[0].params[1:4] == ("#room", "q", "noisy!*@*")
    assert msgs[1].params[1:3] == ("#room", "q")


def test_exception_and_invex_lists() -> None:
    h = Harness()
    (alice,) = room(h, "alice")
    alice.cmd("MODE #room +eI friend@* *!*@good.host")
    assert first(alice.cmd("MODE #room e"), "348").params[2] == "*!friend@*"
    assert first(alice.cmd("MODE #room I"), "346").params[2] == "*!*@good.host"


def test_mask_is_normalized_and_duplicates_ignored() -> None:
    h = Harness()
    (alice,) = room(h, "alice")
    assert mode_line(alice.cmd("MODE #room +b spam")) == ("#room", "+b", "spam!*@*")
    assert alice.cmd("MODE #room +b SPAM!*@*") == []


def test_removing_a_ban_broadcasts_the_stored_mask() -> None:
    h = Harness()
    (alice,) = room(h, "alice")
    alice.cmd("MODE #room +b spam")
    assert mode_line(alice.cmd("MODE #room -b SPAM")) == ("#room", "-b", "spam!*@*")
    assert alice.cmd("MODE #room -b spam") == []


def test_list_full_is_478() -> None:
    h = Harness(CoreSettings(limits=Limits(list_entries=1)))
    (alice,) = room(h, "alice")
    alice.cmd("MODE #room +b one")
    msgs = alice.cmd("MODE #room +b two")
    assert codes(msgs) == ["478"]
    assert msgs[0].params[1:3] == ("#room", "b")


def test_non_op_list_change_is_482() -> None:
    h = Harness()
    _alice, bob = room(h, "alice", "bob")
    assert codes(bob.cmd("MODE #room +b x")) == ["482"]


# ----------------------------------------------------------------------------- speaking


def test_moderated_channel_silences_plain_members() -> None:
    h = Harness()
    alice, bob = room(h, "alice", "bob")
    alice.cmd("MODE #room +m")
    assert speak_refusal(h, bob) == "Cannot send to channel (+m)"
    alice.cmd("MODE #room +v bob")
    assert speak_refusal(h, bob) is None


def test_no_external_messages() -> None:
    h = Harness()
    (alice,) = room(h, "alice")
    outsider = h.connect("bob")
    assert speak_refusal(h, outsider) == "Cannot send to channel (no external messages)"
    alice.cmd("MODE #room -n")
    assert speak_refusal(h, outsider) is None


def test_quieted_member_cannot_speak_unless_excepted_or_voiced() -> None:
    h = Harness()
    alice, bob = room(h, "alice", "bob")
    alice.cmd("MODE #room +q bob")
    assert speak_refusal(h, bob) == "Cannot send to channel (+q)"
    alice.cmd("MODE #room +e bob")
    assert speak_refusal(h, bob) is None
    alice.cmd("MODE #room -e bob")
    alice.cmd("MODE #room +v bob")
    assert speak_refusal(h, bob) is None


def test_banned_member_cannot_speak() -> None:
    h = Harness()
    alice, bob = room(h, "alice", "bob")
    alice.cmd("MODE #room +b bob")
    assert speak_refusal(h, bob) == "Cannot send to channel (you're banned)"
    assert speak_refusal(h, alice) is None


# ----------------------------------------------------------------------------- user modes


def test_user_mode_query_is_221() -> None:
    h = Harness()
    alice = h.connect("alice")
    alice.cmd("MODE alice +iw")
    assert first(alice.cmd("MODE alice"), "221").params[1] == "+iw"


def test_user_mode_change_is_echoed() -> None:
    h = Harness()
    alice = h.connect("alice")
    msg = first(alice.cmd("MODE alice +iB"), "MODE")
    assert msg.params == ("alice", "+iB")
    assert first(alice.cmd("MODE alice -i"), "MODE").params == ("alice", "-i")


def test_user_cannot_make_themself_oper() -> None:
    h = Harness()
    alice = h.connect("alice")
    assert alice.cmd("MODE alice +o") == []
    assert "o" not in alice.session.modes


def test_oper_may_deoper() -> None:
    h = Harness()
    alice = h.connect("alice")
    alice.session.owner.set_mode("o", True)
    assert first(alice.cmd("MODE alice -o"), "MODE").params == ("alice", "-o")
    assert "o" not in alice.session.modes


def test_unknown_user_mode_is_501() -> None:
    h = Harness()
    alice = h.connect("alice")
    msgs = alice.cmd("MODE alice +iZ")
    assert "501" in codes(msgs)
    assert "i" in alice.session.modes


def test_other_users_modes_are_502() -> None:
    h = Harness()
    alice = h.connect("alice")
    h.connect("bob")
    assert codes(alice.cmd("MODE bob +i")) == ["502"]
    assert codes(alice.cmd("MODE bob")) == ["502"]
