"""Deleting messages (draft/message-redaction) and room events from history
(draft/event-playback) in the pure client session: lines in, log and lines out."""

from __future__ import annotations

from chatroom.client.commands import execute
from chatroom.client.session import ClientSession
from chatroom.client.state import Deleted, Event, LineKind, Show
from chatroom.irc.message import parse

CAPS = (
    "batch draft/chathistory draft/event-playback draft/message-redaction echo-message"
    " message-tags server-time"
)


def feed(s: ClientSession, *lines: str) -> list[Event]:
    events: list[Event] = []
    for line in lines:
        events += s.feed(parse(line))
    return events


def sent(s: ClientSession) -> list[str]:
    return [line.decode().rstrip("\r\n") for line in s.take_output()]


def said(msgid: str, second: int, text: str, nick: str = "bob", target: str = "#lobby") -> str:
    tags = f"@msgid={msgid};time=2024-01-01T00:00:{second:02d}.000Z"
    return f"{tags} :{nick}!u@h PRIVMSG {target} :{text}"


def in_lobby(caps: str = CAPS, me_op: bool = False) -> ClientSession:
    s = ClientSession("alice")
    s.start()
    feed(s, f":srv CAP * LS :{caps}", f":srv CAP alice ACK :{caps}")
    feed(s, ":srv 001 alice :Welcome", ":srv 005 alice CHANTYPES=# PREFIX=(ov)@+ :are supported")
    me = "@alice" if me_op else "alice"
    feed(
        s,
        ":alice!u@h JOIN #lobby",
        f":srv 353 alice = #lobby :{me} bob",
        ":srv 366 alice #lobby :End",
    )
    s.set_active("#lobby")
    s.take_output()
    return s


def shown(events: list[Event]) -> list[Show]:
    return [e for e in events if isinstance(e, Show)]


def log(s: ClientSession, buffer: str = "#lobby") -> list[Show]:
    return s.logs[s.key(buffer)]


def test_the_client_asks_for_redaction_and_event_playback() -> None:
    s = ClientSession("alice")
    s.start()
    s.take_output()
    feed(s, ":srv CAP * LS :draft/message-redaction draft/event-playback server-time")
    assert sent(s) == ["CAP REQ :draft/event-playback draft/message-redaction server-time"]


def test_a_deleted_message_keeps_its_place_and_says_who_deleted_it() -> None:
    s = in_lobby()
    feed(s, said("m1", 1, "hello"), said("m2", 2, "buy cheap pills"), said("m3", 3, "bye"))
    events = feed(s, "@msgid=r1 :carol!u@h REDACT #lobby m2 :spam")
    (deleted,) = [e for e in events if isinstance(e, Deleted)]
    assert deleted.buffer == "#lobby"
    lines = log(s)
    assert [line.text for line in lines[-3:]] == ["hello", "message deleted by carol: spam", "bye"]
    assert lines[-2].deleted
    assert lines[-2].nick == "bob"
    assert deleted.line == lines[-2]
    assert "buy cheap pills" not in repr(s.logs)


def test_an_author_deleting_their_own_line_is_said_without_by() -> None:
    s = in_lobby()
    feed(s, said("m1", 1, "oops"))
    feed(s, ":bob!u@h REDACT #lobby m1")
    assert log(s)[-1].text == "message deleted"


def test_a_redact_for_a_message_never_shown_is_ignored() -> None:
    """Spec: a REDACT whose msgid is not in the target's history MUST be ignored."""
    s = in_lobby()
    feed(s, said("m1", 1, "hello"))
    assert feed(s, ":carol!u@h REDACT #lobby unknown") == []
    assert feed(s, ":carol!u@h REDACT #other m1") == []
    assert log(s)[-1].text == "hello"


def test_a_private_message_is_deleted_in_the_conversation_with_its_author() -> None:
    s = in_lobby()
    feed(s, said("p1", 1, "psst", target="alice"))
    feed(s, ":bob!u@h REDACT alice p1")
    assert log(s, "bob")[-1].deleted


def test_delete_sends_redact_for_my_last_message_with_the_reason() -> None:
    s = in_lobby()
    feed(s, said("m1", 1, "first", nick="alice"), said("m2", 2, "typo", nick="alice"))
    feed(s, said("m3", 3, "later", nick="bob"))
    assert execute(s, "#lobby", "/delete wrong room") == []
    assert sent(s) == ["REDACT #lobby m2 :wrong room"]
    assert execute(s, "#lobby", "/redact") == []
    assert sent(s) == ["REDACT #lobby m2"]


def test_deleting_someone_elses_message_needs_operator_status() -> None:
    s = in_lobby()
    feed(s, said("m3", 3, "spam", nick="bob"))
    (refusal,) = execute(s, "#lobby", "/delete bob")
    assert isinstance(refusal, Show)
    assert refusal.kind is LineKind.ERROR
    assert sent(s) == []
    op = in_lobby(me_op=True)
    feed(op, said("m3", 3, "spam", nick="bob"))
    execute(op, "#lobby", "/delete bob advertising")
    assert sent(op) == ["REDACT #lobby m3 advertising"]


def test_delete_explains_what_cannot_be_done() -> None:
    s = in_lobby(caps="batch message-tags server-time")
    assert [e.text for e in shown(execute(s, "#lobby", "/delete"))] == [
        "This server cannot delete messages."
    ]
    s = in_lobby()
    assert [e.text for e in shown(execute(s, "#lobby", "/delete"))] == [
        "There is no message of yours here to delete."
    ]


def test_history_events_are_scrollback_and_change_nobody() -> None:
    """draft/event-playback: a JOIN or QUIT from history never edits the member list."""
    s = in_lobby()
    feed(
        s,
        ":srv BATCH +h chathistory #lobby",
        "@batch=h;msgid=e1;time=2024-01-01T00:00:01.000Z :carol!u@h JOIN #lobby",
        "@batch=h;msgid=m1;time=2024-01-01T00:00:02.000Z :carol!u@h PRIVMSG #lobby :hi",
        "@batch=h;msgid=e2;time=2024-01-01T00:00:03.000Z :bob!u@h QUIT :Quit: lunch",
        "@batch=h;msgid=e3;time=2024-01-01T00:00:04.000Z :bob!u@h TOPIC #lobby :old topic",
        ":srv BATCH -h",
    )
    texts = [(line.kind, line.text) for line in log(s) if line.history]
    assert texts == [
        (LineKind.JOIN, "carol joined"),
        (LineKind.MESSAGE, "hi"),
        (LineKind.QUIT, "bob quit (Quit: lunch)"),
        (LineKind.TOPIC, "bob changed the topic to: old topic"),
    ]
    lobby = s.buffers["#lobby"]
    assert "bob" in lobby.members
    assert "carol" not in lobby.members
    assert lobby.topic == ""


def test_an_event_seen_live_is_not_shown_again_from_history() -> None:
    s = in_lobby()
    feed(s, "@msgid=e9;time=2024-01-01T00:00:09.000Z :dave!u@h JOIN #lobby")
    feed(
        s,
        ":srv BATCH +h chathistory #lobby",
        "@batch=h;msgid=e9;time=2024-01-01T00:00:09.000Z :dave!u@h JOIN #lobby",
        ":srv BATCH -h",
    )
    assert [line.text for line in log(s)].count("dave joined") == 1


def test_a_redact_from_history_marks_the_line_deleted() -> None:
    s = in_lobby()
    feed(s, said("m1", 1, "regretted"))
    feed(
        s,
        ":srv BATCH +h chathistory #lobby",
        "@batch=h;msgid=r1;time=2024-01-01T00:00:05.000Z :bob!u@h REDACT #lobby m1",
        ":srv BATCH -h",
    )
    assert log(s)[-1].deleted


def test_events_count_toward_a_full_catch_up_page() -> None:
    """The server counts events against the limit, so a page of them is a full page."""
    s = in_lobby()
    feed(s, ":srv 005 alice CHATHISTORY=2 :are supported")
    feed(s, said("m1", 1, "seen"))
    s.reconnecting()
    s.start()
    feed(s, f":srv CAP * LS :{CAPS}", f":srv CAP alice ACK :{CAPS}", ":srv 001 alice :Welcome")
    feed(s, ":alice!u@h JOIN #lobby")
    assert sent(s)[-1] == "CHATHISTORY AFTER #lobby msgid=m1 2"
    feed(
        s,
        ":srv BATCH +h chathistory #lobby",
        "@batch=h;msgid=e1;time=2024-01-01T00:00:02.000Z :dave!u@h JOIN #lobby",
        "@batch=h;msgid=e2;time=2024-01-01T00:00:03.000Z :dave!u@h PART #lobby",
        ":srv BATCH -h",
    )
    assert sent(s) == ["CHATHISTORY AFTER #lobby msgid=e2 2"]
