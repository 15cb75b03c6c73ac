"""Where ChatRoom once strayed from the IRC specifications (issue 12, section 2), through
the core harness. Each test quotes the rule it pins; the same behaviours are checked over
real sockets in tests/integration/test_conformance_over_sockets.py.
"""

from __future__ import annotations

from dataclasses import replace

from chatroom.irc import numerics as n
from chatroom.server.core.history import format_time
from chatroom.server.core.settings import CoreSettings, Limits
from chatroom.server.harness import Harness, SimClient
from tests.server.support import codes, one, room

PASSWORD = "correct-horse"
SETTINGS = CoreSettings(
    limits=Limits(connections_per_address=100_000, connects_per_address_per_minute=100_000)
)


def _body_size(line: bytes) -> int:
    """Bytes of a line outside its tags, CRLF included: what the 512-byte limit counts."""
    if line.startswith(b"@"):
        line = line[line.index(b" ") + 1 :]
    return len(line)


def _logged_in(h: Harness, nick: str, *caps: str, account: str | None = None) -> SimClient:
    """A client with ``caps`` logged in (NickServ IDENTIFY) to ``account`` (default: nick)."""
    name = account or nick
    if h.world.fold(name) not in h.world.accounts:
        h.add_account(name, PASSWORD)
    client = h.connect(nick, caps=caps)
    client.cmd(f"PRIVMSG NickServ :IDENTIFY {name} {PASSWORD}")
    assert client.session.account == name
    return client


# ----------------------------------------------------------------------------- 421


def test_a_command_word_that_is_not_alphanumeric_gets_421() -> None:
    """modern.ircdocs.horse: an unknown command is answered with ERR_UNKNOWNCOMMAND."""
    h = Harness()
    alice = h.connect("alice")
    for word in ("NONEXISTENT_COMMAND", "FOO-BAR"):
        reply = one(alice.cmd(f"{word} x y"), n.ERR_UNKNOWNCOMMAND)
        assert reply.params == ("alice", word, "Unknown command")


def test_a_labeled_unknown_command_gets_its_421_labeled() -> None:
    h = Harness()
    alice = h.connect("alice", caps=["labeled-response", "batch"])
    (reply,) = alice.cmd("@label=q1 FOO-BAR")
    assert reply.command == n.ERR_UNKNOWNCOMMAND
    assert reply.tags["label"] == "q1"


# ----------------------------------------------------------------------------- echo-message


def test_a_message_to_oneself_comes_back_twice_with_echo_message() -> None:
    """IRCv3 echo-message and labeled-response: the echo is the labeled answer; the
    delivery is a side effect and MUST NOT carry the label."""
    h = Harness()
    alice = h.connect("alice", caps=["echo-message", "labeled-response", "message-tags"])
    got = alice.cmd("@label=me1 PRIVMSG alice :note to self")
    copies = [m for m in got if m.command == "PRIVMSG"]
    assert [m.params for m in copies] == [("alice", "note to self")] * 2
    assert sorted(m.tags.get("label", "") for m in copies) == ["", "me1"]
    assert copies[0].tags["msgid"] == copies[1].tags["msgid"]


def test_notice_and_tagmsg_to_oneself_also_come_back_twice() -> None:
    h = Harness()
    alice = h.connect("alice", caps=["echo-message", "message-tags"])
    assert codes(alice.cmd("NOTICE alice :memo")) == ["NOTICE", "NOTICE"]
    assert codes(alice.cmd("@+typing=active TAGMSG alice")) == ["TAGMSG", "TAGMSG"]


def test_without_echo_message_a_message_to_oneself_comes_once_and_unlabeled() -> None:
    h = Harness()
    alice = h.connect("alice", caps=["labeled-response", "batch"])
    got = alice.cmd("@label=me2 PRIVMSG alice :hi me")
    assert [(m.command, m.tags.get("label")) for m in got] == [("PRIVMSG", None), ("ACK", "me2")]


# ----------------------------------------------------------------------------- tag limits


def _tags_of_size(size: int) -> str:
    """A client tag section (without ``@`` and space) of exactly ``size`` bytes."""
    return "+big=" + "x" * (size - len("+big="))


def test_client_tag_data_over_4094_bytes_gets_417_and_is_not_relayed() -> None:
    """IRCv3 message-tags: clients MUST NOT send more than 4094 bytes of tag data; servers
    MUST reply with ERR_INPUTTOOLONG and MUST NOT truncate the tags."""
    h = Harness()
    alice, bob = (h.connect(nick, caps=["message-tags"]) for nick in ("alice", "bob"))
    for c in (alice, bob):
        c.cmd("JOIN #lobby")
    bob.take()
    refused = alice.cmd(f"@{_tags_of_size(4095)} PRIVMSG #lobby :hello")
    assert codes(refused) == [n.ERR_INPUTTOOLONG]
    assert bob.take() == []
    alice.cmd(f"@{_tags_of_size(4094)} PRIVMSG #lobby :hello")
    (relayed,) = bob.take()
    assert len(relayed.tags["+big"]) == 4094 - len("+big=")


def test_a_whole_tag_section_over_8191_bytes_gets_417() -> None:
    h = Harness()
    alice = h.connect("alice", caps=["message-tags"])
    assert codes(alice.cmd(f"@{_tags_of_size(8200)} PING x")) == [n.ERR_INPUTTOOLONG]


# ----------------------------------------------------------------------------- 512 bytes


def test_a_relayed_message_is_cut_to_512_bytes_at_a_character_boundary() -> None:
    """RFC 1459 2.3: a message is at most 512 bytes. A 510-byte PRIVMSG from a client is
    longer once its nick!user@host is put in front: the text is cut (never mid-character),
    and the echo, every copy and the history hold the same cut text."""
    h = Harness()
    alice = h.connect("alice_with_a_long_nick", caps=["echo-message"])
    bob = h.connect("bob")
    for c in (alice, bob):
        c.cmd("JOIN #lobby")
    alice.take()
    text = "é" * ((510 - len("PRIVMSG #lobby :")) // 2)
    alice.send(f"PRIVMSG #lobby :{text}")
    (echo,) = alice.take()
    raw = bob.inbox[:]
    (seen,) = bob.take()
    assert _body_size(raw[0]) <= 512
    cut = seen.params[1]
    assert text.startswith(cut)
    assert cut == "é" * len(cut)
    assert len(cut) < len(text)
    assert echo.params[1] == cut
    assert h.history.lines["#lobby"][-1].text == cut


def test_a_private_message_and_a_long_quit_reason_stay_within_512_bytes() -> None:
    h = Harness()
    alice, bob = room(h, "alice", "bob")
    alice.send("PRIVMSG bob :" + "y" * (510 - len("PRIVMSG bob :")))
    alice.send("QUIT :" + "z" * (510 - len("QUIT :")))
    assert bob.inbox
    assert all(_body_size(line) <= 512 for line in bob.inbox)
    assert [m.command for m in bob.take()] == ["PRIVMSG", "QUIT"]


# ----------------------------------------------------------------------------- empty params


def test_mode_with_an_empty_argument_gets_696_without_an_empty_parameter() -> None:
    """A middle parameter is never empty: ``MODE #c +l :`` is a missing limit."""
    h = Harness()
    (alice,) = room(h, "alice")
    alice.send("MODE #room +l :")
    raw = alice.inbox[:]
    reply = one(alice.take(), n.ERR_INVALIDMODEPARAM)
    assert reply.params[:4] == ("alice", "#room", "l", "*")
    assert b"  " not in raw[0]


def test_ban_with_an_empty_mask_lists_the_bans_and_bans_nobody() -> None:
    h = Harness()
    alice, bob = room(h, "alice", "bob")
    got = alice.cmd("MODE #room +b :")
    assert codes(got) == [n.RPL_ENDOFBANLIST]
    assert not h.world.rooms.find("#room").lists["b"]  # type: ignore[union-attr]
    assert bob.cmd("PRIVMSG #room :still here") == []


# ----------------------------------------------------------------------------- mute exception


def test_a_mute_exception_lets_its_holder_speak_through_a_mute() -> None:
    """InspIRCd's muteban: ``+b m:<mask>`` mutes, ``+e m:<mask>`` exempts from it (and
    from +q), without exempting from an ordinary ban."""
    h = Harness()
    alice, bob, carol = room(h, "alice", "bob", "carol")
    alice.cmd("MODE #room +b m:bob")
    alice.cmd("MODE #room +q carol")
    assert codes(bob.cmd("PRIVMSG #room :muted?")) == [n.ERR_CANNOTSENDTOCHAN]
    alice.cmd("MODE #room +e m:bob")
    alice.cmd("MODE #room +e m:carol")
    alice.take()
    assert bob.cmd("PRIVMSG #room :not any more") == []
    assert carol.cmd("PRIVMSG #room :me neither") == []
    assert [m.params[1] for m in alice.take()] == ["not any more", "me neither"]


def test_a_mute_exception_does_not_lift_a_ban() -> None:
    h = Harness()
    alice, bob = room(h, "alice", "bob")
    bob.cmd("PART #room")
    alice.cmd("MODE #room +b bob")
    alice.cmd("MODE #room +e m:bob")
    assert codes(bob.cmd("JOIN #room")) == [n.ERR_BANNEDFROMCHAN]


# ----------------------------------------------------------------------------- USER


def test_user_with_an_empty_real_name_gets_461() -> None:
    """modern.ircdocs.horse USER: an empty <realname> is answered with ERR_NEEDMOREPARAMS."""
    h = Harness()
    client = h.connect()
    client.send("NICK ann")
    reply = one(client.cmd("USER ann * * :"), n.ERR_NEEDMOREPARAMS)
    assert reply.params[1] == "USER"
    assert not client.session.registered


def test_user_name_without_usable_characters_gets_a_fallback_and_registers() -> None:
    h = Harness()
    client = h.connect()
    client.send("NICK ann")
    assert n.RPL_WELCOME in codes(client.cmd("USER 😀😀 0 * :Ann"))
    assert client.session.user == "~user"


# ----------------------------------------------------------------------------- KICK


def test_kick_with_as_many_rooms_as_nicks_kicks_them_in_pairs() -> None:
    """RFC 2812 3.2.8: ``KICK #a,#b bob,carol`` kicks bob from #a and carol from #b."""
    h = Harness()
    alice, bob, carol = (h.connect(nick) for nick in ("alice", "bob", "carol"))
    for c in (alice, bob, carol):
        c.send("JOIN #a,#b")
    got = alice.cmd("KICK #a,#b bob,carol :tidy up")
    kicks = [m.params for m in got if m.command == "KICK"]
    assert kicks == [("#a", "bob", "tidy up"), ("#b", "carol", "tidy up")]
    assert set(bob.session.channels) == {"#b"}
    assert set(carol.session.channels) == {"#a"}


def test_kick_with_mismatched_lists_gets_461_and_kicks_nobody() -> None:
    h = Harness()
    alice, bob, carol = (h.connect(nick) for nick in ("alice", "bob", "carol"))
    for c in (alice, bob, carol):
        c.send("JOIN #a,#b,#c")
    assert codes(alice.cmd("KICK #a,#b,#c bob,carol")) == [n.ERR_NEEDMOREPARAMS]
    assert len(bob.session.channels) == len(carol.session.channels) == 3


def test_kick_refused_in_one_room_still_kicks_in_the_other() -> None:
    h = Harness()
    alice, bob, carol = (h.connect(nick) for nick in ("alice", "bob", "carol"))
    bob.send("JOIN #b")  # bob holds ops in #b
    for c in (alice, bob, carol):
        c.send("JOIN #a,#b")
    got = alice.cmd("KICK #a,#b bob,carol")
    assert codes(got) == ["KICK", n.ERR_CHANOPRIVSNEEDED]
    assert "#b" in carol.session.channels


# ----------------------------------------------------------------------------- account-tag


def test_every_message_a_logged_in_user_originates_carries_account_tag() -> None:
    """IRCv3 account-tag: the tag is on any message the logged-in user sends, INVITE
    (to the invitee) included."""
    h = Harness()
    alice = _logged_in(h, "alice")
    bob = h.connect("bob", caps=["account-tag"])
    for c in (alice, bob):
        c.send("JOIN #room,#hall,#stay")
    alice.cmd("JOIN #other")
    bob.take()
    alice.send(
        "INVITE bob #other",
        "TOPIC #room :news",
        "MODE #room +v bob",
        "AWAY :lunch",
        "AWAY",
        "NICK alice2",
        "PART #hall :bye",
        "KICK #room bob",
        "QUIT :done",
    )
    got = bob.take()
    assert codes(got) == ["INVITE", "TOPIC", "MODE", "NICK", "PART", "KICK", "QUIT"]
    assert all(m.tags.get("account") == "alice" for m in got), got


# ----------------------------------------------------------------------------- TARGETS


def test_chathistory_targets_lists_a_room_only_if_its_latest_line_is_in_the_window() -> None:
    h = Harness()
    alice = h.connect("alice", caps=["batch", "server-time", "draft/chathistory"])
    alice.cmd("JOIN #early")
    alice.cmd("JOIN #late")
    alice.send("PRIVMSG #early :one", "PRIVMSG #late :one")
    start = h.world.now_ms()
    h.clock.advance(5)
    alice.send("PRIVMSG #late :two")
    end = h.world.now_ms()
    h.clock.advance(5)
    alice.send("PRIVMSG #late :three")
    got = alice.cmd(
        f"CHATHISTORY TARGETS timestamp={format_time(start - 1)} "
        f"timestamp={format_time(end + 1)} 10"
    )
    assert [m.params[1] for m in got if m.command == "CHATHISTORY"] == ["#early"]


# ----------------------------------------------------------------------------- replay on join

REPLAY_CAPS = ("batch", "server-time")


def _said(h: Harness, speaker: SimClient, *texts: str) -> None:
    for text in texts:
        h.clock.advance(1)
        speaker.send(f"PRIVMSG #lobby :{text}")


def _replayed(client: SimClient) -> list[str]:
    """The texts a JOIN of #lobby replayed to ``client``; checks the batch and times."""
    got = client.cmd("JOIN #lobby")
    lines = [m for m in got if m.command == "PRIVMSG"]
    if lines:
        batch = next(m for m in got if m.command == "BATCH")
        assert batch.params[1:] == ("chathistory", "#lobby")
        ref = batch.params[0][1:]
        assert all(m.tags.get("batch") == ref and "time" in m.tags for m in lines)
    return [m.params[1] for m in lines]


def _speaker(h: Harness) -> SimClient:
    speaker = h.connect("speaker")
    speaker.cmd("JOIN #lobby")
    return speaker


def test_no_replay_to_a_client_that_cannot_tell_it_from_live_lines() -> None:
    """A bot without batch (or server-time) would take an old ``!ping`` for a new one."""
    h = Harness()
    _said(h, _speaker(h), "!ping")
    for caps in ((), ("batch",), ("server-time",), ("message-tags", "echo-message")):
        client = h.connect(f"bot{len(caps)}{''.join(c[0] for c in caps)}", caps=caps)
        assert _replayed(client) == [], caps


def test_replay_comes_in_a_chathistory_batch_with_the_original_times() -> None:
    h = Harness()
    _said(h, _speaker(h), "earlier")
    sent = h.history.lines["#lobby"][-1].at
    h.clock.advance(30)
    carol = h.connect("carol", caps=REPLAY_CAPS)
    got = carol.cmd("JOIN #lobby")
    line = one(got, "PRIVMSG")
    assert line.tags["time"] == format_time(sent)


def test_an_account_never_gets_a_line_it_already_received() -> None:
    """Rejoining, reconnecting, or joining from a second device replays only what the
    account has not received yet."""
    h = Harness()
    speaker = _speaker(h)
    _said(h, speaker, "one", "two")
    carol = _logged_in(h, "carol", *REPLAY_CAPS)
    assert _replayed(carol) == ["one", "two"]
    _said(h, speaker, "three")  # live
    carol.cmd("PART #lobby")
    _said(h, speaker, "four")
    assert _replayed(carol) == ["four"]
    carol.send("QUIT")
    _said(h, speaker, "five")
    again = _logged_in(h, "carol", *REPLAY_CAPS)
    assert _replayed(again) == ["five"]
    phone = _logged_in(h, "carol_phone", *REPLAY_CAPS, account="carol")
    assert _replayed(phone) == []  # carol's other connection is in the room


def test_a_guest_connection_gets_each_line_once() -> None:
    h = Harness()
    speaker = _speaker(h)
    _said(h, speaker, "one")
    guest = h.connect("guest", caps=REPLAY_CAPS)
    assert _replayed(guest) == ["one"]
    guest.cmd("PART #lobby")
    _said(h, speaker, "two")
    assert _replayed(guest) == ["two"]


def test_after_a_restart_an_account_is_not_sent_old_lines_again() -> None:
    """The record of seen lines is in memory; after a restart an account counts as having
    seen what was said before it (CHATHISTORY still serves those lines)."""
    h = Harness(replace(SETTINGS))
    _said(h, _speaker(h), "before the restart")
    h.clock.advance(60)
    restarted = Harness(replace(SETTINGS))
    restarted.clock.now = h.clock.now
    restarted.world.started_at = h.clock.now  # as a World made at that moment has it
    restarted.history = h.history
    restarted.world.load_history(h.history.recent(10))
    carol = _logged_in(restarted, "carol", *REPLAY_CAPS)
    assert _replayed(carol) == []
    guest = restarted.connect("guest", caps=REPLAY_CAPS)
    assert _replayed(guest) == ["before the restart"]
    speaker = restarted.connect("speaker")
    speaker.cmd("JOIN #lobby")
    carol.cmd("PART #lobby")
    _said(restarted, speaker, "after")
    assert _replayed(carol) == ["after"]
