"""What a newcomer has in hand: ``chatroom serve`` as ``make serve`` runs it (plain IRC,
IRC over TLS with the self-signed certificate, the web client; free ports here), the
fingerprints it prints, accounts made with ``chatroom admin create``, and the client
set-ups of docs/clients.md, taken from the document itself so that a set-up that stops
working fails a test.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tests.realserver import Client
from tests.serve_process import CHEAP_ARGON2, ServeProcess

CLIENTS_DOC = Path(__file__).resolve().parents[2] / "docs" / "clients.md"
# The placeholders docs/clients.md asks the reader to replace.
DOC_PASSWORD = "PASSWORD"
DOC_FINGERPRINT = "FINGERPRINT"
DOC_COLONS = "52:1E:..."
DOC_ACCOUNT = "alice"
DOC_PORT = "6697"


@dataclass(frozen=True)
class Served:
    """A running ``chatroom serve`` as its start-up lines describe it."""

    process: ServeProcess
    irc_port: int
    tls_port: int
    fingerprint: str  # 64 hex digits, the form WeeChat pins
    colons: str  # 52:1E:..., the form Irssi pins
    data_dir: Path


def serve(tmp_path: Path) -> Served:
    """``chatroom serve`` on free ports with its TLS listener on (the default), read back
    from what it prints, as the quick start tells a newcomer to read it."""
    process = ServeProcess(tmp_path, args=("--tls-port", "0"))
    try:
        out = _wait_for(process, "colon form")
        tls = re.search(r"listening for IRC over TLS on \S+:(\d+)", out)
        hexa = re.search(r"TLS certificate SHA-256 ([0-9a-f]{64})", out)
        colons = re.search(
            r"colon form, for Irssi, ZNC, openssl\) ((?:[0-9A-F]{2}:){31}[0-9A-F]{2})", out
        )
        assert tls, out
        assert hexa, out
        assert colons, out
    except BaseException:
        process.stop()
        raise
    return Served(
        process,
        process.irc_port,
        int(tls.group(1)),
        hexa.group(1),
        colons.group(1),
        tmp_path / "data",
    )


def _wait_for(process: ServeProcess, text: str) -> str:
    deadline = time.monotonic() + 30
    while text not in process.stdout():
        assert time.monotonic() < deadline, process.stdout() + process.stderr()
        time.sleep(0.05)
    return process.stdout()


def create_account(served: Served, name: str, password: str) -> None:
    """``chatroom admin create NAME`` against the running server's data directory."""
    done = subprocess.run(
        [
            *(sys.executable, "-m", "chatroom", "admin", "create", name),
            *("--password-stdin", "--data-dir", str(served.data_dir)),
        ],
        input=password + "\n",
        capture_output=True,
        text=True,
        env={**os.environ, **CHEAP_ARGON2},
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"created account {name}" in done.stdout, done.stdout


def documented_blocks(heading: str) -> list[list[str]]:
    """The code blocks under ``## heading`` in docs/clients.md, as lists of lines."""
    text = CLIENTS_DOC.read_text(encoding="utf-8")
    start = text.index(f"\n## {heading}")
    end = text.find("\n## ", start + 1)
    section = text[start : end if end >= 0 else len(text)]
    return [block.strip("\n").splitlines() for block in re.findall(r"```\n(.*?)```", section, re.S)]


def filled(lines: list[str], served: Served, account: str, password: str) -> list[str]:
    """A documented set-up with this server's port and fingerprints and this account, as a
    reader fills in the placeholders."""
    port = str(served.tls_port)
    replacements: list[tuple[str, str]] = [
        (f"127.0.0.1/{DOC_PORT}", f"127.0.0.1/{port}"),  # WeeChat's host/port
        (f"127.0.0.1 {DOC_PORT}", f"127.0.0.1 {port}"),  # Irssi's host port
        (DOC_FINGERPRINT, served.fingerprint),
        (DOC_COLONS, served.colons),
        (DOC_PASSWORD, password),
    ]
    out = []
    for line in lines:
        for placeholder, value in replacements:
            line = line.replace(placeholder, value)
        out.append(re.sub(rf"\b{DOC_ACCOUNT}\b", account, line))
    return out


def pinned_instead(lines: list[str], pinned: str, other: str | None) -> list[str]:
    """A filled set-up with its pinned fingerprint replaced by ``other`` (a wrong one, to
    see the client refuse the server), or as it is when ``other`` is None."""
    if other is None:
        return lines
    return [line.replace(pinned, other) for line in lines]


def whois_round_trip(peer: Client, nick: str) -> list[str]:
    """The peer asks WHOIS ``nick`` and waits for the end of the answer; every line the
    peer has received so far is returned."""
    peer.conn.whois(nick)
    peer.wait_for(lambda e: e.type == "endofwhois")
    return peer.raw_lines()


def wait_until(check: Callable[[], bool], what: Callable[[], str], timeout: float = 20) -> None:
    """Poll ``check``; fail with ``what()`` (what the program showed) when it never holds."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"never happened; the program showed:\n{what()}")
        time.sleep(0.2)
