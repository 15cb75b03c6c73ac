"""Catching up after a reconnect, in the pure client session: what was said in each room and
private conversation while the connection was down is asked for with ``CHATHISTORY AFTER``
the last line seen, page by page, and shown in order, once."""

from __future__ import annotations

from chatroom.client.session import ClientSession
from chatroom.client.state import LineKind
from chatroom.irc.message import parse

CAPS = "batch draft/chathistory message-tags server-time"


def feed(s: ClientSession, *lines: str) -> None:
    for line in lines:
        s.feed(parse(line))


def sent(s: ClientSession) -> list[str]:
    return [line.decode().rstrip("\r\n") for line in s.take_output()]


def sign_on(s: ClientSession, isupport: str = "CHATHISTORY=3") -> None:
    """CAP negotiation and the welcome, as the server answers a fresh connection."""
    s.start()
    feed(s, f":srv CAP * LS :{CAPS}", f":srv CAP alice ACK :{CAPS}")
    feed(s, ":srv 001 alice :Welcome", f":srv 005 alice CHANTYPES=# {isupport} :are supported")


def line(msgid: str, second: int, text: str, target: str = "#lobby", nick: str = "bob") -> str:
    tags = f"@msgid={msgid};time=2024-01-01T00:00:{second:02d}.000Z"
    return f"{tags} :{nick}!u@h PRIVMSG {target} :{text}"


def batch(ref: str, target: str, *lines: str) -> list[str]:
    return [
        f":srv BATCH +{ref} chathistory {target}",
        *(f"@batch={ref};{body[1:]}" for body in lines),
        f":srv BATCH -{ref}",
    ]


def texts(s: ClientSession, buffer: str) -> list[str]:
    chat = (LineKind.MESSAGE, LineKind.ACTION, LineKind.NOTICE)
    return [show.text for show in s.logs[buffer] if show.kind in chat]


def in_lobby() -> ClientSession:
    s = ClientSession("alice")
    sign_on(s)
    feed(s, ":alice!u@h JOIN #lobby")
    assert sent(s)[-1] == "CHATHISTORY LATEST #lobby * 3"
    feed(s, *batch("h1", "#lobby", line("m1", 1, "one"), line("m2", 2, "two")))
    feed(s, line("m3", 3, "three"))
    s.set_active("#lobby")
    s.take_output()
    return s


def test_rejoined_room_asks_after_the_last_line_seen_and_pages_until_a_short_page() -> None:
    s = in_lobby()
    s.reconnecting()
    sign_on(s)
    assert "JOIN #lobby" in sent(s)
    feed(s, "@time=2024-01-01T00:00:20.000Z :alice!u@h JOIN #lobby")
    assert sent(s) == ["CHATHISTORY AFTER #lobby msgid=m3 3"]
    feed(s, line("m9", 21, "live after rejoining"))
    feed(s, *batch("h2", "#lobby", line("a1", 5, "a"), line("a2", 6, "b"), line("a3", 7, "c")))
    assert sent(s) == ["CHATHISTORY AFTER #lobby msgid=a3 3"]
    feed(s, *batch("h3", "#lobby", line("a4", 8, "d"), line("m9", 21, "live after rejoining")))
    assert sent(s) == []
    assert texts(s, "#lobby") == ["one", "two", "three", *"abcd", "live after rejoining"]


def test_a_page_of_lines_already_shown_still_counts_as_a_full_page() -> None:
    s = in_lobby()
    s.reconnecting()
    sign_on(s)
    feed(s, ":alice!u@h JOIN #lobby", line("a1", 5, "a"), line("a2", 6, "b"))
    sent(s)
    feed(s, *batch("h2", "#lobby", line("a1", 5, "a"), line("a2", 6, "b"), line("a3", 7, "c")))
    assert sent(s) == ["CHATHISTORY AFTER #lobby msgid=a3 3"]
    feed(s, *batch("h3", "#lobby"))
    assert sent(s) == []
    assert texts(s, "#lobby") == ["one", "two", "three", "a", "b", "c"]


def test_lines_missed_in_a_conversation_not_shown_count_as_unread() -> None:
    s = in_lobby()
    s.set_active("*")
    s.reconnecting()
    sign_on(s)
    feed(s, ":alice!u@h JOIN #lobby")
    feed(s, *batch("h2", "#lobby", line("a1", 5, "a"), line("a2", 6, "alice, look")))
    assert s.buffers["#lobby"].unread == 2
    assert s.buffers["#lobby"].mentions == 1


def test_history_requests_wait_their_turn_so_that_few_are_unanswered_at_once() -> None:
    """The server refuses more than four unanswered history requests per connection."""
    rooms = [f"#r{n}" for n in range(1, 6)]
    s = ClientSession("alice", autojoin=tuple(rooms))
    sign_on(s)
    s.take_output()
    feed(s, *(f":alice!u@h JOIN {room}" for room in rooms))
    assert sent(s) == ["CHATHISTORY LATEST #r1 * 3", "CHATHISTORY LATEST #r2 * 3"]
    feed(s, *batch("b1", "#r1"))
    assert sent(s) == ["CHATHISTORY LATEST #r3 * 3"]
    feed(s, ":srv FAIL CHATHISTORY MESSAGE_ERROR LATEST #r2 :Messages could not be retrieved")
    assert sent(s) == ["CHATHISTORY LATEST #r4 * 3"]


def test_private_conversations_catch_up_and_targets_open_the_ones_not_open() -> None:
    s = in_lobby()
    feed(s, line("p1", 4, "psst", target="alice", nick="tess"))
    s.reconnecting()
    s.clock = lambda: 1_704_067_260.0  # 2024-01-01T00:01:00Z
    sign_on(s)
    out = sent(s)
    assert "CHATHISTORY AFTER tess msgid=p1 3" in out
    targets = [x for x in out if x.startswith("CHATHISTORY TARGETS")]
    assert len(targets) == 1
    since = targets[0].split(" ")[2]
    assert since.startswith("timestamp=")
    assert targets[0].endswith(" timestamp=2024-01-01T00:01:00.000Z 3")
    feed(s, *batch("q1", "tess", line("p2", 30, "still there?", target="alice", nick="tess")))
    feed(
        s,
        ":srv BATCH +t1 draft/chathistory-targets",
        "@batch=t1 :srv CHATHISTORY TARGETS tess 2024-01-01T00:00:30.000Z",
        "@batch=t1 :srv CHATHISTORY TARGETS rita 2024-01-01T00:00:40.000Z",
        "@batch=t1 :srv CHATHISTORY TARGETS #lobby 2024-01-01T00:00:50.000Z",
        ":srv BATCH -t1",
    )
    assert sent(s) == [f"CHATHISTORY AFTER rita {since} 3"]
    feed(s, *batch("q2", "rita", line("r1", 40, "ping from rita", target="alice", nick="rita")))
    assert texts(s, "tess") == ["psst", "still there?"]
    assert texts(s, "rita") == ["ping from rita"]
    assert s.buffers["rita"].unread == 1


def test_targets_after_a_reconnect_start_from_the_server_time_last_seen_not_our_clock() -> None:
    """Our clock runs an hour ahead: asking TARGETS from it would miss whoever wrote in
    that hour, so the start is the server time of the newest line we saw."""
    s = in_lobby()
    feed(s, line("p1", 4, "psst", target="alice", nick="tess"))
    s.clock = lambda: 1_704_070_800.0  # 2024-01-01T01:00:00Z, an hour after that line
    s.reconnecting()
    sign_on(s)
    targets = [x for x in sent(s) if x.startswith("CHATHISTORY TARGETS")]
    assert targets == [
        "CHATHISTORY TARGETS timestamp=2024-01-01T00:00:04.000Z"
        " timestamp=2024-01-01T01:00:00.000Z 3"
    ]
