"""Read markers (IRCv3 draft/read-marker) in the pure client session: unread counts and the
"new messages" line come from the marker the server keeps for the account, the session
sends MARKREAD as the user reads (coalesced), and another device's reading moves both.

Also the login of an account: its rooms are the server's (a PING fence decides whether our
default room is needed), and its recent private chats open from CHATHISTORY TARGETS."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

from chatroom.client.markers import format_stamp, parse_stamp
from chatroom.client.session import ROOMS_FENCE, ClientSession
from chatroom.client.state import ReadMoved
from chatroom.irc.message import parse

CAPS = "batch draft/chathistory draft/read-marker echo-message message-tags server-time"
T0 = datetime(2024, 1, 1, tzinfo=UTC)


def feed(s: ClientSession, *lines: str) -> list[object]:
    events: list[object] = []
    for line in lines:
        events.extend(s.feed(parse(line)))
    return events


def sent(s: ClientSession) -> list[str]:
    return [line.decode().rstrip("\r\n") for line in s.take_output()]


def at(second: int) -> str:
    return f"2024-01-01T00:00:{second:02d}.000Z"


def line(msgid: str, second: int, text: str, target: str = "#den", nick: str = "bob") -> str:
    return f"@msgid={msgid};time={at(second)} :{nick}!u@h PRIVMSG {target} :{text}"


def sign_on(s: ClientSession, caps: str = CAPS) -> None:
    s.start()
    feed(s, f":srv CAP * LS :{caps}", f":srv CAP alice ACK :{caps}")
    feed(s, ":srv 001 alice :Welcome", ":srv 005 alice CHANTYPES=# :are supported")


def in_two_rooms(caps: str = CAPS) -> ClientSession:
    """alice, identified to her account, in #lobby, shown, and #den, not shown."""
    s = ClientSession("alice")
    sign_on(s, caps)
    feed(s, ":srv 900 alice alice!u@h alice :You are now logged in as alice")
    feed(s, f"@time={at(0)} :alice!u@h JOIN #lobby", f"@time={at(0)} :alice!u@h JOIN #den")
    s.set_active("#lobby")
    sent(s)
    return s


def test_stamps_round_trip_in_the_server_time_form() -> None:
    when = datetime(2024, 1, 1, 0, 0, 5, 123000, tzinfo=UTC)
    assert format_stamp(when) == "timestamp=2024-01-01T00:00:05.123Z"
    assert parse_stamp(format_stamp(when)) == when
    assert parse_stamp("*") is None
    assert parse_stamp("timestamp=yesterday") is None


def test_the_client_asks_for_the_read_marker_capability() -> None:
    s = ClientSession("alice")
    s.start()
    s.take_output()
    feed(s, ":srv CAP * LS :draft/read-marker server-time")
    assert sent(s) == ["CAP REQ :draft/read-marker server-time"]


def test_unread_count_is_the_lines_by_others_newer_than_the_servers_marker() -> None:
    s = in_two_rooms()
    feed(s, f":srv MARKREAD #den timestamp={at(2)}")
    feed(s, ":srv BATCH +h chathistory #den")
    for body in (line("m1", 1, "old"), line("m2", 2, "read"), line("m3", 3, "new")):
        feed(s, f"@batch=h;{body[1:]}")
    feed(s, f"@batch=h;{line('m4', 4, 'mine', nick='alice')[1:]}", ":srv BATCH -h")
    assert s.buffers["#den"].unread == 1  # "new"; not the older ones, not alice's own
    feed(s, line("m5", 5, "live"))
    assert s.buffers["#den"].unread == 2


def test_another_device_reading_clears_the_count_and_the_echo_of_ours_changes_nothing() -> None:
    s = in_two_rooms()
    feed(s, f":srv MARKREAD #den timestamp={at(0)}", line("m1", 1, "hi"), line("m2", 2, "yo"))
    assert s.buffers["#den"].unread == 2
    events = feed(s, f":srv MARKREAD #den timestamp={at(1)}")  # read on the phone
    assert events == [ReadMoved("#den")]
    assert s.buffers["#den"].unread == 1
    assert feed(s, f":srv MARKREAD #den timestamp={at(1)}") == []  # the same again
    feed(s, f":srv MARKREAD #den timestamp={at(2)}")
    assert s.buffers["#den"].unread == 0


def test_reading_sends_one_markread_for_a_burst_of_lines_with_the_newest_time() -> None:
    s = in_two_rooms()
    s.set_active("#den")
    for i in range(1, 6):
        feed(s, line(f"m{i}", i, f"line {i}"))
    assert not any(out.startswith("MARKREAD") for out in sent(s))  # not one per line
    s.markers.send_due()
    assert sent(s) == [f"MARKREAD #den timestamp={at(5)}"]
    s.markers.send_due()
    assert sent(s) == []  # nothing new read
    feed(s, f":srv MARKREAD #den timestamp={at(5)}")  # the server confirms
    s.markers.send_due()
    assert sent(s) == []


def test_showing_a_buffer_reads_it_and_puts_the_new_messages_line_at_the_old_marker() -> None:
    s = in_two_rooms()
    feed(s, f":srv MARKREAD #den timestamp={at(1)}", line("m1", 1, "seen"), line("m2", 2, "n"))
    s.set_active("#den")
    den = s.buffers["#den"]
    assert den.new_since == parse_stamp(f"timestamp={at(1)}")
    assert den.unread == 0
    s.markers.send_due()
    assert sent(s) == [f"MARKREAD #den timestamp={at(2)}"]


def test_a_marker_moved_elsewhere_moves_the_new_messages_line_of_the_buffer_shown() -> None:
    s = in_two_rooms()
    feed(s, f":srv MARKREAD #den timestamp={at(0)}")
    feed(s, line("m1", 1, "a"), line("m2", 2, "b"), line("m3", 3, "c"))
    s.set_active("#den")
    assert s.buffers["#den"].new_since == parse_stamp(f"timestamp={at(0)}")
    s.markers.send_due()
    assert sent(s) == [f"MARKREAD #den timestamp={at(3)}"]
    feed(s, f":srv MARKREAD #den timestamp={at(3)}")  # our own update confirmed
    assert s.buffers["#den"].new_since == parse_stamp(f"timestamp={at(0)}")  # stays put
    s.set_viewing(False)  # the window goes to the background; two more lines
    feed(s, line("m4", 4, "d"), line("m5", 5, "e"))
    assert s.buffers["#den"].unread == 2
    feed(s, f":srv MARKREAD #den timestamp={at(4)}")  # read "d" on the phone
    assert s.buffers["#den"].new_since == parse_stamp(f"timestamp={at(4)}")
    assert s.buffers["#den"].unread == 1
    s.set_viewing(True)
    assert s.buffers["#den"].unread == 0
    s.markers.send_due()
    assert sent(s) == [f"MARKREAD #den timestamp={at(5)}"]


def test_the_room_shown_at_login_marks_where_the_history_becomes_new() -> None:
    s = in_two_rooms()
    feed(s, f"@time={at(0)} :alice!u@h JOIN #garden")
    s.set_active("#garden")
    feed(s, f":srv MARKREAD #garden timestamp={at(2)}")
    assert s.buffers["#garden"].new_since == parse_stamp(f"timestamp={at(2)}")
    feed(s, ":srv BATCH +h chathistory #garden")
    for body in (line("g1", 1, "read", "#garden"), line("g2", 3, "unread", "#garden")):
        feed(s, f"@batch=h;{body[1:]}")
    feed(s, ":srv BATCH -h")
    s.markers.send_due()
    assert f"MARKREAD #garden timestamp={at(3)}" in sent(s)


def test_a_private_chat_asks_for_its_marker_and_one_never_read_is_all_new() -> None:
    s = in_two_rooms()
    feed(s, line("p1", 1, "are you there?", target="alice"))
    assert sent(s) == ["MARKREAD bob"]
    feed(s, line("p2", 2, "hello?", target="alice"), ":srv MARKREAD bob *")
    assert s.buffers["bob"].unread == 2
    assert s.buffers["bob"].mentions == 2


def test_without_the_capability_nothing_is_sent_and_counts_stay_local() -> None:
    s = in_two_rooms(caps="batch message-tags server-time")
    feed(s, line("m1", 1, "hi"), line("p1", 2, "psst", target="alice"))
    assert s.buffers["#den"].unread == 1
    s.set_active("#den")
    s.markers.send_due()
    assert sent(s) == []
    s.set_active("#lobby")
    feed(s, line("m2", 3, "again"))
    assert s.buffers["#den"].unread == 1  # only the line said after reading it


def test_a_guest_sends_no_markread_the_server_would_refuse() -> None:
    s = ClientSession("alice")
    sign_on(s)
    feed(s, f"@time={at(0)} :alice!u@h JOIN #den", line("m1", 1, "hi"))
    s.set_active("#den")
    s.markers.send_due()
    feed(s, line("p1", 2, "psst", target="alice"))
    assert not any(out.startswith("MARKREAD") for out in sent(s))


def test_a_malformed_markread_from_the_server_is_ignored() -> None:
    s = in_two_rooms()
    assert (
        feed(s, ":srv MARKREAD", ":srv MARKREAD #den timestamp=soon", ":srv MARKREAD #den 5") == []
    )
    assert s.buffers["#den"].read_until is None


def test_a_refused_markread_troubles_nobody() -> None:
    s = in_two_rooms()
    assert feed(s, ":srv FAIL MARKREAD INTERNAL_ERROR #den TOO_MANY_TARGETS :At most") == []


def log_in(s: ClientSession, caps: str = "sasl " + CAPS) -> list[str]:
    """SASL as alice, then the welcome; returns what the client sent after the welcome."""
    s.start()
    feed(s, f":srv CAP * LS :{caps}", f":srv CAP alice ACK :{caps}", "AUTHENTICATE +")
    feed(s, ":srv 900 alice alice!u@h alice :Logged in", ":srv 903 alice :SASL ok")
    sent(s)
    feed(s, ":srv 001 alice :Welcome", ":srv 005 alice CHANTYPES=# CHATHISTORY=50 :ok")
    return sent(s)


def test_an_account_takes_its_rooms_from_the_server_and_joins_none_of_its_own() -> None:
    s = ClientSession("alice", "s3cret-pass", clock=lambda: T0.timestamp())
    assert "JOIN #lobby" not in log_in(s)
    feed(s, ":alice!u@h JOIN #den", f":srv PONG srv {ROOMS_FENCE}")  # the server rejoined
    assert "JOIN #lobby" not in sent(s)


def test_an_account_the_server_put_in_no_room_joins_the_default_room() -> None:
    s = ClientSession("alice", "s3cret-pass", clock=lambda: T0.timestamp())
    assert f"PING {ROOMS_FENCE}" in log_in(s)
    feed(s, f":srv PONG srv {ROOMS_FENCE}")
    assert sent(s) == ["JOIN #lobby"]


def test_a_guest_joins_its_rooms_at_once() -> None:
    s = ClientSession("alice")
    sign_on(s)
    assert "JOIN #lobby" in sent(s)


def test_an_account_reopens_its_recent_private_chats_from_chathistory_targets() -> None:
    s = ClientSession("alice", "s3cret-pass", clock=lambda: T0.timestamp())
    out = log_in(s)
    assert "CHATHISTORY TARGETS timestamp=2024-01-01T00:00:00.000Z " in " ".join(out)
    assert "timestamp=2023-12-02T00:00:00.000Z 50" in " ".join(out)
    events = feed(
        s,
        ":srv BATCH +t draft/chathistory-targets",
        f"@batch=t :srv CHATHISTORY TARGETS bob {at(9)}",
        f"@batch=t :srv CHATHISTORY TARGETS #den {at(8)}",
        ":srv BATCH -t",
    )
    assert "bob" in s.buffers
    assert "#den" not in s.buffers  # rooms come from the server's JOINs
    assert events
    assert sent(s) == ["MARKREAD bob", "CHATHISTORY LATEST bob * 50"]


def test_a_guest_opens_no_private_chats_at_login() -> None:
    s = ClientSession("alice", clock=lambda: T0.timestamp())
    sign_on(s)
    assert not any("TARGETS" in out for out in sent(s))


def test_the_sasl_payload_is_unchanged_by_the_read_marker_capability() -> None:
    s = ClientSession("alice", "pw")
    s.start()
    s.take_output()
    feed(s, ":srv CAP * LS :sasl draft/read-marker", ":srv CAP alice ACK :sasl draft/read-marker")
    feed(s, "AUTHENTICATE +")
    assert sent(s)[-1] == "AUTHENTICATE " + base64.b64encode(b"alice\0alice\0pw").decode()


def test_an_account_back_after_a_drop_does_not_rejoin_a_room_another_device_left() -> None:
    s = ClientSession("alice", "s3cret-pass", clock=lambda: T0.timestamp())
    log_in(s)
    feed(s, ":alice!u@h JOIN #den", ":alice!u@h JOIN #dev", f":srv PONG srv {ROOMS_FENCE}")
    sent(s)
    s.reconnecting()
    # meanwhile the phone parted #dev: the server attaches us to the user, in #den only
    assert not [line for line in log_in(s) if line.startswith("JOIN")]
    feed(s, ":alice!u@h JOIN #den", f":srv PONG srv {ROOMS_FENCE}")
    assert not [line for line in sent(s) if line.startswith("JOIN")]
