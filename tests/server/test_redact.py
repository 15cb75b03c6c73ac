"""REDACT (IRCv3 draft/message-redaction) through the core harness.

Spec: https://ircv3.net/specs/extensions/message-redaction ("REDACT <target> <msgid>
[:reason]"; forwarded to recipients that negotiated the capability, never to others).
"""

from __future__ import annotations

from chatroom.irc.message import Message
from chatroom.server.core.settings import CoreSettings, Limits, OperRole
from chatroom.server.harness import Harness, SimClient
from tests.server.moderation_support import PASSWORD
from tests.server.support import codes

CAP = "draft/message-redaction"
TAGS = ["message-tags", "echo-message", "server-time", "batch"]
HISTORY = [*TAGS, "draft/chathistory"]
ROLES = (
    OperRole("janitor", frozenset({"channels"})),
    OperRole("moderator", frozenset({"kick", "mute"})),
)


def _harness() -> Harness:
    return Harness(
        CoreSettings(
            limits=Limits(connections_per_address=100_000, connects_per_address_per_minute=100_000),
            oper_roles=ROLES,
        )
    )


def _member(
    h: Harness, nick: str, *caps: str, room: str | None = "#room", role: str | None = None
) -> SimClient:
    """A client logged in to its own account, with ``caps``, in ``room``."""
    h.add_account(nick, PASSWORD, role=role)
    client = h.connect(nick, caps=caps)
    client.cmd(f"PRIVMSG NickServ :IDENTIFY {PASSWORD}")
    if room is not None:
        client.cmd(f"JOIN {room}")
    return client


def _say(client: SimClient, text: str, target: str = "#room") -> str:
    """Send a message; its msgid, from the echo."""
    (echo,) = [m for m in client.cmd(f"PRIVMSG {target} :{text}") if m.command == "PRIVMSG"]
    return echo.tags["msgid"]


def _fails(replies: list[Message]) -> list[tuple[str, ...]]:
    return [m.params[:-1] for m in replies if m.command == "FAIL"]


def _redacts(replies: list[Message]) -> list[Message]:
    return [m for m in replies if m.command == "REDACT"]


def _room(h: Harness) -> tuple[SimClient, SimClient, SimClient]:
    """alice (op: she made the room), bob and carol (no cap); everyone has echo."""
    alice = _member(h, "alice", *TAGS, CAP)
    bob = _member(h, "bob", *TAGS, CAP)
    carol = _member(h, "carol", *TAGS)
    for c in (alice, bob, carol):
        c.take()
    return alice, bob, carol


def test_author_deletes_own_message_and_capable_members_are_told() -> None:
    """The REDACT goes to recipients with the capability, the requester included."""
    h = _harness()
    alice, bob, carol = _room(h)
    msgid = _say(bob, "oops, wrong room")
    alice.take()
    carol.take()
    (echo,) = _redacts(bob.cmd(f"REDACT #room {msgid} :typo"))
    assert echo.source == "bob!~bob@127.0.0.1"
    assert echo.params == ("#room", msgid, "typo")
    assert echo.tags["msgid"] != msgid
    (seen,) = _redacts(alice.take())
    assert seen.params == ("#room", msgid, "typo")
    assert seen.tags["msgid"] == echo.tags["msgid"]


def test_members_without_the_capability_get_nothing() -> None:
    """MUST NOT forward REDACT to recipients that have not negotiated the capability."""
    h = _harness()
    _, bob, carol = _room(h)
    msgid = _say(bob, "hello")
    carol.take()
    bob.cmd(f"REDACT #room {msgid}")
    assert carol.take() == []


def test_a_requester_without_the_capability_is_told_by_notice() -> None:
    h = _harness()
    _, _, carol = _room(h)
    msgid = _say(carol, "hello")
    replies = carol.cmd(f"REDACT #room {msgid}")
    assert codes(replies) == ["NOTICE"]
    assert replies[0].params[1] == f"Deleted message {msgid} in #room"


def test_a_deleted_message_is_never_served_by_chathistory_again() -> None:
    h = _harness()
    _, bob, _ = _room(h)
    kept, gone = _say(bob, "kept"), _say(bob, "gone")
    bob.cmd(f"REDACT #room {gone}")
    reader = _member(h, "dave", *HISTORY)
    replies = reader.cmd("CHATHISTORY LATEST #room * 10")
    said = [m for m in replies if m.command == "PRIVMSG"]
    assert [m.tags["msgid"] for m in said] == [kept]
    assert _redacts(replies) == []  # not an event-playback client
    after = reader.cmd(f"CHATHISTORY AFTER #room msgid={gone} 10")
    assert [m for m in after if m.command == "PRIVMSG"] == []


def test_a_deleted_message_is_not_replayed_on_join() -> None:
    h = _harness()
    _, bob, _ = _room(h)
    _say(bob, "kept")
    gone = _say(bob, "gone")
    bob.cmd(f"REDACT #room {gone}")
    erin = h.connect("erin", caps=["server-time", "batch"])
    replayed = [m.params[1] for m in erin.cmd("JOIN #room") if m.command == "PRIVMSG"]
    assert replayed == ["kept"]


def test_someone_elses_message_is_forbidden_to_a_plain_member() -> None:
    h = _harness()
    alice, bob, _ = _room(h)
    msgid = _say(alice, "mine")
    assert _fails(bob.cmd(f"REDACT #room {msgid}")) == [
        ("REDACT", "REDACT_FORBIDDEN", "#room", msgid)
    ]


def test_a_room_operator_deletes_anyones_message() -> None:
    h = _harness()
    alice, bob, _ = _room(h)
    msgid = _say(bob, "spam spam")
    bob.take()
    (echo,) = _redacts(alice.cmd(f"REDACT #room {msgid} :spam"))
    assert str(echo.source).startswith("alice!")
    assert _redacts(bob.take())[0].params == ("#room", msgid, "spam")


def test_an_operator_with_the_channels_capability_deletes_in_any_room() -> None:
    h = _harness()
    _, bob, _ = _room(h)
    msgid = _say(bob, "spam")
    janitor = _member(h, "jan", *TAGS, CAP, room=None, role="janitor")
    (echo,) = _redacts(janitor.cmd(f"REDACT #room {msgid}"))
    assert echo.params == ("#room", msgid)
    assert str(_redacts(bob.take())[0].source).startswith("jan!")


def test_an_operator_without_the_channels_capability_is_a_plain_member() -> None:
    h = _harness()
    _, bob, _ = _room(h)
    msgid = _say(bob, "spam")
    mod = _member(h, "mod", *TAGS, CAP, room=None, role="moderator")
    assert _fails(mod.cmd(f"REDACT #room {msgid}"))[0][:3] == ("REDACT", "INVALID_TARGET", "#room")
    mod.cmd("JOIN #room")
    assert _fails(mod.cmd(f"REDACT #room {msgid}"))[0][1] == "REDACT_FORBIDDEN"


def test_outsiders_cannot_probe_a_room_for_msgids() -> None:
    """The same answer whether the msgid exists or not: msgids are guessable."""
    h = _harness()
    _, bob, _ = _room(h)
    msgid = _say(bob, "members only")
    outsider = _member(h, "eve", *TAGS, CAP, room=None)
    for ref in (msgid, "no-such-id"):
        (fail,) = _fails(outsider.cmd(f"REDACT #room {ref}"))
        assert fail == ("REDACT", "INVALID_TARGET", "#room")
    assert _fails(outsider.cmd(f"REDACT #nowhere {msgid}"))[0][1] == "INVALID_TARGET"


def test_unknown_and_already_deleted_messages() -> None:
    h = _harness()
    _, bob, _ = _room(h)
    assert _fails(bob.cmd("REDACT #room nope")) == [("REDACT", "UNKNOWN_MSGID", "#room", "nope")]
    msgid = _say(bob, "once")
    assert _redacts(bob.cmd(f"REDACT #room {msgid}"))
    assert _fails(bob.cmd(f"REDACT #room {msgid}"))[0][1] == "UNKNOWN_MSGID"


def test_a_guest_cannot_delete_what_an_earlier_guest_of_that_nick_said() -> None:
    """A nickname alone does not prove it is the same person."""
    h = _harness()
    _member(h, "keeper")  # holds the room (and its ops) while the guests come and go
    first = h.connect("guest", caps=[*TAGS, CAP])
    first.cmd("JOIN #room")
    old = _say(first, "said by the first guest")
    first.send("QUIT")
    h.clock.advance(5)
    second = h.connect("guest", caps=[*TAGS, CAP])
    second.cmd("JOIN #room")
    assert _fails(second.cmd(f"REDACT #room {old}"))[0][1] == "REDACT_FORBIDDEN"
    mine = _say(second, "said by me")
    assert _redacts(second.cmd(f"REDACT #room {mine}"))


def test_private_messages_are_deleted_by_their_author_only() -> None:
    h = _harness()
    alice = _member(h, "alice", *HISTORY, CAP, room=None)
    bob = _member(h, "bob", *HISTORY, CAP, room=None)
    msgid = _say(alice, "psst", target="bob")
    bob.take()
    assert _fails(bob.cmd(f"REDACT alice {msgid}"))[0][1] == "REDACT_FORBIDDEN"
    (echo,) = _redacts(alice.cmd(f"REDACT bob {msgid}"))
    assert echo.params == ("bob", msgid)
    assert _redacts(bob.take())[0].params == ("bob", msgid)
    history = bob.cmd("CHATHISTORY LATEST alice * 10")
    assert [m for m in history if m.command == "PRIVMSG"] == []


def test_redact_answers_before_the_pong_of_a_ping_sent_after_it() -> None:
    """Replies in order: the deletion waits for the store, and so does the PING."""
    h = _harness()
    _, bob, _ = _room(h)
    msgid = _say(bob, "soon gone")
    h.defer_answers = True
    bob.send(f"REDACT #room {msgid}", "PING barrier")
    assert "PONG" not in codes(bob.take())
    h.answer()
    got = codes(bob.take())
    assert got.index("REDACT") < got.index("PONG")


def test_labeled_redact_gets_its_label_on_the_echo() -> None:
    h = _harness()
    bob = _member(h, "bob", *TAGS, CAP, "labeled-response")
    msgid = _say(bob, "labeled")
    (echo,) = bob.cmd(f"@label=r1 REDACT #room {msgid}")
    assert (echo.command, echo.tags["label"]) == ("REDACT", "r1")


def test_a_store_failure_is_reported_and_nothing_is_relayed() -> None:
    h = _harness()
    alice, bob, _ = _room(h)
    msgid = _say(bob, "stuck")
    alice.take()
    h.history_fails = True
    assert _fails(bob.cmd(f"REDACT #room {msgid}"))[0][1] == "UNKNOWN_ERROR"
    assert alice.take() == []


def test_missing_parameters_and_bad_targets() -> None:
    h = _harness()
    _, bob, _ = _room(h)
    assert codes(bob.cmd("REDACT #room")) == ["461"]
    assert _fails(bob.cmd("REDACT not,a,nick x"))[0][:3] == (
        "REDACT",
        "INVALID_TARGET",
        "not,a,nick",
    )


def test_the_redact_is_kept_for_event_playback_clients_with_the_capability() -> None:
    """A client that was away learns of the deletion from history."""
    h = _harness()
    _, bob, _ = _room(h)
    msgid = _say(bob, "regretted")
    bob.cmd(f"REDACT #room {msgid} :never mind")
    both = _member(h, "dave", *HISTORY, CAP, "draft/event-playback")
    redacts = _redacts(both.cmd("CHATHISTORY LATEST #room * 50"))
    assert [m.params for m in redacts] == [("#room", msgid, "never mind")]
    events_only = _member(h, "erin", *HISTORY, "draft/event-playback")
    assert _redacts(events_only.cmd("CHATHISTORY LATEST #room * 50")) == []


def test_cap_ls_advertises_redaction_and_event_playback() -> None:
    h = _harness()
    client = h.connect()
    client.send("CAP LS 302")
    caps = " ".join(m.params[-1] for m in client.take()).split()
    assert {CAP, "draft/event-playback"} <= set(caps)
