"""The login throttle against a real server: parallel guesses, and guesses from 32 addresses.

Each guesser is a raw socket bound to its own address in 127.0.0.0/8 before connecting, so
the server sees 127.0.0.5, 127.0.0.6, ... as different clients. The throttle's clock is
a ``FakeClock`` the test moves (an hour of guessing takes a few seconds); everything else
(sockets, the argon2id workers, the event loop) is the real server.
"""

from __future__ import annotations

import asyncio
import base64
import re
import socket
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import aiohttp
import pytest

from chatroom.config import Argon2Config
from chatroom.server.auth.throttle import LoginThrottle
from chatroom.server.harness import FakeClock
from tests.closing import closed_at_end
from tests.realserver import ServerThread, make_config
from tests.serve_process import ServeProcess

HOUR = 3600.0
PASSWORD = "correct horse battery"
THROTTLED = re.compile(r"Too many failed logins; try again in (\d+) seconds")


class Guesser:
    """One connection from ``ip``, registered with the sasl cap, guessing with SASL PLAIN."""

    def __init__(self, port: int, ip: str, nick: str) -> None:
        self.ip = ip
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.settimeout(15)
        self.sock.bind((ip, 0))
        self.sock.connect(("127.0.0.1", port))
        self.buffer = b""
        self.send("CAP LS 302", "CAP REQ :sasl", f"NICK {nick}", f"USER {nick} 0 * :{nick}")
        self.read_until(" ACK ")
        self.send("CAP END")
        self.read_until(" 001 ")

    def send(self, *lines: str) -> None:
        self.sock.sendall("".join(line + "\r\n" for line in lines).encode())

    def read_until(self, needle: str) -> str:
        """The first line containing ``needle`` (lines before it are dropped)."""
        deadline = time.monotonic() + 15
        while True:
            while b"\r\n" in self.buffer:
                raw, self.buffer = self.buffer.split(b"\r\n", 1)
                line = raw.decode("utf-8", "replace")
                if needle in line:
                    return line
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.ip}: never saw {needle!r}")
            chunk = self.sock.recv(65536)
            if not chunk:
                raise AssertionError(f"{self.ip}: closed while waiting for {needle!r}")
            self.buffer += chunk

    def start_plain(self) -> None:
        self.send("AUTHENTICATE PLAIN")
        self.read_until("AUTHENTICATE +")

    def send_plain(self, account: str, password: str) -> None:
        payload = base64.b64encode(f"\0{account}\0{password}".encode()).decode()
        self.send(f"AUTHENTICATE {payload}")

    def answer(self) -> str:
        """903 or 904 text, e.g. "SASL authentication failed: Too many failed logins; ..."."""
        while True:
            line = self.read_until(" 90")
            if " 903 " in line or " 904 " in line:
                return line

    def login(self, account: str, password: str) -> str:
        self.start_plain()
        self.send_plain(account, password)
        return self.answer()

    def close(self) -> None:
        self.sock.close()


def guess_together(guessers: list[Guesser], password: str = "wrong guess") -> list[str]:
    """Every guesser sends its guess at once; their answers, in the same order."""
    for guesser in guessers:
        guesser.start_plain()
    for guesser in guessers:  # back to back: all arrive while the first checks run
        guesser.send_plain("alice", password)
    return [guesser.answer() for guesser in guessers]


def checked(answers: list[str]) -> int:
    """Guesses the server checked: refused for the password, not by the throttle."""
    return sum(1 for a in answers if " 904 " in a and not THROTTLED.search(a))


@pytest.fixture
def made() -> Iterator[list[Guesser]]:
    yield from closed_at_end()


def start_server(tmp_path: Path, cheap_hashing: bool) -> tuple[ServerThread, FakeClock]:
    config = make_config(tmp_path)
    limits = replace(config.core.limits, flood_burst=1000, flood_per_second=1000.0)
    config = replace(config, core=replace(config.core, limits=limits))
    if cheap_hashing:  # this test is about counting checks, not about argon2's cost
        config = replace(config, argon2=Argon2Config(1024, 1, 1))
    server = ServerThread(config).start()
    assert server.shell is not None
    clock = FakeClock(time.time())
    server.shell.world.throttle = LoginThrottle(clock)
    return server, clock


def register_alice(server: ServerThread) -> None:
    g = Guesser(server.port, "127.0.0.1", "alice")
    g.send(f"REGISTER * * :{PASSWORD}")
    g.read_until("REGISTER SUCCESS")
    g.close()


def test_sixteen_parallel_guesses_from_one_address_get_the_free_three(
    tmp_path: Path, made: list[Guesser]
) -> None:
    """Default argon2id cost, so the 16 really are in flight together."""
    server, clock = start_server(tmp_path, cheap_hashing=False)
    try:
        register_alice(server)
        made.extend(Guesser(server.port, "127.0.0.5", f"g{i}") for i in range(16))
        answers = guess_together(made)
        assert checked(answers) == 3
        assert sum("try again in 1 seconds" in a for a in answers) == 13
        clock.advance(1.0)
        answers = guess_together(made)
        assert checked(answers) == 1
        assert sum("try again in 2 seconds" in a for a in answers) == 15
        assert server.shell is not None
        assert server.shell.world.stats.failed_logins == 4
        # The owner, at an address that never failed, is not locked out by this.
        owner = Guesser(server.port, "127.0.0.6", "owner")
        made.append(owner)
        assert " 903 " in owner.login("alice", PASSWORD)
        # A WebSocket from the guessing address is held by the same budget.
        for guesser in made[:16]:
            guesser.close()  # 16 connections is all one address may hold
        deadline = time.monotonic() + 10  # the web port counts the next one at accept
        while server.shell.world.per_address.get("127.0.0.5") and time.monotonic() < deadline:
            time.sleep(0.02)
        assert THROTTLED.search(asyncio.run(websocket_guess(server.http_port, "127.0.0.5")))
    finally:
        server.stop()


async def websocket_guess(http_port: int, ip: str) -> str:
    """SASL PLAIN over IRC-over-WebSocket from ``ip``; the 903/904 line."""
    payload = base64.b64encode(b"\0alice\0wrong guess").decode()
    lines = ["CAP LS 302", "CAP REQ :sasl", "NICK wsguess", "USER w 0 * :w", "AUTHENTICATE PLAIN"]
    connector = aiohttp.TCPConnector(local_addr=(ip, 0))
    async with (
        aiohttp.ClientSession(connector=connector) as session,
        session.ws_connect(f"http://127.0.0.1:{http_port}/ws", protocols=("text.ircv3.net",)) as ws,
    ):
        for line in lines:
            await ws.send_str(line)
        while True:
            msg = await ws.receive(timeout=15)
            assert msg.type in (aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.BINARY), msg
            text = msg.data if isinstance(msg.data, str) else msg.data.decode()
            if text.startswith("AUTHENTICATE +"):
                await ws.send_str(f"AUTHENTICATE {payload}")
            elif " 903 " in text or " 904 " in text:
                return text


def most_in_an_hour(times: list[float]) -> int:
    return max(sum(1 for t in times if start <= t < start + HOUR) for start in times)


def test_thirty_two_addresses_get_the_account_budget_and_the_owner_still_gets_in(
    tmp_path: Path, made: list[Guesser]
) -> None:
    """Documented in docs/security.md: at most 28 checked guesses at one account in any
    hour, whatever the number of addresses; the owner gets in from an address that logged
    in before, and from a new one once the reserve is not being drained."""
    server, clock = start_server(tmp_path, cheap_hashing=True)
    try:
        register_alice(server)
        home = Guesser(server.port, "127.0.0.100", "home")
        made.append(home)
        assert " 903 " in home.login("alice", PASSWORD)  # the owner's usual address
        attackers = [Guesser(server.port, f"127.0.1.{n}", f"g{n}") for n in range(1, 33)]
        made.extend(attackers)
        times: list[float] = []
        failed_from: set[str] = set()
        first_hour = -1
        start = clock.now
        while len(failed_from) < len(attackers) and clock.now < start + 16 * HOUR:
            answers = guess_together(attackers)
            for guesser, answer in zip(attackers, answers, strict=True):
                if not THROTTLED.search(answer):
                    times.append(clock.now)
                    failed_from.add(guesser.ip)
            if clock.now - start < HOUR <= clock.now - start + 300:
                first_hour = len(times)
            waits = [int(m.group(1)) for a in answers if (m := THROTTLED.search(a))]
            clock.advance(min(waits, default=1))
        assert len(failed_from) == len(attackers), "the attack ended before using every address"
        assert 22 <= first_hour <= 28
        assert most_in_an_hour(times) <= 28
        # Right after a round every guessing address is refused ...
        assert checked(guess_together(attackers)) <= 1
        assert checked(guess_together(attackers)) == 0
        # ... while the owner gets in from home at once,
        again = Guesser(server.port, "127.0.0.100", "home2")
        made.append(again)
        assert " 903 " in again.login("alice", PASSWORD)
        # and from a new place as soon as a reserve try comes back (at most 20 minutes),
        # however the attack goes on: no address of the attacker may take it any more.
        elsewhere = Guesser(server.port, "127.0.2.1", "travel")
        made.append(elsewhere)
        arrived = clock.now
        while " 903 " not in (answer := elsewhere.login("alice", PASSWORD)):
            hint = THROTTLED.search(answer)
            assert hint is not None, answer
            clock.advance(int(hint.group(1)))
            assert clock.now - arrived <= 20 * 60
            guess_together(attackers)
    finally:
        server.stop()


def test_guesses_at_the_server_password_over_one_connection_are_throttled(
    tmp_path: Path,
) -> None:
    """A real ``chatroom serve`` with ``server.password``: one connection sent PASS after
    PASS, each answered by an early REGISTER (before: 40 guesses in a few seconds, and the
    right one created the account). Now the fourth wrong guess closes the connection."""
    server = ServeProcess(tmp_path, env={"CHATROOM_SERVER_PASSWORD": "the-real-one"})
    try:
        with socket.create_connection(("127.0.0.1", server.irc_port), timeout=15) as sock:
            sock.sendall(b"CAP LS 302\r\nNICK guesser\r\n")
            lines = "".join(
                f"PASS guess{i}\r\nREGISTER * * a-long-password{i}\r\n" for i in range(40)
            )
            sock.sendall((lines + "PASS the-real-one\r\nREGISTER * * a-long-password\r\n").encode())
            data = b""
            while b"ERROR " not in data and b"REGISTER SUCCESS" not in data:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                data += chunk
        text = data.decode()
        assert text.count("Send the server password (PASS) first") == 3
        assert THROTTLED.search(text)
        assert "REGISTER SUCCESS" not in text
    finally:
        server.stop()
