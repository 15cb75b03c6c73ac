"""The client-side IRC session without any network: server lines in, events and lines out."""

from __future__ import annotations

import base64

import pytest

from chatroom.client.commands import execute
from chatroom.client.login import sasl_plain_chunks
from chatroom.client.session import ClientSession
from chatroom.client.state import (
    AuthFailed,
    Closed,
    Event,
    LineKind,
    LoggedIn,
    Registered,
    Show,
)
from chatroom.irc.message import parse


def feed(s: ClientSession, *lines: str) -> list[Event]:
    events: list[Event] = []
    for line in lines:
        events += s.feed(parse(line))
    return events


def sent(s: ClientSession) -> list[str]:
    return [line.decode().rstrip("\r\n") for line in s.take_output()]


def shown(events: list[Event]) -> list[Show]:
    return [e for e in events if isinstance(e, Show)]


def welcomed(nick: str = "alice", caps: str = "") -> ClientSession:
    s = ClientSession(nick)
    s.start()
    feed(s, f":srv CAP * LS :{caps}" if caps else ":srv CAP * LS :")
    feed(
        s, f":srv 001 {nick} :Welcome", f":srv 005 {nick} PREFIX=(ov)@+ CHANTYPES=# :are supported"
    )
    feed(s, f":{nick}!u@h JOIN #lobby", f":srv 353 {nick} = #lobby :@bob {nick}")
    feed(s, f":srv 366 {nick} #lobby :End")
    s.take_output()
    s.set_active("#lobby")
    return s


def test_start_asks_for_capabilities_before_registering() -> None:
    s = ClientSession("alice")
    s.start()
    assert sent(s) == ["CAP LS 302", "NICK alice", "USER alice 0 * :ChatRoom user"]


def test_guest_requests_wanted_caps_then_ends_negotiation_and_joins_lobby() -> None:
    s = ClientSession("alice")
    s.start()
    s.take_output()
    feed(s, ":srv CAP * LS * :server-time echo-message sasl=PLAIN", ":srv CAP * LS :batch foo")
    assert sent(s) == ["CAP REQ :batch echo-message server-time"]
    feed(s, ":srv CAP alice ACK :batch echo-message server-time")
    assert sent(s) == ["CAP END"]
    events = feed(s, ":srv 001 alice :Welcome")
    assert isinstance(events[0], Registered)
    assert sent(s) == ["JOIN #lobby"]
    assert s.caps == {"batch", "echo-message", "server-time"}


def test_password_is_sent_with_sasl_plain_before_cap_end() -> None:
    s = ClientSession("alice", "s3cret-pass")
    s.start()
    s.take_output()
    feed(s, ":srv CAP * LS :sasl=PLAIN server-time")
    assert sent(s) == ["CAP REQ :server-time sasl"]
    feed(s, ":srv CAP alice ACK :server-time sasl")
    assert sent(s) == ["AUTHENTICATE PLAIN"]
    feed(s, "AUTHENTICATE +")
    payload = base64.b64encode(b"alice\0alice\0s3cret-pass").decode()
    assert sent(s) == [f"AUTHENTICATE {payload}"]
    events = feed(
        s, ":srv 900 alice alice!u@h alice :You are now logged in", ":srv 903 alice :SASL ok"
    )
    assert LoggedIn("alice") in events
    assert sent(s) == ["CAP END"]


def test_sasl_response_is_cut_into_400_byte_chunks_with_a_final_plus() -> None:
    """SASL 3.1: a last chunk of exactly 400 bytes is followed by ``AUTHENTICATE +``."""
    # 3 * 300 raw bytes encode to exactly 400 base64 characters... times two.
    password = "p" * (600 - len("a\0a\0"))
    chunks = sasl_plain_chunks("a", password)
    assert [len(c) for c in chunks] == [400, 400, 1]
    assert chunks[-1] == "+"
    assert base64.b64decode("".join(chunks[:-1])) == f"a\0a\0{password}".encode()
    assert sasl_plain_chunks("a", "short")[-1] != "+"


def test_wrong_password_ends_the_attempt_with_a_clear_reason() -> None:
    s = ClientSession("alice", "wrong-pass")
    s.start()
    feed(s, ":srv CAP * LS :sasl", ":srv CAP alice ACK :sasl", "AUTHENTICATE +")
    s.take_output()
    events = feed(s, ":srv 904 alice :SASL authentication failed")
    assert events == [AuthFailed("password", "Wrong password, or no account named alice.")]
    assert sent(s) == ["QUIT :login failed"]


def test_throttled_login_is_told_apart_from_a_wrong_password() -> None:
    s = ClientSession("alice", "pass-word")
    s.start()
    feed(s, ":srv CAP * LS :sasl", ":srv CAP alice ACK :sasl", "AUTHENTICATE +")
    events = feed(s, ":srv 904 alice :SASL authentication failed: too many failed logins")
    assert isinstance(events[0], AuthFailed)
    assert events[0].reason == "throttled"


def test_create_account_registers_before_connecting_when_the_server_allows() -> None:
    s = ClientSession("alice", "new-password", create_account=True)
    s.start()
    s.take_output()
    feed(s, ":srv CAP * LS :draft/account-registration=before-connect sasl")
    assert sent(s) == ["REGISTER alice * new-password"]  # no sasl needed to register
    events = feed(s, ":srv REGISTER SUCCESS alice :Account created")
    assert LoggedIn("alice", created=True) in events
    assert sent(s) == ["CAP END"]


def test_existing_account_name_is_reported_as_such() -> None:
    s = ClientSession("alice", "new-password", create_account=True)
    s.start()
    feed(s, ":srv CAP * LS :draft/account-registration=before-connect")
    events = feed(s, ":srv FAIL REGISTER ACCOUNT_EXISTS alice :Account already exists")
    assert isinstance(events[0], AuthFailed)
    assert events[0].reason == "account_exists"


def test_taken_nickname_before_welcome_stops_the_login() -> None:
    s = ClientSession("alice")
    s.start()
    events = feed(s, ":srv 433 * alice :Nickname is already in use")
    assert isinstance(events[0], AuthFailed)
    assert events[0].reason == "nick_taken"


def test_server_ban_is_reported_with_its_reason_and_not_retried() -> None:
    s = ClientSession("alice")
    s.start()
    events = feed(s, "ERROR :Closing link: You are banned from this server: spamming")
    assert isinstance(events[0], AuthFailed)
    assert events[0].reason == "banned"
    assert "spamming" in events[0].text
    assert Closed in [type(e) for e in events]
    assert not next(e for e in events if isinstance(e, Closed)).retry


def test_names_fill_the_member_list_with_prefixes_ranked() -> None:
    s = welcomed()
    buf = s.buffers["#lobby"]
    assert buf.sorted_members(s.prefix_symbols) == [("bob", "@"), ("alice", "")]


def test_names_asked_for_shows_nicks_without_user_at_host() -> None:
    """With userhost-in-names the server sends ``@bob!u@h``; /names shows ``@bob``."""
    s = welcomed()
    execute(s, "#lobby", "/names")
    events = feed(s, ":srv 353 alice = #lobby :@bob!u@h alice!~alice@127.0.0.1")
    assert [line.text for line in shown(events)] == ["In #lobby: @bob alice"]


def test_mode_changes_update_member_prefixes() -> None:
    s = welcomed()
    feed(s, ":bob!u@h MODE #lobby +ov alice alice")
    assert s.buffers["#lobby"].members["alice"] == ("alice", "@+")
    feed(s, ":bob!u@h MODE #lobby -o alice")
    assert s.buffers["#lobby"].members["alice"] == ("alice", "+")


def test_being_kicked_says_who_and_why_and_leaves_the_room() -> None:
    s = welcomed()
    events = feed(s, ":bob!u@h KICK #lobby alice :be nice")
    line = shown(events)[0]
    assert line.kind is LineKind.KICK
    assert "kicked from #lobby by bob: be nice" in line.text
    assert not s.buffers["#lobby"].joined


def test_messages_elsewhere_count_as_unread_and_mentions_stand_out() -> None:
    s = welcomed()
    feed(s, ":alice!u@h JOIN #dev")
    s.set_active("#lobby")
    feed(s, ":bob!u@h PRIVMSG #dev :hello", ":bob!u@h PRIVMSG #dev :alice: look")
    assert (s.buffers["#dev"].unread, s.buffers["#dev"].mentions) == (2, 1)
    s.set_active("#dev")
    assert (s.buffers["#dev"].unread, s.buffers["#dev"].mentions) == (0, 0)


def test_private_message_opens_a_query_buffer() -> None:
    s = welcomed()
    events = feed(s, ":bob!u@h PRIVMSG alice :psst")
    assert shown(events)[0].buffer == "bob"
    assert s.buffers["bob"].unread == 1


def test_action_and_server_time_are_understood() -> None:
    s = welcomed()
    events = feed(s, "@time=2024-05-01T10:20:30.000Z :bob!u@h PRIVMSG #lobby :\x01ACTION waves\x01")
    line = shown(events)[0]
    assert (line.kind, line.nick, line.text) == (LineKind.ACTION, "bob", "waves")
    assert line.time.isoformat().startswith("2024-05-01T10:20:30")


def test_history_batch_lines_are_marked_and_not_unread() -> None:
    s = welcomed()
    s.set_active("*")
    events = feed(
        s,
        ":srv BATCH +h1 chathistory #lobby",
        "@batch=h1;time=2024-01-01T00:00:00.000Z;msgid=m1 :bob!u@h PRIVMSG #lobby :old news",
        ":srv BATCH -h1",
    )
    assert shown(events)[0].history
    assert s.buffers["#lobby"].unread == 0


def test_typed_lines_become_messages_and_are_echoed_without_echo_message() -> None:
    s = welcomed()
    events = execute(s, "#lobby", "hello all")
    assert sent(s) == ["PRIVMSG #lobby :hello all"]
    assert shown(events)[0].own


def test_moderation_commands_map_to_modes() -> None:
    s = welcomed()
    feed(s, ":bob!u@h MODE #lobby +o alice")
    execute(s, "#lobby", "/ban troll")
    execute(s, "#lobby", "/mute troll")
    execute(s, "#lobby", "/unmute troll")
    execute(s, "#lobby", "/kick troll go away")
    assert sent(s) == [
        "MODE #lobby +b troll!*@*",
        "MODE #lobby +q troll!*@*",
        "MODE #lobby -q troll!*@*",
        "KICK #lobby troll :go away",
    ]


def test_moderation_without_rights_is_refused_with_an_explanation() -> None:
    s = welcomed()
    events = execute(s, "#lobby", "/kick bob")
    assert sent(s) == []
    assert "room operator (@) in #lobby to kick" in shown(events)[0].text


def test_server_refusal_of_moderation_is_a_readable_sentence() -> None:
    s = welcomed()
    events = feed(s, ":srv 482 alice #lobby :You're not channel operator")
    assert shown(events)[0].text == "You need to be a room operator (@) in #lobby to do that."


def test_reconnect_rejoins_the_rooms_that_were_joined() -> None:
    s = welcomed()
    feed(s, ":alice!u@h JOIN #dev")
    s.reconnecting()
    s.start()
    feed(s, ":srv CAP * LS :", ":srv 001 alice :Welcome")
    assert sent(s)[-1] == "JOIN #lobby,#dev"


def test_a_command_the_client_does_not_know_goes_to_the_server_as_typed() -> None:
    s = welcomed()
    assert execute(s, "#lobby", "/stats u") == []
    assert sent(s)[-1] == "STATS u"
    execute(s, "#lobby", "/knock #private :let me in")
    assert sent(s)[-1] == "KNOCK #private :let me in"
    execute(s, "#lobby", "/quote SILENCE +pest")
    execute(s, "#lobby", "/raw WHOWAS bob")
    assert sent(s)[-2:] == ["SILENCE +pest", "WHOWAS bob"]


def test_the_servers_unknown_command_reply_points_to_help() -> None:
    s = welcomed()
    execute(s, "#lobby", "/frobnicate now")
    assert sent(s)[-1] == "FROBNICATE now"
    (error,) = shown(feed(s, ":srv 421 alice FROBNICATE :Unknown command"))
    assert "FROBNICATE" in error.text
    assert "/help" in error.text


def test_a_raw_line_cannot_smuggle_a_second_command() -> None:
    """A block of lines (a paste) is a message, never commands, as in the web client: the
    room gets it as text. /quote itself refuses a line break."""
    s = welcomed()
    execute(s, "#lobby", "/quote PRIVMSG #a :x\r\nQUIT")
    assert sent(s) == ["PRIVMSG #lobby :/quote PRIVMSG #a :x", "PRIVMSG #lobby QUIT"]
    with pytest.raises(ValueError, match="without line breaks"):
        s.send_raw("PRIVMSG #a :x\r\nQUIT")
    assert sent(s) == []


def test_a_text_too_long_for_one_line_is_sent_as_several_without_losing_a_word() -> None:
    s = welcomed()
    words = [f"word{i}" for i in range(200)]
    execute(s, "#lobby", " ".join(words))
    lines = sent(s)
    assert len(lines) > 1
    longest_prefix = f":alice!{'u' * 16}@{'h' * 63} "  # what the server puts in front
    assert all(len(longest_prefix + line) + 2 <= 512 for line in lines)
    got = [w for line in lines for w in parse(line).params[1].split()]
    assert got == words


def test_a_knock_on_a_room_shows_in_that_room_with_how_to_let_them_in() -> None:
    s = welcomed()
    feed(s, ":alice!u@h JOIN #lobby")
    (knock,) = shown(feed(s, ":srv 710 alice #lobby visitor!~v@host :has asked for an invite"))
    assert knock.buffer == "#lobby"
    assert "visitor knocks on #lobby" in knock.text
    assert "/invite visitor" in knock.text
    (delivered,) = shown(feed(s, ":srv 711 alice #closed :Your KNOCK has been delivered"))
    assert "#closed" in delivered.text


def test_silence_changes_are_confirmed_in_words() -> None:
    s = welcomed()
    (added,) = shown(feed(s, ":alice!u@h SILENCE +pest!*@*"))
    assert added.text == "You will not get private messages or invites from pest!*@*."
    (removed,) = shown(feed(s, ":alice!u@h SILENCE -pest!*@*"))
    assert removed.text == "pest!*@* may send you private messages again."


def test_knock_and_silence_are_commands_of_their_own_with_help() -> None:
    s = welcomed()
    execute(s, "#lobby", "/knock #private may I come in?")
    assert sent(s)[-1] == "KNOCK #private :may I come in?"
    execute(s, "#lobby", "/silence +pest")
    assert sent(s)[-1] == "SILENCE +pest"
    execute(s, "#lobby", "/silence")
    assert sent(s)[-1] == "SILENCE"
    listed = " ".join(line.text for line in shown(execute(s, "#lobby", "/help")))
    assert "/knock #room [TEXT]" in listed
    assert "/silence [+MASK|-MASK]" in listed


def test_room_mates_back_from_the_same_restart_get_no_joined_or_quit_line() -> None:
    """A server restart drops everyone; bob coming back with us is not news, and neither is
    the QUIT the server kept for him at its shutdown (event-playback in the catch-up).
    Someone new, or bob a minute later, is told as always."""
    now = [1000.0]
    s = ClientSession("alice", clock=lambda: now[0])
    s.start()
    feed(s, ":srv CAP * LS :batch draft/event-playback")
    feed(s, ":srv 001 alice :Welcome", ":srv 005 alice PREFIX=(ov)@+ CHANTYPES=# :are supported")
    feed(
        s,
        ":alice!u@h JOIN #lobby",
        ":srv 353 alice = #lobby :@bob alice",
        ":srv 366 alice #lobby :E",
    )
    s.reconnecting()
    s.start()
    feed(s, ":srv CAP * LS :", ":srv 001 alice :Welcome")
    feed(s, ":alice!u@h JOIN #lobby", ":srv 353 alice = #lobby :alice", ":srv 366 alice #lobby :E")
    back = shown(feed(s, ":bob!u@h JOIN #lobby", ":carol!u@h JOIN #lobby"))
    assert [line.text for line in back] == ["carol joined"]
    assert "bob" in {nick.lower() for nick, _ in s.buffers["#lobby"].members.values()}
    replayed = feed(
        s,
        ":srv BATCH +h chathistory #lobby",
        "@batch=h;msgid=q1 :bob!u@h QUIT :Server shutting down",
        "@batch=h;msgid=q2 :alice!u@h QUIT :Server shutting down",
        "@batch=h;msgid=q3 :dave!u@h QUIT :Ping timeout",
        "@batch=h;msgid=m1 :bob!u@h PRIVMSG #lobby :said while we were away",
        ":srv BATCH -h",
    )
    assert [line.text for line in shown(replayed)] == [
        "dave quit (Ping timeout)",
        "said while we were away",
    ]
    now[0] += 120  # the restart is long past: bob leaving and coming back is news again
    feed(s, ":bob!u@h PART #lobby")
    assert [line.text for line in shown(feed(s, ":bob!u@h JOIN #lobby"))] == ["bob joined"]
