"""Everything the server confirms survives ``kill -9`` the instant the confirmation arrives.

An operator bans, mutes, registers rooms and changes accounts over IRC (and with
``chatroom admin``) against a real ``chatroom serve``; as soon as the last confirmation
is read, the server is SIGKILLed and started again on the same data directory, and each
confirmed change must still hold there: the ban refuses the user, the mute mutes, the
room is registered with its op list, the unban lets the user back in.

To make "before the commit" observable, the test holds the database's write lock
(SQLite: ``BEGIN IMMEDIATE`` from another connection; PostgreSQL: the row every ChatRoom
transaction updates first, ``FOR UPDATE``) while the commands go in. Nothing can be
committed meanwhile, so a server that confirms before its commit confirms while the lock
is held, and is killed right then, with the lock still held: whatever it confirmed is
then certainly lost, and the checks after the restart fail. A server that waits for its
commits confirms only after the lock is released.
"""

from __future__ import annotations

import base64
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from chatroom.irc.message import Message
from tests.integration.crash_support import (
    SERVE_ENV,
    LineClient,
    Server,
    admin,
    serving,
    welcomed,
)
from tests.store_locks import write_lock

PASSWORD = "acks-survive-password"
NEW_PASSWORD = "changed-and-saved-password"
FP = "c0" * 32
ACCOUNTS = ("op", "bob", "dave", "alice", "carol", "erin", "harry", "ivan")
HOLD_SECONDS = 1.0  # how long the lock is held after the commands went in (< busy timeout)
Check = Callable[[Message], bool]


@dataclass
class Step:
    """One line sent by one client, and the message that confirms it."""

    client: LineClient
    line: str
    confirmed: Check
    done: bool = False


def notice_with(text: str) -> Check:
    return lambda m: m.command == "NOTICE" and text in m.params[-1]


# ----------------------------------------------------------------------------- clients


def login(port: int, nick: str, password: str = PASSWORD, caps: str = "") -> LineClient:
    """A client logged in with SASL PLAIN and welcomed; AssertionError if refused."""
    client, replies = _sasl(port, nick, password, caps)
    assert replies[-1].command == "001", (nick, [m.command for m in replies][-5:])
    return client


def login_refused(port: int, nick: str, password: str = PASSWORD) -> list[str]:
    """The commands of the answers to a login that must not succeed."""
    client, replies = _sasl(port, nick, password, "")
    client.close()
    return [m.command for m in replies]


def _sasl(port: int, nick: str, password: str, caps: str) -> tuple[LineClient, list[Message]]:
    client = LineClient(port)
    client.send(
        "CAP LS 302", f"CAP REQ :sasl {caps}".rstrip(), f"NICK {nick}", f"USER {nick} 0 * :t"
    )
    client.until(lambda m: m.command == "CAP" and "ACK" in m.params)
    client.send("AUTHENTICATE PLAIN")
    client.until(lambda m: m.command == "AUTHENTICATE")
    blob = base64.b64encode(f"\0{nick}\0{password}".encode()).decode()
    client.send(f"AUTHENTICATE {blob}")
    replies = client.until(lambda m: m.command in ("903", "904", "465", "ERROR"))
    if replies[-1].command == "903":
        client.send("CAP END")
        replies += client.until(welcomed)
    return client, replies


def talks(port: int, nick: str) -> bool:
    """Whether ``nick``'s message to a room is delivered (echoed) rather than refused."""
    client = login(port, nick, caps="echo-message")
    try:
        client.send("JOIN #talk")
        client.until(lambda m: m.command == "366")
        client.send("PRIVMSG #talk :can you hear me")
        answer = client.until(lambda m: m.command in ("PRIVMSG", "404"))[-1]
        return answer.command == "PRIVMSG"
    finally:
        client.close()


def ask(client: LineClient, line: str, last: Check) -> list[Message]:
    client.send(line)
    return client.until(last)


def chanserv(client: LineClient, text: str, last: str) -> list[str]:
    """ChanServ's notices to ``text`` up to the one that contains ``last``."""
    replies = ask(client, f"PRIVMSG ChanServ :{text}", notice_with(last))
    return [m.params[-1] for m in replies if m.command == "NOTICE"]


def opered(port: int, nick: str) -> str:
    """The answer to OPER: 381 for an operator account, 491 for another."""
    client = LineClient(port)
    try:
        client.send(f"NICK {nick}", f"USER {nick} 0 * :t")
        client.until(welcomed)
        return ask(client, f"OPER {nick} {PASSWORD}", lambda m: m.command in ("381", "491"))[
            -1
        ].command
    finally:
        client.close()


# ----------------------------------------------------------------------------- the kill


def _read_confirmations(steps: list[Step], seconds: float) -> list[str]:
    """Read each client's answers for up to ``seconds``; the lines confirmed so far."""
    deadline = time.monotonic() + seconds
    clients = {id(step.client): step.client for step in steps}.values()
    while time.monotonic() < deadline and not all(step.done for step in steps):
        for client in clients:
            for msg in client.poll(0.02):
                for step in steps:
                    if step.client is client and not step.done and step.confirmed(msg):
                        step.done = True
                        break
    return [step.line for step in steps if step.done]


def confirmed_then_killed(
    server: Server, steps: list[Step], admin_commands: list[list[str]]
) -> list[str]:
    """Send every step (and run ``chatroom admin``) while the write lock is held, then
    SIGKILL the server the moment the last confirmation is read. Returns the lines that
    were confirmed while nothing could be committed: each of them is a lie."""
    with write_lock(server.store_url) as lock:
        for step in steps:
            step.client.send(step.line)
        shell = [
            subprocess.Popen(
                [sys.executable, "-m", "chatroom", "admin", *args],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env={**os.environ, **SERVE_ENV},
            )
            for args in admin_commands
        ]
        early = _read_confirmations(steps, HOLD_SECONDS)
        if not early:
            lock.rollback()
            _read_confirmations(steps, 20.0)
            for args, process in zip(admin_commands, shell, strict=True):
                out, err = process.communicate(timeout=30)
                assert process.returncode == 0, (args, err)
                assert out, args  # the confirmation, printed after the commit
        server.proc.send_signal(signal.SIGKILL)
        assert server.proc.wait(timeout=10) == -signal.SIGKILL
    for process in shell:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=30)
    for step in steps:
        step.client.close()
    unconfirmed = [step.line for step in steps if not step.done]
    # Killed early, the rest never got an answer; the checks after the restart show
    # what the early confirmations promised and the disk does not hold.
    assert early or not unconfirmed, f"never confirmed: {unconfirmed}"
    return early


# ----------------------------------------------------------------------------- the test


def test_every_confirmed_durable_change_survives_sigkill(tmp_path: Path, store_url: str) -> None:
    """Three rounds of changes, each ended by SIGKILL right after its confirmations and
    checked on a restarted server: what is set, then what is lifted, then what is taken
    off a list. On SQLite and on PostgreSQL."""
    data = tmp_path / "data"
    logs = tmp_path / "logs"
    for name in ACCOUNTS:
        made = admin(
            data, "create", name, "--password-stdin", stdin=PASSWORD + "\n", store_url=store_url
        )
        assert made.returncode == 0, made.stderr
    assert admin(data, "oper", "op", "on", store_url=store_url).returncode == 0
    store = ["--data-dir", str(data), "--store", store_url]

    # Round 1: bans, mutes, registrations, account changes, an operator grant.
    with serving(data, logs, store_url) as server:
        port = server.port
        op = login(port, "op")
        alice = login(port, "alice")
        ask(alice, "JOIN #room", lambda m: m.command == "366")
        ask(alice, "JOIN #gone", lambda m: m.command == "366")
        erin = login(port, "erin")
        gina = LineClient(port)
        gina.send("NICK gina", "USER gina 0 * :t")
        gina.until(welcomed)
        steps = [
            Step(op, "BAN a:bob :spam", notice_with("Banned account:bob")),
            Step(op, "MUTE dave :noise", notice_with("Muted dave")),
            Step(alice, "PRIVMSG ChanServ :REGISTER #room", notice_with("now registered")),
            Step(alice, "PRIVMSG ChanServ :REGISTER #gone", notice_with("#gone is now")),
            Step(
                alice, "SILENCE +pest", lambda m: m.command == "SILENCE" and "+pest" in m.params[0]
            ),
            Step(erin, f"PRIVMSG NickServ :SET PASSWORD {NEW_PASSWORD}", notice_with("changed")),
            Step(erin, f"PRIVMSG NickServ :CERT ADD {FP}", notice_with("now logs in to erin")),
            Step(
                gina,
                f"REGISTER * * {PASSWORD}",
                lambda m: m.command == "REGISTER" and "SUCCESS" in m.params,
            ),
        ]
        shell = [["oper", "harry", "on"], ["mute", "ivan"]]
        early = confirmed_then_killed(server, steps, [[*a, *store] for a in shell])

    with serving(data, logs, store_url) as server:
        port = server.port
        assert "465" in login_refused(port, "bob"), f"bob's ban lost; confirmed early: {early}"
        assert not talks(port, "dave"), "dave's mute lost"
        assert not talks(port, "ivan"), "ivan's mute (chatroom admin) lost"
        alice = login(port, "alice")
        assert "#room is registered to alice." in chanserv(alice, "INFO #room", "Ops by")
        assert "#gone is registered to alice." in chanserv(alice, "INFO #gone", "Ops by")
        silenced = ask(alice, "SILENCE", lambda m: m.command == "272")
        assert [m.params[1] for m in silenced if m.command == "271"] == ["pest!*@*"]
        erin = login(port, "erin", NEW_PASSWORD)
        cert_list = ask(erin, "PRIVMSG NickServ :CERT LIST", notice_with(FP))
        assert any(FP in m.params[-1] for m in cert_list)
        erin.close()
        gina = login(port, "gina")
        assert opered(port, "harry") == "381", "harry's operator grant lost"

        # Round 2: lifting them, the op list, a drop, room bans and topic, an account drop.
        op = login(port, "op")
        ask(alice, "JOIN #room", lambda m: m.command == "366")
        steps = [
            Step(op, "UNBAN a:bob", notice_with("Lifted the server ban on account:bob")),
            Step(op, "UNMUTE dave", notice_with("Unmuted dave")),
            Step(alice, "PRIVMSG ChanServ :ACCESS #room ADD carol", notice_with("carol added")),
            Step(alice, "PRIVMSG ChanServ :DROP #gone", notice_with("no longer registered")),
            Step(alice, "TBAN #room 1h spam!*@*", notice_with("Timed ban on spam!*@*")),
            Step(
                alice,
                "MODE #room +b evil!*@*",
                lambda m: m.command == "MODE" and "evil!*@*" in m.params,
            ),
            Step(alice, "TOPIC #room :kept across kill -9", lambda m: m.command == "TOPIC"),
            Step(gina, "PRIVMSG NickServ :DROP gina", notice_with("has been dropped")),
        ]
        early = confirmed_then_killed(server, steps, [["unmute", "ivan", *store]])

    with serving(data, logs, store_url) as server:
        port = server.port
        login(port, "bob").close()  # the unban held
        assert talks(port, "dave"), f"dave's unmute lost; confirmed early: {early}"
        assert talks(port, "ivan"), "ivan's unmute (chatroom admin) lost"
        alice = login(port, "alice")
        assert "Ops by account: carol" in chanserv(alice, "ACCESS #room LIST", "Ops by")
        assert not any("registered to" in t for t in chanserv(alice, "INFO #gone", "#gone"))
        bans = ask(alice, "MODE #room +b", lambda m: m.command == "368")
        assert {m.params[2] for m in bans if m.command == "367"} == {"spam!*@*", "evil!*@*"}
        topic = ask(alice, "TOPIC #room", lambda m: m.command in ("331", "332"))
        assert topic[-1].params[-1] == "kept across kill -9"
        assert "904" in login_refused(port, "gina"), "gina's account drop lost"

        # Round 3: an op taken off the list, an operator grant revoked.
        steps = [
            Step(alice, "PRIVMSG ChanServ :ACCESS #room DEL carol", notice_with("carol removed")),
        ]
        early = confirmed_then_killed(server, steps, [["oper", "harry", "off", *store]])

    with serving(data, logs, store_url) as server:
        port = server.port
        alice = login(port, "alice")
        listed = chanserv(alice, "ACCESS #room LIST", "Ops by")
        assert "Ops by account: (none)" in listed, f"{listed}; confirmed early: {early}"
        alice.close()
        assert opered(port, "harry") == "491", "harry's operator revoke lost"
