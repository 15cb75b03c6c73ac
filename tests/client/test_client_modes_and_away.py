"""/mode and others' away status in the client session: server lines in, lines out.

The same session runs the Textual app and ``--plain``; the tests that drive both against
a real server are in tests/tui (test_tui_modes_and_away.py, test_plain_modes_in_tmux.py).
"""

from __future__ import annotations

from chatroom.client.away import WHO_LIMIT
from chatroom.client.commands import execute
from chatroom.client.session import ClientSession
from chatroom.client.state import LineKind, StateChanged
from tests.client.test_client_session import feed, sent, shown, welcomed


def texts(s: ClientSession, buffer: str) -> list[str]:
    return [line.text for line in s.logs[s.key(buffer)]]


def test_mode_acts_on_the_room_shown_a_named_room_or_a_nick() -> None:
    s = welcomed()
    execute(s, "#lobby", "/mode +m")
    execute(s, "#lobby", "/mode")
    execute(s, "#lobby", "/mode #dev +b bad!*@*")
    execute(s, "#lobby", "/mode alice +i")
    execute(s, "*", "/mode")
    execute(s, "*", "/mode -i")
    assert sent(s) == [
        "MODE #lobby +m",
        "MODE #lobby",
        "MODE #dev +b bad!*@*",
        "MODE alice +i",
        "MODE alice",
        "MODE alice -i",
    ]


def test_mode_is_in_help_and_tab_completion() -> None:
    s = welcomed()
    (line,) = shown(execute(s, "#lobby", "/help mode"))
    assert line.text.startswith("/mode [#room|NICK] [MODES] — ")
    assert any(x.text.startswith("/mode ") for x in shown(execute(s, "#lobby", "/help")))


def test_room_modes_and_lists_are_sentences_in_the_rooms_window() -> None:
    s = welcomed()
    feed(s, ":alice!u@h JOIN #dev", ":srv 366 alice #dev :End")
    s.set_active("#lobby")  # the replies still go to #dev, the room they are about
    feed(
        s,
        ":srv 324 alice #dev +ntl 10",
        ":srv 367 alice #dev bad!*@* alice!u@h 1796459986",
        ":srv 368 alice #dev :End of channel ban list",
        ":srv 729 alice #dev q :End of channel quiet list",
        ":srv 482 alice #dev :You're not channel operator",
    )
    dev = texts(s, "#dev")
    assert dev[-5] == (
        "Modes of #dev: +ntl 10 (no messages from outside, only operators change the topic, "
        "at most 10 people)"
    )
    assert dev[-4].startswith("#dev: bad!*@* is banned (set by alice, ")
    assert dev[-3] == "End of the ban list of #dev (1)."
    assert dev[-2] == "The mute list of #dev is empty."
    assert dev[-1] == "You need to be a room operator (@) in #dev to do that."
    assert s.logs[s.key("#dev")][-1].kind is LineKind.ERROR
    assert not any("#dev" in t for t in texts(s, "#lobby")[-5:])
    feed(s, ":srv 696 alice #dev k * :You must specify a parameter for the key mode")
    assert texts(s, "#dev")[-1] == "#dev: You must specify a parameter for the key mode"
    feed(s, ":srv 347 alice #dev :End of channel invite list")
    assert texts(s, "#dev")[-1] == "The invite exception list of #dev is empty."
    feed(s, ":alice!u@h PART #dev")
    (banned,) = shown(feed(s, ":srv 474 alice #dev :Cannot join channel (+b)"))
    assert banned.buffer == "#lobby"  # typed there: /join #dev after leaving it
    (unknown,) = shown(feed(s, ":srv 472 alice g :is unknown mode char to me"))
    assert unknown.text == "+g is not a room mode this server knows."


def test_user_modes_are_told_with_their_meaning() -> None:
    s = welcomed()
    said = shown(
        feed(
            s,
            ":srv 221 alice +iB",
            ":alice!u@h MODE alice +w",
            ":alice!u@h MODE alice -i",
            ":srv 221 alice +",
        )
    )
    assert [x.text for x in said] == [
        "Your modes: +iB (invisible, bot)",
        "Your modes changed: +w (receives WALLOPS)",
        "Your modes changed: -i (no longer invisible)",
        "You have no user modes set.",
    ]


def test_a_room_list_reply_with_a_time_no_calendar_holds_is_still_shown() -> None:
    s = welcomed()
    (line,) = shown(feed(s, ":srv 367 alice #lobby x!*@* op 99999999999999999999999"))
    assert line.text == "#lobby: x!*@* is banned (set by op)"


def test_who_after_joining_marks_those_already_away_and_away_notify_keeps_it_current() -> None:
    s = welcomed(caps="away-notify")
    feed(s, ":srv CAP alice ACK :away-notify")
    feed(s, ":alice!u@h JOIN #dev", ":srv 353 alice = #dev :alice bob carol")
    assert "WHO #dev" not in sent(s)  # once the member list is complete
    events = feed(s, ":srv 366 alice #dev :End")
    assert sent(s)[-1] == "WHO #dev"
    events += feed(
        s,
        ":srv 352 alice #dev ~b h srv bob G :0 Bob",
        ":srv 352 alice #dev ~c h srv carol H :0 Carol",
        ":srv 315 alice #dev :End of WHO list",
    )
    assert not shown(events)  # the WHO was ours: its lines are not printed
    assert StateChanged("#dev") in events
    assert s.away.is_away("bob")
    assert not s.away.is_away("carol")
    events = feed(s, ":carol!c@h AWAY :brb")
    assert s.away.is_away("CAROL")
    assert StateChanged("#dev") in events
    assert not shown(events)
    feed(s, ":bob!b@h AWAY")
    assert not s.away.is_away("bob")
    feed(s, ":carol!c@h NICK carola")
    assert s.away.is_away("carola")
    assert not s.away.is_away("carol")
    feed(s, ":carola!c@h QUIT :bye")
    assert not s.away.is_away("carola")


def test_a_big_rooms_away_marks_come_from_away_notify_alone_without_a_who() -> None:
    s = welcomed(caps="away-notify")
    feed(s, ":srv CAP alice ACK :away-notify")
    crowd = [f"member{i}" for i in range(WHO_LIMIT + 1)]
    names = [
        f":srv 353 alice = #big :{' '.join(crowd[i : i + 20])}" for i in range(0, len(crowd), 20)
    ]
    feed(s, ":alice!u@h JOIN #big", *names, ":srv 366 alice #big :End")
    assert not [line for line in sent(s) if line.startswith("WHO")]
    feed(s, ":member7!m@h AWAY :lunch")
    assert s.away.is_away("member7")


def test_away_reply_to_private_messages_is_shown_once_per_away_message() -> None:
    s = welcomed()
    execute(s, "#lobby", "/query bob")
    for _ in range(3):
        execute(s, "bob", "are you there?")
        feed(s, ":srv 301 alice bob :at lunch")
    feed(s, ":srv 301 alice bob :in a meeting")
    feed(s, ":srv 301 alice bob :in a meeting")
    told = [t for t in texts(s, "bob") if "is away" in t]
    assert told == ["bob is away: at lunch", "bob is away: in a meeting"]


def test_away_notify_tells_a_private_conversation_when_they_leave_and_come_back() -> None:
    s = welcomed()
    execute(s, "#lobby", "/query bob")
    feed(s, ":bob!b@h AWAY :lunch", ":srv 301 alice bob :lunch", ":bob!b@h AWAY")
    feed(s, ":bob!b@h AWAY :lunch")
    told = [t for t in texts(s, "bob") if "bob is" in t]
    assert told == ["bob is away: lunch", "bob is back.", "bob is away: lunch"]


def test_whois_shows_the_away_message_every_time_it_is_asked() -> None:
    s = welcomed()
    for _ in range(2):
        feed(
            s,
            ":srv 311 alice bob ~b host * :Bob",
            ":srv 301 alice bob :lunch",
            ":srv 318 alice bob :End of WHOIS",
        )
    assert texts(s, "#lobby").count("bob is away: lunch") == 2
