"""A bounded raw-socket fuzzer against a real ``chatroom serve`` (TCP and WebSocket).

Every command of docs/commands.md (and NickServ, ChanServ, HELP) is sent with odd
parameters, labeled (``labeled-response``) and followed by a ``PING`` barrier. It checks:

- the server never writes a traceback or an error to its log;
- every labeled command gets a line carrying its label (a reply or an ``ACK``) before
  the barrier's ``PONG``, and the ``PONG`` itself always comes;
- the server is still there at the end.

Run from the repository root (stops after ``--seconds`` or ``--count`` commands)::

    PYTHONPATH=src:. .venv/bin/python fuzz/fuzz_server.py --seconds 120 --seed 1

What it finds is printed; the server's log stays in the temporary directory it names.
"""

from __future__ import annotations

import argparse
import base64
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.serve_process import CHEAP_ARGON2, ServeProcess

from chatroom.irc.message import ParseError, parse

CAPS = (
    "labeled-response batch message-tags server-time echo-message draft/multiline "
    "draft/chathistory draft/metadata-2 draft/message-redaction draft/channel-rename "
    "draft/read-marker draft/event-playback account-tag away-notify extended-join "
    "invite-notify multi-prefix setname chghost draft/account-registration "
    "extended-monitor draft/pre-away no-implicit-names"
)

COMMANDS = (
    "CAP",
    "PASS",
    "NICK",
    "USER",
    "AUTHENTICATE",
    "REGISTER",
    "PING",
    "PONG",
    "SETNAME",
    "AWAY",
    "JOIN",
    "PART",
    "TOPIC",
    "NAMES",
    "LIST",
    "INVITE",
    "KICK",
    "MODE",
    "PRIVMSG",
    "NOTICE",
    "TAGMSG",
    "RENAME",
    "REDACT",
    "BATCH",
    "CHATHISTORY",
    "METADATA",
    "MARKREAD",
    "MONITOR",
    "WHO",
    "WHOIS",
    "WHOWAS",
    "USERHOST",
    "ISON",
    "LUSERS",
    "MOTD",
    "VERSION",
    "TIME",
    "INFO",
    "ADMIN",
    "STATS",
    "LINKS",
    "HELP",
    "NICKSERV",
    "NS",
    "CHANSERV",
    "CS",
    "OPER",
    "KILL",
    "BAN",
    "UNBAN",
    "BANS",
    "MUTE",
    "UNMUTE",
    "MUTES",
    "WALLOPS",
    "CHGHOST",
    "TBAN",
    "KNOCK",
    "REHASH",
    "SILENCE",
    "ACCEPT",
    "FOO-BAR",
    "",
)

SUBCOMMANDS = {
    "CAP": ["LS", "LS 302", "REQ", "LIST", "END", "ACK", "NAK", "NEW", "LS 99999999999"],
    "NICKSERV": [
        "REGISTER",
        "IDENTIFY",
        "SET",
        "SET PASSWORD",
        "SET MULTICLIENT",
        "SET ALWAYS-ON",
        "DROP",
        "INFO",
        "LOGOUT",
        "HELP",
        "GHOST",
        "REGAIN",
        "CERT",
        "CERT LIST",
        "CERT ADD",
        "CERT DEL",
    ],
    "CHANSERV": ["REGISTER", "INFO", "ACCESS", "OP", "DROP", "HELP"],
    "CHATHISTORY": ["LATEST", "BEFORE", "AFTER", "AROUND", "BETWEEN", "TARGETS"],
    "METADATA": ["GET", "LIST", "SET", "CLEAR", "SUB", "UNSUB", "SUBS", "SYNC"],
    "MONITOR": ["+", "-", "C", "L", "S"],
    "BATCH": ["+b1 draft/multiline", "-b1", "+b1", "+ draft/multiline", "-nosuch"],
    "MARKREAD": [],
    "MODE": [],
}
SUBCOMMANDS["NS"] = SUBCOMMANDS["NICKSERV"]
SUBCOMMANDS["CS"] = SUBCOMMANDS["CHANSERV"]

ODD = [
    "",
    "*",
    "**",
    "?",
    "*!*@*",
    "*@*",
    "a:*",
    "m:*",
    "m:",
    "a:",
    ":",
    "::",
    "#",
    "##",
    "#f",
    "#F",
    "#f,#f,#f",
    ",",
    ",,,",
    "0",
    "-1",
    "1.5",
    "-1.5",
    "1e308",
    "NaN",
    "inf",
    "99999999999999999999999",
    "-0",
    "1h30m",
    "-5m",
    "0s",
    "1x",
    "1h-1m",
    "timestamp=",
    "timestamp=2026-13-45T99:99:99Z",
    "timestamp=0",
    "msgid=",
    "msgid=nope",
    "*",
    "+",
    "-",
    "+b",
    "-b",
    "+bbbbbbbbbbbbbbbb",
    "+l",
    "+l -1",
    "+k",
    "+k :",
    "+o",
    "+v nosuch",
    "+q",
    "+e",
    "+I",
    "+C",
    "+z",
    "+lllll 1 2 3 4 5",
    "ÿ",
    "é",
    "\u200b",
    "\u202e",
    "\ufeff",
    "𝕒𝕕𝕞𝕚𝕟",
    "\u0430dmin",
    "\uff2e\uff49\uff43\uff4b\uff33\uff45\uff52\uff56",
    "\x01ACTION hi\x01",
    "\x01VERSION\x01",
    "\x02\x03",
    "\x7f",
    "\t",
    "\x0b",
    "\x1b[31m",
    "NickServ",
    "ChanServ",
    "fuzz0",
    "fuzz1",
    "$",
    "$*",
    "*.*",
    "0.0.0.0/0",
    "::/0",
    "300.1.1.1/99",
    "1.2.3.4/-1",
    "a" * 64,
    "#" + "a" * 300,
    "x" * 510,
    "é" * 250,
    "LIMIT=0",
    "LIMIT=-1",
    "LIMIT=99999999999",
    "*/*",
    "display-name",
    "avatar",
    "a/b",
    "a b",
    "UPPER",
    "key!",
    "+/",
    "=",
    "====",
    "PLAIN",
    "EXTERNAL",
    "SCRAM-SHA-256",
    "SCRAM-SHA-1",
    "AAAA",
    "*",
    base64.b64encode(b"\0a\0b").decode(),
    base64.b64encode(b"\0\0").decode(),
    base64.b64encode(b"n,,n=x,r=y").decode(),
    base64.b64encode(b"c=biws,r=bad,p=xx").decode(),
    "A" * 400,
    "A" * 401,
    "!!!!",
]

BAD_BYTES = [
    b"\x00",
    b"\xff",
    b"\xc3",
    b"\xed\xa0\x80",
    b"\xf4\x90\x80\x80",
    b"\r",
    b"\x85",
    b"\xe2\x80\xa8",
    b"\x01",
    b"\x1f",
]


# Names and ids the server has handed out, so commands also hit real users and messages.
SEEN_WORDS: list[str] = []


def remember(lines: list[str]) -> None:
    """Keeps the nicks and msgids of ``lines`` (at most a few hundred)."""
    for line in lines:
        if line.startswith("@") and "msgid=" in line:
            msgid = line.split("msgid=", 1)[1].split(";", 1)[0].split(" ", 1)[0]
            SEEN_WORDS.extend([msgid, "msgid=" + msgid])
    del SEEN_WORDS[:-300]


def odd_word(rng: random.Random) -> str:
    word = rng.choice(SEEN_WORDS) if SEEN_WORDS and rng.random() < 0.2 else rng.choice(ODD)
    if rng.random() < 0.1:
        word = word * rng.randint(2, 40)
    return word


def odd_params(rng: random.Random, command: str) -> str:
    parts: list[str] = []
    subs = SUBCOMMANDS.get(command)
    if subs and rng.random() < 0.8:
        parts.append(rng.choice(subs))
    for _ in range(rng.choice([0, 0, 1, 1, 2, 2, 3, 4, 6, 20])):
        parts.append(odd_word(rng))
    if rng.random() < 0.4:
        parts.append(":" + odd_word(rng) + " " + odd_word(rng))
    text = " ".join(p.replace(" ", "") if not p.startswith(":") else p for p in parts[:-1])
    if parts:
        text = (text + " " + parts[-1]).strip()
    return text


def odd_tags(rng: random.Random, label: str) -> str:
    tags: list[str] = []
    roll = rng.random()
    if roll < 0.05:
        tags.append("+x=" + "v" * rng.choice([4000, 4094, 4095, 8180, 8191, 9000]))
    elif roll < 0.1:
        tags.append("+draft/reply=" + odd_word(rng))
    elif roll < 0.15:
        tags.append("batch=b1")
    elif roll < 0.2:
        tags.append("draft/multiline-concat")
    elif roll < 0.25:
        tags.extend(["=x", ";", "a=\\", "+="])
    tags.append(f"label={label}")  # last: a repeated key's last value wins
    return "@" + ";".join(tags)


def build_line(rng: random.Random, label: str) -> tuple[str, bytes]:
    command = rng.choice(COMMANDS)
    if rng.random() < 0.05:
        command = command.lower()
    params = odd_params(rng, command.upper())
    line = f"{odd_tags(rng, label)} {command} {params}".rstrip().encode()
    if rng.random() < 0.15:
        at = rng.randrange(len(line) + 1)
        line = line[:at] + rng.choice(BAD_BYTES) + line[at:]
    if rng.random() < 0.05:
        line += b" " + b"z" * rng.choice([400, 500, 512, 600, 8191])
    return command.upper(), line


class Transport:
    sock: socket.socket

    def send(self, data: bytes) -> None:
        raise NotImplementedError

    def _read(self, timeout: float) -> bytes | None:
        """What arrived within ``timeout`` (b"" if nothing did); None once the socket closed."""
        self.sock.settimeout(timeout)
        try:
            chunk = self.sock.recv(65536)
        except TimeoutError:
            return b""
        except OSError:
            return None
        return chunk or None

    def recv(self, timeout: float) -> list[str] | None:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError


class Tcp(Transport):
    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.buffer = b""

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def recv(self, timeout: float) -> list[str] | None:
        chunk = self._read(timeout)
        if not chunk:
            return None if chunk is None else []
        self.buffer += chunk
        *lines, self.buffer = self.buffer.split(b"\r\n")
        return [line.decode(errors="replace") for line in lines]

    def close(self) -> None:
        self.sock.close()


class WebSocket(Transport):
    """Just enough RFC 6455 for a client: masked text frames out, one line per frame."""

    def __init__(self, port: int, binary: bool) -> None:
        self.binary = binary
        protocol = "binary.ircv3.net" if binary else "text.ircv3.net"
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.sock.sendall(
            (
                f"GET /ws HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
                f"Sec-WebSocket-Protocol: {protocol}\r\n\r\n"
            ).encode()
        )
        answer = b""
        while b"\r\n\r\n" not in answer:
            chunk = self.sock.recv(4096)
            assert chunk, answer
            answer += chunk
        assert answer.startswith(b"HTTP/1.1 101"), answer
        self.buffer = answer.split(b"\r\n\r\n", 1)[1]
        self.closed = False

    def send(self, data: bytes) -> None:
        for line in data.split(b"\r\n"):
            if line:
                self._frame(line)

    def _frame(self, payload: bytes) -> None:
        opcode = 0x82 if self.binary else 0x81
        mask = os.urandom(4)
        body = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        n = len(payload)
        if n < 126:
            head = bytes([opcode, 0x80 | n])
        elif n < 65536:
            head = bytes([opcode, 0x80 | 126]) + n.to_bytes(2, "big")
        else:
            head = bytes([opcode, 0x80 | 127]) + n.to_bytes(8, "big")
        self.sock.sendall(head + mask + body)

    def recv(self, timeout: float) -> list[str] | None:
        if self.closed:
            return None
        chunk = self._read(timeout)
        if not chunk:
            return None if chunk is None else []
        self.buffer += chunk
        lines: list[str] = []
        while len(self.buffer) >= 2:
            opcode, n = self.buffer[0] & 0x0F, self.buffer[1] & 0x7F
            at = 2
            if n == 126:
                n, at = int.from_bytes(self.buffer[2:4], "big"), 4
            elif n == 127:
                n, at = int.from_bytes(self.buffer[2:10], "big"), 10
            if len(self.buffer) < at + n:
                break
            payload, self.buffer = self.buffer[at : at + n], self.buffer[at + n :]
            if opcode == 8:  # closed: what came before still counts, then None
                self.closed = True
                return lines
            if opcode in (1, 2):
                lines.append(payload.decode(errors="replace"))
        return lines

    def close(self) -> None:
        self.sock.close()


class Session:
    def __init__(self, transport: Transport, nick: str) -> None:
        self.t = transport
        self.nick = nick
        self.barrier = 0

    def exchange(self, data: bytes, timeout: float = 15.0) -> tuple[list[str], str]:
        """Sends ``data`` and a PING; returns the lines before the PONG and how it ended:
        'pong', 'closed' or 'silent'."""
        self.barrier += 1
        token = f"barrier{self.barrier}"
        self.t.send(data + b"\r\nPING :" + token.encode() + b"\r\n")
        seen: list[str] = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = self.t.recv(max(0.01, deadline - time.monotonic()))
            if got is None:
                return seen, "closed"
            for line in got:
                if " PONG " in line and line.endswith(token):
                    return seen, "pong"
                seen.append(line)
        return seen, "silent"


def open_session(kind: str, ports: tuple[int, int], nick: str, *, register: bool = True) -> Session:
    """A connection with every capability; without ``register``, still negotiating."""
    transport: Transport = (
        Tcp(ports[0]) if kind == "tcp" else WebSocket(ports[1], binary=kind == "binary-ws")
    )
    session = Session(transport, nick)
    data = f"CAP LS 302\r\nCAP REQ :{CAPS} sasl"
    if register:
        data += f"\r\nCAP END\r\nNICK {nick}\r\nUSER {nick} 0 * :{nick}"
    seen, how = session.exchange(data.encode())
    assert how == "pong", (kind, seen[-5:], how)
    if register:
        session.exchange(b"JOIN #f,#g")
    return session


def find_label(lines: list[str], label: str) -> bool:
    return any(line.startswith("@") and f"label={label}" in line.split(" ", 1)[0] for line in lines)


def scripted_lines() -> list[str]:
    """Hand-picked misuse, run before the random part: each must be answered too."""
    big = "A" * 400
    return [
        "CAP LS 302",
        "CAP LS 302",
        "CAP REQ :",
        "CAP REQ :-",
        "CAP REQ :nosuch",
        "CAP REQ :sasl",
        "CAP REQ :" + " ".join(["batch"] * 300),
        "CAP END",
        "CAP END",
        "CAP",
        "AUTHENTICATE",
        "AUTHENTICATE +",
        "AUTHENTICATE *",
        "AUTHENTICATE PLAIN",
        f"AUTHENTICATE {big}",
        f"AUTHENTICATE {big}",
        "AUTHENTICATE " + "A" * 401,
        "AUTHENTICATE PLAIN",
        "AUTHENTICATE " + "A" * 500,
        "AUTHENTICATE *",
        "AUTHENTICATE *",
        "AUTHENTICATE SCRAM-SHA-256",
        "AUTHENTICATE +",
        "AUTHENTICATE EXTERNAL",
        "AUTHENTICATE !!!",
        "AUTHENTICATE PLAIN",
        "AUTHENTICATE " + "=" * 4,
        "BATCH",
        "BATCH +",
        "BATCH -",
        "BATCH +x",
        "BATCH -x",
        "BATCH +m draft/multiline",
        "BATCH +m draft/multiline #f",
        "BATCH +m draft/multiline #f",
        "@batch=m PRIVMSG #g :x",
        "@batch=m NOTICE #f :x",
        "@batch=m;draft/multiline-concat PRIVMSG #f :",
        "BATCH -m",
        "BATCH -m",
        "@batch=nosuch PRIVMSG #f :x",
        "BATCH +n draft/multiline nosuchnick",
        "BATCH +o draft/multiline #f",
        "@batch=o TAGMSG #f",
        "BATCH -o",
        "BATCH +p chathistory #f",
        "BATCH +q draft/multiline *",
        "BATCH -q",
        "CHATHISTORY",
        "CHATHISTORY LATEST",
        "CHATHISTORY LATEST #f",
        "CHATHISTORY LATEST #f *",
        "CHATHISTORY LATEST #f * -1",
        "CHATHISTORY LATEST #f * 99999999999999999999",
        "CHATHISTORY LATEST #f * 1.5",
        "CHATHISTORY LATEST #f msgid= 10",
        "CHATHISTORY LATEST #f timestamp=x 10",
        "CHATHISTORY BEFORE #f timestamp=9999-99-99 10",
        "CHATHISTORY BEFORE #f timestamp=2026-12-05T07:00:00.000Z 0",
        "CHATHISTORY AFTER #f msgid=nope 10",
        "CHATHISTORY AROUND #f * 10",
        "CHATHISTORY BETWEEN #f * * 10",
        "CHATHISTORY BETWEEN #f timestamp=1 timestamp=2 10",
        "CHATHISTORY TARGETS * * 10",
        "CHATHISTORY TARGETS timestamp=a timestamp=b x",
        "CHATHISTORY TARGETS timestamp=2026-01-01T00:00:00Z timestamp=2020-01-01T00:00:00Z 5",
        "CHATHISTORY LATEST nosuchnick * 10",
        "CHATHISTORY LATEST NickServ * 10",
        "CHATHISTORY LATEST #nosuch * 10",
        "CHATHISTORY FOO #f * 10",
        "CHATHISTORY LATEST * * 10",
        "CHATHISTORY LATEST , * 10",
        "METADATA",
        "METADATA *",
        "METADATA * GET",
        "METADATA * GET !bad",
        "METADATA * GET a b c",
        "METADATA * SET",
        "METADATA * SET !bad x",
        "METADATA * SET UPPER x",
        "METADATA * SET " + "k" * 300 + " x",
        "METADATA * SET ok :" + "v" * 600,
        "METADATA * SET ok",
        "METADATA * CLEAR",
        "METADATA * LIST",
        "METADATA #f SET a x",
        "METADATA #nosuch LIST",
        "METADATA nosuchnick LIST",
        "METADATA * SUB",
        "METADATA * SUB " + " ".join(f"k{i}" for i in range(200)),
        "METADATA * UNSUB !!",
        "METADATA * SUBS",
        "METADATA * SYNC",
        "METADATA #f SYNC",
        "METADATA * FOO",
        "MONITOR + " + ",".join(f"n{i}" for i in range(300)),
        "MONITOR - *",
        "MONITOR L",
        "MONITOR S",
        "MONITOR C",
        "MONITOR",
        "MONITOR X",
        "MARKREAD",
        "MARKREAD #f",
        "MARKREAD #f timestamp=x",
        "MARKREAD #f *",
        "MARKREAD #f timestamp=2026-12-05T07:00:00.000Z",
        "MARKREAD nosuch timestamp=1",
        "REDACT",
        "REDACT #f",
        "REDACT #f nope",
        "REDACT nosuch x :why",
        "RENAME",
        "RENAME #f",
        "RENAME #f #f",
        "RENAME #f #g",
        "RENAME #f x",
        "RENAME #f #\u200b",
        "TBAN #f -5m x",
        "TBAN #f 1.5h x",
        "TBAN #f 99999999999999w x",
        "TBAN #f 0 *",
        "TBAN #f 1h *!*@*",
        "TBAN #f " + "9" * 400 + " x",
        "BAN x 99999999999999w :r",
        "MUTE x 99999999999999w",
        "BAN x " + "9" * 400,
        "MODE #f +b *!*@*",
        "MODE #f +b *",
        "MODE #f +l -1",
        "MODE #f +l 99999999999999999999",
        "MODE #f +k :",
        "MODE #f +lk",
        "MODE #f +bbbbbbbbbbbb",
        "MODE #f -b *!*@*",
        "MODE #f +e a:",
        "MODE #f +b m:",
        "MODE #f +I *",
        "MODE * +i",
        "MODE nosuch",
        "MODE",
        "LIST >-1",
        "LIST <99999999999999999999",
        "LIST C<x",
        "LIST T>",
        "LIST !",
        "LIST !*",
        "LIST *",
        "LIST ,,,",
        "WHO *",
        "WHO",
        "WHO * o",
        "WHO #f %tcuhnfar,1",
        "WHOIS",
        "WHOIS *",
        "WHOIS ,,,",
        "WHOWAS * -1",
        "WHOWAS x 99999999999999999",
        "ISON",
        "USERHOST",
        "USERHOST " + " ".join(["x"] * 50),
        "KICK #f,#g",
        "KICK #f x,y,z",
        "KICK #a,#b,#c x,y",
        "INVITE",
        "INVITE x",
        "INVITE nosuch #f",
        "TOPIC #f :" + "t" * 500,
        "PART",
        "PART ,",
        "JOIN 0",
        "JOIN ,",
        "JOIN #" + "a" * 300,
        "JOIN #a,#b,#c x,y,z,w",
        "JOIN #\u202eevil",
        "JOIN #\ufe0f",
        "NICK",
        "NICK :",
        "NICK " + "n" * 300,
        "NICK \u0430dmin",
        "NICK NickServ",
        "NICK nickserv",
        "NICK 0",
        "NICK -x",
        "SETNAME",
        "SETNAME :",
        "SETNAME :" + "r" * 600,
        "AWAY",
        "AWAY *",
        "AWAY :" + "a" * 600,
        "PRIVMSG",
        "PRIVMSG #f",
        "PRIVMSG #f :",
        "PRIVMSG ,,, :x",
        "PRIVMSG @+#f :x",
        "PRIVMSG @ :x",
        "PRIVMSG $* :x",
        "PRIVMSG #f :\x01",
        "PRIVMSG #f :\x01ACTION",
        "NOTICE * :x",
        "TAGMSG",
        "TAGMSG #f",
        "@+typing=active TAGMSG nosuch",
        "REGISTER",
        "REGISTER * * ",
        "REGISTER x y",
        "REGISTER * bad@ x",
        "REGISTER * * :",
        "REGISTER nope * pw",
        "PASS",
        "PASS :",
        "PASS a:b:c",
        "USER",
        "USER x",
        "USER x 0 * :",
        "OPER",
        "OPER x",
        "KILL",
        "KILL nosuch",
        "BAN",
        "BAN *",
        "BAN a:",
        "BAN 1.2.3.4/99",
        "BAN ::/-1",
        "BAN *!*@* -1h",
        "BAN x 1.5h :r",
        "UNBAN",
        "UNBAN :",
        "BANS x",
        "MUTE",
        "MUTE x -1",
        "UNMUTE",
        "MUTES x",
        "WALLOPS",
        "WALLOPS :",
        "CHGHOST",
        "CHGHOST x",
        "CHGHOST x y z",
        "HELP",
        "HELP :",
        "HELP " + "h" * 500,
        "HELP nosuch",
        "HELP help",
        "PRIVMSG NickServ :",
        "PRIVMSG NickServ :HELP",
        "PRIVMSG NickServ :HELP nosuch",
        "PRIVMSG NickServ :REGISTER",
        "PRIVMSG NickServ :IDENTIFY",
        "PRIVMSG NickServ :IDENTIFY a b c",
        "PRIVMSG NickServ :SET",
        "PRIVMSG NickServ :SET PASSWORD",
        "PRIVMSG NickServ :SET MULTICLIENT",
        "PRIVMSG NickServ :SET MULTICLIENT maybe",
        "PRIVMSG NickServ :SET ALWAYS-ON",
        "PRIVMSG NickServ :SET FOO bar",
        "PRIVMSG NickServ :DROP",
        "PRIVMSG NickServ :INFO *",
        "PRIVMSG NickServ :INFO " + "x" * 400,
        "PRIVMSG NickServ :LOGOUT",
        "PRIVMSG NickServ :GHOST",
        "PRIVMSG NickServ :REGAIN *",
        "PRIVMSG NickServ :CERT",
        "PRIVMSG NickServ :CERT ADD zz",
        "PRIVMSG NickServ :CERT DEL",
        "PRIVMSG NickServ :CERT LIST x y z",
        "NS",
        "NS :",
        "CS",
        "NICKSERV IDENTIFY",
        "CHANSERV",
        "CS REGISTER",
        "CS REGISTER #nosuch",
        "CS INFO",
        "CS INFO x",
        "CS ACCESS",
        "CS ACCESS #f",
        "CS ACCESS #f ADD",
        "CS ACCESS #f FOO x",
        "CS OP",
        "CS OP #nosuch",
        "CS DROP",
        "CS DROP #f",
        "CS HELP nosuch",
        "CS NOSUCH",
        "PRIVMSG ChanServ :",
        "PRIVMSG ChanServ :\x01VERSION\x01",
        "NOTICE NickServ :x",
        "PING",
        "PING :",
        "PONG",
        "PONG :",
    ]


def labeled_as(line: bytes) -> str | None:
    """The label the server reads on ``line`` (None when it cannot parse it)."""
    try:
        return parse(line).tags.get("label")
    except ParseError:
        return None


def log_problems(serve: ServeProcess, seen: dict[str, int]) -> list[str]:
    """Lines of the server's output since the last call that tell of a failure."""
    found: list[str] = []
    for name, text in (("stderr", serve.stderr()), ("stdout", serve.stdout())):
        new, seen[name] = text[seen.get(name, 0) :], len(text)
        found += [
            line
            for line in new.splitlines()
            if any(word in line for word in ("Traceback", "ERROR", "xception"))
        ]
    return found


def open_fds(serve: ServeProcess) -> int:
    return len(os.listdir(f"/proc/{serve.proc.pid}/fd"))


def leaks(serve: ServeProcess, ports: tuple[int, int], fds_at_start: int) -> list[str]:
    """Once every fuzzing connection is closed, the server holds no more of them: one
    new connection is the only user, and its descriptors are back near where they began."""
    time.sleep(2)
    session = open_session("tcp", ports, "leakcheck")
    seen, _ = session.exchange(b"LUSERS")
    found = []
    users = [line for line in seen if " 251 " in line]
    if not users or " 1 users" not in users[0]:
        found.append(f"LEAK users still counted: {users}")
    fds = open_fds(serve)
    if fds > fds_at_start + 3:  # the check's own connection, and a little slack
        found.append(f"LEAK descriptors: {fds_at_start} at start, {fds} at the end")
    session.t.close()
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--count", type=int, default=500_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--transport", choices=["tcp", "websocket", "all"], default="all")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    tmp = Path(tempfile.mkdtemp(prefix="chatroom-fuzz-"))
    print("server files in", tmp, flush=True)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "chatroom",
            "admin",
            "create",
            "fuzzop",
            "--oper",
            "--password-stdin",
            "--data-dir",
            str(tmp / "data"),
        ],
        input=b"fuzzpass\n",
        env={**os.environ, **CHEAP_ARGON2},
        check=True,
        capture_output=True,
    )
    # Flood and connection limits off: the fuzzer sends as fast as the server answers.
    limits = {
        "CHATROOM_LIMITS_FLOOD_PER_SECOND": "0",
        "CHATROOM_LIMITS_CONNECTIONS_PER_ADDRESS": "1000",
        "CHATROOM_LIMITS_CONNECTS_PER_ADDRESS_PER_MINUTE": "100000",
    }
    serve = ServeProcess(tmp, env=limits)
    ports = (serve.irc_port, serve.web_port)
    fds_at_start = open_fds(serve)
    kinds = {
        "all": ["tcp", "text-ws", "binary-ws"],
        "tcp": ["tcp"],
        "websocket": ["text-ws", "binary-ws"],
    }[args.transport]
    findings: list[str] = []
    log_seen: dict[str, int] = {}
    sessions: dict[str, Session] = {}
    stop_at = time.monotonic() + args.seconds
    sent = 0
    # The scripted lines twice per transport: before registration (CAP negotiation still
    # open) and after it.
    scripted = [
        (kind + suffix, text)
        for suffix in ("-pre", "")
        for kind in kinds
        for text in scripted_lines()
    ]
    try:
        while sent < args.count and time.monotonic() < stop_at:
            label = f"L{sent}"
            if sent < len(scripted):
                kind, text = scripted[sent]
                command = text.split(" ", 1)[0].upper()
                line = f"@label={label} {text}".encode()
            else:
                kind = rng.choice(kinds)
                command, line = build_line(rng, label)
            if kind not in sessions:
                nick = f"fuzz{sent % 7}{kind[0]}"
                pre = kind.endswith("-pre")
                SEEN_WORDS.append(nick)
                sessions[kind] = open_session(
                    kind.removesuffix("-pre"), ports, nick, register=not pre
                )
                if not pre and rng.random() < 0.5:
                    sessions[kind].exchange(b"OPER fuzzop fuzzpass")
            session = sessions[kind]
            if kind.startswith("text-ws"):
                # A text frame must be UTF-8 (RFC 6455 8.1): the server rightly closes on
                # anything else, so invalid bytes go only in binary frames and over TCP.
                line = line.decode(errors="replace").encode()
            sent += 1
            seen, how = session.exchange(line)
            remember(seen)
            problems = log_problems(serve, log_seen)
            if problems:
                findings.append(f"LOG after {kind} {line[:300]!r}: {problems[:6]}")
            crashed = [s for s in seen if s.split(" ")[1:2] == ["400"] or " 400 " in s[:80]]
            if crashed:
                findings.append(f"400 {kind} {line[:300]!r}: {crashed[:2]}")
            if how == "silent":
                findings.append(f"SILENT {kind} {line[:300]!r} last {seen[-3:]}")
            elif how == "closed":
                sessions.pop(kind).t.close()
                # websocket.MAX_FRAME: aiohttp closes (1009) on a message that size or more
                too_big = not kind.startswith("tcp") and len(line) >= 16 * 1024
                if (
                    command not in ("QUIT", "KILL", "BAN")
                    and not too_big
                    and not any("ERROR" in s for s in seen)
                ):
                    kept = tmp / f"closed-{label}.bin"
                    kept.write_bytes(line)
                    findings.append(f"CLOSED {kind} ({len(line)} bytes in {kept}) last {seen[-3:]}")
            elif (
                labeled_as(line) == label
                and not find_label(seen, label)
                and command not in ("QUIT",)
                # labeled-response: an opening BATCH is answered when the batch closes
                and not (command == "BATCH" and b" BATCH +" in line)
                and b"batch=" not in line.split(b" ", 1)[0]  # inside a batch: no ACK of its own
                and not any(" 417 " in s or "INVALID_LINE" in s for s in seen)
            ):
                findings.append(f"NOLABEL {kind} {line[:200]!r} got {seen[-3:]}")
    finally:
        alive = serve.proc.poll() is None
        for s in sessions.values():
            s.t.close()
        if alive:
            findings += leaks(serve, ports, fds_at_start)
        serve.stop()
    problems = log_problems(serve, log_seen)
    findings.extend(f"LOG at end: {p}" for p in problems)
    if not alive:
        findings.append("SERVER DIED")
    print(f"sent {sent} commands in {args.seconds - (stop_at - time.monotonic()):.0f}s")
    for finding in findings:
        print(finding)
    return 1 if findings else 0


if __name__ == "__main__":
    raise SystemExit(main())
