"""Issue 12, section 2, over real sockets: the spec deviations, fixed, as clients see them.

Clients are the ``irc`` library from PyPI where it shows the behaviour, and raw lines
(``raw_support``) where a library would hide it (exact bytes, tags, labels); the 512-byte
rule is checked over TCP and WebSocket alike.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from chatroom.server.core.settings import Limits
from tests.closing import closed_at_end
from tests.integration.moderation_support import PASSWORD, config_with_accounts
from tests.integration.raw_support import (
    Lines,
    TcpLines,
    WsLines,
    body_size,
    contains,
    masked_frame,
    raw_websocket,
    register,
)
from tests.realserver import Client, ServerThread, make_config


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerThread]:
    running = ServerThread(make_config(tmp_path, Limits(flood_per_second=0))).start()
    yield running
    running.stop()


@pytest.fixture
def accounts_server(tmp_path: Path) -> Iterator[ServerThread]:
    """A server whose store holds the accounts alice, bob and carol (``PASSWORD``)."""
    running = ServerThread(config_with_accounts(tmp_path, "alice", "bob", "carol")).start()
    yield running
    running.stop()


@pytest.fixture
def opened() -> Iterator[list[Lines | Client]]:
    yield from closed_at_end()


def _tcp(server: ServerThread, opened: list[Lines | Client], nick: str, caps: str = "") -> Lines:
    client = TcpLines(server.port, nick)
    opened.append(client)
    register(client, caps)
    return client


def _ws(server: ServerThread, opened: list[Lines | Client], nick: str, caps: str = "") -> Lines:
    client = WsLines(server.http_port, nick)
    opened.append(client)
    register(client, caps)
    return client


def _irc(server: ServerThread, opened: list[Lines | Client], nick: str) -> Client:
    client = Client(server.port, nick)
    opened.append(client)
    client.wait_type("welcome")
    return client


def _join(client: Lines, room: str) -> None:
    client.send(f"JOIN {room}")
    client.wait_for(contains(f" 366 {client.nick} {room} "))


# ----------------------------------------------------------------------------- 421


def test_unknown_command_words_get_421_labeled_when_asked(
    server: ServerThread, opened: list[Lines | Client]
) -> None:
    alice = _irc(server, opened, "alice")
    alice.conn.send_raw("NONEXISTENT_COMMAND")
    event = alice.wait_type("unknowncommand")
    assert event.arguments[0] == "NONEXISTENT_COMMAND"
    bob = _tcp(server, opened, "bob", "labeled-response batch")
    bob.send("@label=u1 FOO-BAR x")
    assert bob.wait_for(contains(" 421 bob FOO-BAR ")).startswith("@label=u1 ")


# ----------------------------------------------------------------------------- echo-message


def test_a_message_to_oneself_arrives_as_labeled_echo_and_as_unlabeled_delivery(
    server: ServerThread, opened: list[Lines | Client]
) -> None:
    alice = _tcp(server, opened, "alice", "echo-message labeled-response batch message-tags")
    alice.send("@label=self1 PRIVMSG alice :memo to me", "PING done")
    alice.wait_for(contains("PONG"))
    copies = [line for line in alice.lines if "PRIVMSG alice :memo to me" in line]
    assert len(copies) == 2
    assert sum(line.startswith("@label=self1;") for line in copies) == 1


# ----------------------------------------------------------------------------- tag limits


def test_client_tags_over_4094_bytes_get_417_and_reach_nobody(
    server: ServerThread, opened: list[Lines | Client]
) -> None:
    alice = _tcp(server, opened, "alice", "message-tags")
    bob = _tcp(server, opened, "bob", "message-tags")
    for c in (alice, bob):
        _join(c, "#lobby")
    big = "+big=" + "x" * (4095 - len("+big="))
    alice.send(f"@{big} PRIVMSG #lobby :too much", f"@{big[:-1]} PRIVMSG #lobby :just fits")
    assert " 417 alice " in alice.wait_for(contains(" 417 "))
    bob.wait_for(contains(":just fits"))
    assert not [line for line in bob.lines if "too much" in line]
    alice.send("@+huge=" + "y" * 9000 + " PRIVMSG #lobby :whole section too long", "PING p")
    alice.wait_for(contains("PONG"))
    assert len([line for line in alice.lines if " 417 alice " in line]) == 2


# ----------------------------------------------------------------------------- 512 bytes


@pytest.mark.parametrize("transport", ["tcp", "websocket"])
def test_no_relayed_line_is_longer_than_512_bytes_outside_its_tags(
    server: ServerThread, opened: list[Lines | Client], transport: str
) -> None:
    """A 510-byte PRIVMSG grows by the sender's prefix when relayed: the text is cut at a
    character boundary, the same for the TCP and the WebSocket reader and the echo."""
    make = _tcp if transport == "tcp" else _ws
    sender = make(server, opened, "a_rather_long_nickname", "echo-message")
    tcp_reader = _tcp(server, opened, "tcpreader", "server-time message-tags")
    ws_reader = _ws(server, opened, "wsreader")
    for c in (sender, tcp_reader, ws_reader):
        _join(c, "#lobby")
    text = "ü " * ((510 - len("PRIVMSG #lobby :")) // 3)
    sender.send(f"PRIVMSG #lobby :{text}")
    texts = []
    for c in (sender, tcp_reader, ws_reader):
        line = c.wait_for(contains(" PRIVMSG #lobby :ü"))
        raw = c.raw[c.lines.index(line)]
        assert body_size(raw) <= 512
        texts.append(line.split(" PRIVMSG #lobby :", 1)[1])
    assert len(set(texts)) == 1
    assert text.startswith(texts[0])
    assert len(texts[0]) < len(text)


# ----------------------------------------------------------------------------- empty params


def test_mode_with_an_empty_limit_gets_696_with_no_empty_parameter(
    server: ServerThread, opened: list[Lines | Client]
) -> None:
    alice = _tcp(server, opened, "alice")
    _join(alice, "#mine")
    alice.send("MODE #mine +l :")
    line = alice.wait_for(contains(" 696 "))
    assert " 696 alice #mine l * :" in line
    assert "  " not in line


# ----------------------------------------------------------------------------- mute exception


def test_a_mute_exception_lets_bob_speak_through_a_mute(
    server: ServerThread, opened: list[Lines | Client]
) -> None:
    alice = _irc(server, opened, "alice")
    alice.conn.join("#mine")
    alice.wait_type("endofnames")
    bob = _irc(server, opened, "bob")
    bob.conn.join("#mine")
    bob.wait_type("endofnames")
    alice.conn.mode("#mine", "+b m:bob!*@*")
    alice.conn.mode("#mine", "+e m:bob!*@*")
    bob.wait_for(lambda e: e.type == "mode" and "+e" in e.arguments)
    bob.conn.privmsg("#mine", "I may speak")
    assert alice.wait_type("pubmsg").arguments == ["I may speak"]
    assert not [e for e in bob.events if e.type == "cannotsendtochan"]


# ----------------------------------------------------------------------------- USER


def test_user_with_empty_real_name_gets_461_and_emoji_user_name_registers(
    server: ServerThread, opened: list[Lines | Client]
) -> None:
    ann = TcpLines(server.port, "ann")
    opened.append(ann)
    ann.send("NICK ann", "USER ann * * :")
    assert " 461 ann USER " in ann.wait_for(contains(" 461 "))
    ann.send("USER 🙂🙂 0 * :Ann")
    welcome = ann.wait_for(contains(" 001 ann "))
    assert welcome.endswith("ann!~user@127.0.0.1")


# ----------------------------------------------------------------------------- KICK


def test_kick_two_rooms_two_nicks_kicks_the_pairs(
    server: ServerThread, opened: list[Lines | Client]
) -> None:
    alice, bob, carol = (_irc(server, opened, nick) for nick in ("alice", "bob", "carol"))
    for client in (alice, bob, carol):
        client.conn.join("#a,#b")
        client.wait_for(
            lambda e: e.type == "endofnames" and e.arguments[0] == "#b",
        )
    alice.conn.send_raw("KICK #a,#b bob,carol :pairs")
    kicks: list[tuple[str, str]] = []
    deadline = time.monotonic() + 10
    while len(kicks) < 2 and time.monotonic() < deadline:
        alice.pump(0.05)
        kicks = [(e.target, e.arguments[0]) for e in alice.events if e.type == "kick"]
    assert kicks == [("#a", "bob"), ("#b", "carol")]


# ----------------------------------------------------------------------------- account-tag


def test_invite_from_a_logged_in_user_carries_the_account_tag(
    accounts_server: ServerThread, opened: list[Lines | Client]
) -> None:
    alice = TcpLines(accounts_server.port, "alice")
    opened.append(alice)
    register(alice, password=PASSWORD)
    bob = _tcp(accounts_server, opened, "bob", "account-tag")
    _join(alice, "#den")
    alice.send("INVITE bob #den")
    invite = bob.wait_for(contains(" INVITE bob #den"))
    assert invite.startswith("@account=alice ")


def test_rename_and_a_login_from_a_logged_in_user_carry_the_account_tag(
    accounts_server: ServerThread, opened: list[Lines | Client]
) -> None:
    alice = TcpLines(accounts_server.port, "alice")
    opened.append(alice)
    register(alice, password=PASSWORD)
    bob = _tcp(accounts_server, opened, "bob", "account-tag account-notify draft/channel-rename")
    carol = _tcp(accounts_server, opened, "carol", "account-tag")  # no rename cap: the fallback
    _join(alice, "#den")
    _join(bob, "#den")
    _join(carol, "#den")
    alice.send("RENAME #den #lair :moving")
    rename = bob.wait_for(contains(" RENAME #den #lair"))
    assert rename.startswith("@account=alice "), rename
    carol.send(f"PRIVMSG NickServ :IDENTIFY carol {PASSWORD}")
    login = bob.wait_for(contains(" ACCOUNT carol"))
    assert login.startswith("@account=carol "), login


# ----------------------------------------------------------------------------- TARGETS


def test_chathistory_answers_an_unknown_subcommand_and_missing_parameters_as_the_spec_says(
    server: ServerThread, opened: list[Lines | Client]
) -> None:
    reader = _tcp(server, opened, "reader", "draft/chathistory batch server-time")
    reader.send("CHATHISTORY SIDEWAYS #lobby * 10")
    assert " FAIL CHATHISTORY UNKNOWN_COMMAND SIDEWAYS " in reader.wait_for(contains(" FAIL "))
    reader.send("CHATHISTORY")
    reader.wait_for(contains(" FAIL CHATHISTORY NEED_MORE_PARAMS * "))


def test_chathistory_targets_leaves_out_rooms_that_spoke_after_the_window(
    server: ServerThread, opened: list[Lines | Client]
) -> None:
    caps = "draft/chathistory batch server-time message-tags echo-message"
    alice = _tcp(server, opened, "alice", caps)
    _join(alice, "#early")
    _join(alice, "#late")
    said_at = {}
    for room, text in (("#early", "one"), ("#late", "two"), ("#late", "three")):
        text = f"line {text}"
        time.sleep(0.01)  # distinct milliseconds, so the window's end falls between lines
        alice.send(f"PRIVMSG {room} :{text}")
        echo = alice.wait_for(contains(f" PRIVMSG {room} :{text}"))
        said_at[text[5:]] = echo.split("time=", 1)[1].split(";", 1)[0].split(" ", 1)[0]
    # The window ends at "three": #late's latest line is not inside it, #early's is.
    window = f"timestamp=2000-01-01T00:00:00.000Z timestamp={said_at['three']}"
    alice.send(f"CHATHISTORY TARGETS {window} 10")
    alice.wait_for(contains(" BATCH -"))
    listed = [
        line.split(" CHATHISTORY TARGETS ", 1)[1].split()[0]
        for line in alice.lines
        if " CHATHISTORY TARGETS " in line
    ]
    assert listed == ["#early"]


# ----------------------------------------------------------------------------- replay on join


def test_join_replays_nothing_to_a_bot_that_cannot_tell_history_from_live(
    server: ServerThread, opened: list[Lines | Client]
) -> None:
    """The ``irc`` library as a bot: without batch support it would answer an old !ping."""
    alice = _tcp(server, opened, "alice")
    _join(alice, "#lobby")
    alice.send("PRIVMSG #lobby :!ping")
    bot = _irc(server, opened, "pingbot")
    bot.conn.join("#lobby")
    bot.wait_type("endofnames")
    bot.conn.send_raw("PING barrier")
    bot.wait_for(lambda e: e.type == "pong")
    assert not [e for e in bot.events if e.type == "pubmsg"]


def test_an_account_gets_each_line_once_across_rejoins_and_reconnects(
    accounts_server: ServerThread, opened: list[Lines | Client]
) -> None:
    speaker = _tcp(accounts_server, opened, "speaker")
    _join(speaker, "#lobby")
    speaker.send("PRIVMSG #lobby :said before carol came")

    def carol_joins() -> list[str]:
        carol = TcpLines(accounts_server.port, "carol")
        opened.append(carol)
        register(carol, "batch server-time", PASSWORD)
        carol.send("JOIN #lobby", "PING joined")
        carol.wait_for(contains("PONG"))
        replay = [line for line in carol.lines if " PRIVMSG #lobby :" in line]
        assert all(";time=" in line or line.startswith("@time=") for line in replay)
        carol.send("QUIT :later")
        carol.wait_for(contains("ERROR"))
        return [line.split(" PRIVMSG #lobby :", 1)[1] for line in replay]

    assert carol_joins() == ["said before carol came"]
    assert carol_joins() == []
    speaker.send("PRIVMSG #lobby :said while carol was away")
    assert carol_joins() == ["said while carol was away"]


# ----------------------------------------------------------------------------- quit reasons


def test_a_reset_connection_quits_with_plain_words(
    server: ServerThread, opened: list[Lines | Client]
) -> None:
    watcher = _tcp(server, opened, "watcher")
    leaver = TcpLines(server.port, "leaver")
    opened.append(leaver)
    register(leaver)
    for c in (watcher, leaver):
        _join(c, "#lobby")
    leaver.reset()
    quit_line = watcher.wait_for(contains(" QUIT "))
    assert quit_line.endswith(" QUIT :Connection reset by peer")


def test_a_broken_websocket_quits_with_plain_words(
    server: ServerThread, opened: list[Lines | Client]
) -> None:
    watcher = _tcp(server, opened, "watcher")
    _join(watcher, "#lobby")
    sock = raw_websocket(server.http_port)
    try:
        for line in ("NICK wsbroken", "USER w 0 * :W", "JOIN #lobby"):
            sock.sendall(masked_frame(line.encode()))
        watcher.wait_for(contains(":wsbroken!"))
        sock.sendall(masked_frame(b"PING x", first_byte=0xF1))  # reserved bits set
        quit_line = watcher.wait_for(contains(" QUIT "))
    finally:
        sock.close()
    assert quit_line.endswith(" QUIT :WebSocket protocol error")
