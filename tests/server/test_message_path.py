"""The room message's own shortcuts (issue 18): each gives exactly what the general way
gives, so the cheaper path changes no byte a client or the history sees."""

from __future__ import annotations

import calendar
import time
from dataclasses import replace

import pytest

from chatroom.server.core.history import HistoryRecord, format_time, new_record
from chatroom.server.harness import Harness, SimClient
from tests.server.moderation_support import oper, user


def _reference_time(ms: int) -> str:
    seconds, millis = divmod(ms, 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{millis:03d}Z"


@pytest.mark.parametrize(
    "ms",
    [
        0,
        1,
        999,
        1000,
        1001,
        59_999,
        60_000,
        1_764_900_000_000,
        1_764_900_000_999,
        4_102_444_799_999,
    ],
)
def test_server_time_is_the_iso_form_of_the_millisecond(ms: int) -> None:
    assert format_time(ms) == _reference_time(ms)


def test_server_time_of_consecutive_milliseconds_across_a_second() -> None:
    start = calendar.timegm((2026, 12, 31, 23, 59, 59, 0, 0, 0)) * 1000 + 990
    for ms in range(start, start + 30):  # into the next second, minute, hour, day, year
        assert format_time(ms) == _reference_time(ms)


def test_a_record_built_for_a_message_equals_the_dataclass_built_one() -> None:
    values = (
        "#lobby",
        "abc-1",
        1_764_900_000_123,
        "a:alice",
        "",
        "alice!~alice@127.0.0.1",
        "PRIVMSG",
        "#Lobby",
        "hello",
        "alice",
        (("+typing", "active"),),
    )
    built = new_record(*values)
    made = HistoryRecord(*values)
    assert built == made
    assert type(built) is HistoryRecord
    assert built.order == 0
    assert hash(built) == hash(made)


def test_the_stored_record_of_a_room_message_holds_what_was_delivered() -> None:
    h = Harness()
    alice = h.connect("alice", caps=["message-tags", "server-time"])
    bob = h.connect("bob", caps=["message-tags", "server-time"])
    alice.cmd("JOIN #lobby")
    bob.cmd("JOIN #lobby")
    bob.take()
    alice.send("@+draft/reply=x PRIVMSG #lobby :hello there")
    (line,) = bob.take()
    (record,) = h.history.lines["#lobby"]
    assert record == HistoryRecord(
        target="#lobby",
        msgid=line.tags["msgid"],
        at=int(h.clock() * 1000),
        sender="n:alice",
        recipient="",
        source="alice!~alice@127.0.0.1",
        command="PRIVMSG",
        target_name="#lobby",
        text="hello there",
        account=None,
        tags=(("+draft/reply", "x"),),
    )
    assert line.tags["time"] == format_time(record.at)


# ----------------------------------------------------------------------------- shortcut

# Lines that look like the shortcut's (``PRIVMSG #...``) and the ones next to them: each
# is run by every sender below, with the shortcut on and off, and must do the same.
LINES = [
    b"PRIVMSG #lobby :hello there",
    b"PRIVMSG #lobby ::-) starts with a colon",
    b"PRIVMSG #lobby :text with  two spaces and a : colon",
    b"PRIVMSG #lobby :",  # no text: 412
    b"PRIVMSG #lobby",  # no text at all
    b"PRIVMSG #lobby hello",  # a last word without ":"
    b"PRIVMSG #lobby  :two spaces before the text",
    b"PRIVMSG #lobby,#quiet :two rooms",
    b"PRIVMSG #lobby,bob :a room and a nick",
    b"PRIVMSG #LOBBY :another case",
    b"PRIVMSG #nowhere :no such room",
    b"PRIVMSG #outside :not a member of a +n room",
    b"PRIVMSG #quiet :moderated",
    b"PRIVMSG #ban :banned",
    b"PRIVMSG #ctcp :\x01VERSION\x01",
    b"PRIVMSG #ctcp :\x01ACTION waves\x01",
    b"PRIVMSG #lobby :\x01PING 1\x01",
    b"PRIVMSG #lobby :caf\xc3\xa9 \xe2\x98\x95 in UTF-8",
    b"PRIVMSG #lobby :caf\xe9 in Latin-1",  # not UTF-8: refused
    b"PRIVMSG #lobby :nul \x00 inside",
    b"PRIVMSG #lobby :cr \r inside",
    b"PRIVMSG #lobby :" + b"x" * 494,  # the longest line a client may send
    b"PRIVMSG #lobby :" + b"x" * 495,  # one byte too long: 417
    b"PRIVMSG #lobby :" + b"y" * 490,  # fits the client's line, cut for the relay
    b"PRIVMSG # :the room named #",
    b"PRIVMSG #lob\tby :a tab in the name",
    b"@+typing=active PRIVMSG #lobby :tagged",
    b"@label=l1 PRIVMSG #lobby :labeled",
    b":alice!x@y PRIVMSG #lobby :with a source",
    b"privmsg #lobby :lower case",
    b"NOTICE #lobby :a notice",
]


def _room_world(shortcut: bool, targets: int = 4) -> tuple[Harness, list[SimClient]]:
    h = Harness()
    if not shortcut:
        h.world._shortcut = None
    admin = oper(h)
    alice = h.connect("alice", caps=["echo-message"])
    bob = h.connect(
        "bob",
        caps=["echo-message", "message-tags", "server-time", "account-tag", "labeled-response"],
    )
    carol = h.connect("carol", caps=["server-time"])
    dave = h.connect("dave")
    erin = user(h, "erin")  # logged in: her lines carry her account
    frank = user(h, "frank")
    stranger = h.connect()  # never registers
    stranger.send("NICK stranger")
    for client in (alice, bob, carol, dave, erin, frank):
        for room in ("#lobby", "#quiet", "#ban", "#ctcp"):
            client.send(f"JOIN {room}")
    admin.send("JOIN #outside", "MODE #outside +n")
    alice.send("MODE #quiet +m", "MODE #ban +b bob!*@*", "MODE #ctcp +C", "MODE #lobby +q dave!*@*")
    carol.send("MODE carol +B")  # a bot: its lines carry the bot tag
    admin.send("MUTE frank 1h :trolling")  # a server mute, not the room's
    assert frank.session.owner.muted is not None
    for client in h.clients.values():
        client.take()
    limits = replace(h.world.settings.limits, targets_per_message=targets)
    h.world.settings = replace(h.world.settings, limits=limits)  # after the logins above
    return h, [alice, bob, carol, dave, erin, frank, stranger, admin]


def _run_lines(shortcut: bool, targets: int = 4) -> list[object]:
    h, clients = _room_world(shortcut, targets)
    seen: list[object] = []
    for sender in clients:
        for line in LINES:
            h.clock.advance(0.001)
            h.world.receive(sender.session, line)
            h.pump()
            seen.append((sender.session.id, line))
            seen.extend((c.session.id, c.inbox) for c in clients)
            for client in clients:
                client.inbox = []
            seen.append(
                (
                    sender.session.last_active,
                    sender.session.owner.last_message,
                    h.world.stats.lines_in,
                    h.world.stats.deliveries,
                )
            )
    seen.append(dict(h.history.lines))
    seen.append(sorted(h.world.history.recent))
    return seen


@pytest.mark.parametrize("targets", [4, 0])  # 0: even one target is too many (407)
def test_the_room_line_shortcut_does_exactly_what_the_general_path_does(targets: int) -> None:
    with_shortcut = _run_lines(shortcut=True, targets=targets)
    without = _run_lines(shortcut=False, targets=targets)
    assert len(with_shortcut) == len(without)
    for got, expected in zip(with_shortcut, without, strict=True):
        assert got == expected


def test_the_shortcut_takes_the_plain_room_line_and_nothing_odd() -> None:
    h, (alice, *_rest) = _room_world(shortcut=True)
    shortcut = h.world._shortcut
    assert shortcut is not None
    taken = [
        line
        for line in LINES
        if line.startswith(shortcut.prefix) and shortcut.read(h.world, alice.session, line)
    ]
    assert b"PRIVMSG #lobby :hello there" in taken
    assert b"PRIVMSG #lobby :caf\xc3\xa9 \xe2\x98\x95 in UTF-8" in taken
    for odd in (b"PRIVMSG #lobby :", b"PRIVMSG #lobby hello", b"PRIVMSG #lobby,#quiet :two rooms"):
        assert odd not in taken
    for odd in (b"PRIVMSG #lobby :caf\xe9 in Latin-1", b"PRIVMSG #lobby :nul \x00 inside"):
        assert odd not in taken


def test_a_failure_inside_the_shortcut_is_answered_as_the_general_path_answers_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An exception in a room delivery is a 400 naming PRIVMSG, and the server goes on,
    whichever way the line was read."""
    from chatroom.server.core.commands import messaging

    def broken(*_args: object) -> None:
        raise RuntimeError("broken delivery")

    monkeypatch.setattr(messaging, "_to_channel", broken)
    answers = []
    for shortcut in (True, False):
        _, (alice, *_rest) = _room_world(shortcut)
        got = alice.cmd("PRIVMSG #lobby :hello")
        answers.append([(m.command, m.params) for m in got])
        assert got[0].command == "400"
        assert got[0].params[1] == "PRIVMSG"
    assert answers[0] == answers[1]


# ------------------------------------------------------------------ the room's audience
# A room keeps its connections grouped by tag profile for the fan-out; these pin that the
# grouping follows every change a member makes after it was made.


def _room_lines(client: SimClient) -> list[str]:
    raw, client.inbox = client.inbox, []
    lines = [line.decode().rstrip("\r\n") for line in raw]
    return [line for line in lines if " PRIVMSG #g " in line]


def test_a_member_who_asks_for_tags_after_joining_gets_them_on_the_next_room_message() -> None:
    h = Harness()
    speaker, reader = h.connect("speaker"), h.connect("reader")
    speaker.send("JOIN #g")
    reader.send("JOIN #g")
    speaker.send("PRIVMSG #g :before")
    assert _room_lines(reader)[0].startswith(":speaker!")  # no tags asked for, none sent
    reader.send("CAP REQ :server-time message-tags")
    reader.take()
    speaker.send("PRIVMSG #g :after")
    (line,) = _room_lines(reader)
    assert line.startswith("@")
    assert "time=" in line
    assert "msgid=" in line
    reader.send("CAP REQ :-server-time -message-tags")
    reader.take()
    speaker.send("PRIVMSG #g :plain again")
    assert _room_lines(reader)[0].startswith(":speaker!")


def test_each_tag_profile_in_a_room_gets_its_own_variant_of_one_message() -> None:
    h = Harness()
    speaker = h.connect("speaker", caps=["echo-message"])
    plain = h.connect("plain")
    timed = h.connect("timed", caps=["server-time"])
    tagged = h.connect("tagged", caps=["message-tags", "server-time"])
    for client in (speaker, plain, timed, tagged):
        client.send("JOIN #g")
    for client in (speaker, plain, timed, tagged):
        client.take()
    speaker.send("PRIVMSG #g :one line")
    (echo,) = _room_lines(speaker)
    (seen_plain,) = _room_lines(plain)
    (seen_timed,) = _room_lines(timed)
    (seen_tagged,) = _room_lines(tagged)
    assert seen_plain == ":speaker!~speaker@127.0.0.1 PRIVMSG #g :one line"
    assert seen_timed.startswith("@time=")
    assert "msgid" not in seen_timed
    assert "msgid=" in seen_tagged
    assert "time=" in seen_tagged
    assert echo == seen_plain  # the sender asked for no tags either


def test_connections_that_join_leave_or_attach_are_heard_from_the_next_message_on() -> None:
    h = Harness()
    speaker = h.connect("speaker")
    speaker.send("JOIN #g")
    speaker.send("PRIVMSG #g :nobody here")
    late = h.connect("late")
    late.send("JOIN #g")
    late.take()
    speaker.send("PRIVMSG #g :now someone")
    assert [line.rsplit(":", 1)[1] for line in _room_lines(late)] == ["now someone"]
    late.send("PART #g")
    late.take()
    speaker.send("PRIVMSG #g :gone again")
    assert _room_lines(late) == []
