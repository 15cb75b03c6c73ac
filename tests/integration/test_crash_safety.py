"""What the server acknowledged survives the server dying: SIGKILL under load, and SIGTERM.

The promise (docs/architecture.md, History and the store writer): a REGISTER is answered
only after its commit, so an account a client was told about is on disk even if the
process is killed the next instant; ``chatroom admin ban`` confirms only after its commit;
on a clean shutdown every chat line that was delivered (echoed back with its msgid) is in
history. These tests run the real ``chatroom serve`` in a subprocess, because only a real
process can be SIGKILLed, and check the databases it leaves behind: SQLite files, or a
PostgreSQL database (``store_url`` runs each test on both).
"""

from __future__ import annotations

import base64
import signal
import sqlite3
import threading
import time
from pathlib import Path

from chatroom.irc.message import Message
from chatroom.server.store.factory import open_history, open_store
from chatroom.server.store.url import SqliteLocation, parse_store_url
from tests.integration.crash_support import LineClient, admin, serving, welcomed

PASSWORD = "crash-safe-password"
WORKERS = 4
# A worker registers a few hundred accounts a second; these bound a run that goes wrong.
MAX_ACCOUNTS_PER_WORKER = 3000
LOAD_SECONDS = 30.0
BANS = 3


# ----------------------------------------------------------------------------- SIGKILL


def _register_accounts(port: int, prefix: str, acked: list[str], stop: threading.Event) -> None:
    """One load worker: connect, register an account, talk, quit; again until stopped.

    Only a ``REGISTER SUCCESS`` line actually read from the socket counts as acknowledged.
    """
    deadline = time.monotonic() + LOAD_SECONDS
    for i in range(MAX_ACCOUNTS_PER_WORKER):
        if stop.is_set() or time.monotonic() > deadline:
            return
        nick = f"{prefix}n{i}"
        try:
            client = LineClient(port, timeout=5)
        except OSError:
            return  # the server is gone
        try:
            client.send(
                f"NICK {nick}",
                f"USER {nick} 0 * :load",
                f"REGISTER * * {PASSWORD}",
                "JOIN #load",
                *(f"PRIVMSG #load :{nick} says {k}" for k in range(5)),
            )
            replies = client.until(lambda m: m.command in ("REGISTER", "FAIL"))
            answer = replies[-1]
            if answer.command == "REGISTER" and answer.params[0] == "SUCCESS":
                acked.append(answer.params[1])
            client.send("QUIT :next")
        except (OSError, AssertionError):
            return  # killed mid-conversation: what was read before is already recorded
        finally:
            client.close()


def _integrity(store_url: str) -> list[str]:
    """SQLite's integrity_check of both files ("ok" each); PostgreSQL keeps its own
    consistency across a client's death, so there the check is that both stores open."""
    location = parse_store_url(store_url, Path("/nonexistent"))
    if not isinstance(location, SqliteLocation):
        open_store(location).close()
        open_history(location).close()
        return ["ok", "ok"]
    found = []
    for path in (location.store_path, location.history_path):
        db = sqlite3.connect(path)
        try:
            found.append(str(db.execute("PRAGMA integrity_check").fetchone()[0]))
        finally:
            db.close()
    return found


def _sasl_login(port: int, account: str) -> list[Message]:
    client = LineClient(port)
    try:
        blob = base64.b64encode(f"\0{account}\0{PASSWORD}".encode()).decode()
        client.send("CAP LS 302", "CAP REQ :sasl", f"NICK {account}", f"USER {account} 0 * :x")
        client.until(lambda m: m.command == "CAP" and "ACK" in m.params)
        client.send("AUTHENTICATE PLAIN")
        client.until(lambda m: m.command == "AUTHENTICATE")
        client.send(f"AUTHENTICATE {blob}")
        replies = client.until(lambda m: m.command in ("903", "904"))
        client.send("CAP END")
        replies += client.until(welcomed)
        return replies
    finally:
        client.close()


def test_acknowledged_accounts_and_bans_survive_sigkill_under_load(
    tmp_path: Path, store_url: str
) -> None:
    """Several clients register accounts and chat while ``chatroom admin ban`` runs; the
    server is SIGKILLed mid-load. Every REGISTER SUCCESS a client read and every ban the CLI
    confirmed is still there, both databases pass integrity_check, and the restarted
    server logs those accounts in and serves new clients."""
    data = tmp_path / "data"
    acked: list[str] = []
    banned: list[str] = []
    stop = threading.Event()
    workers: list[threading.Thread] = []
    with serving(data, tmp_path / "logs", store_url) as server:
        try:
            for w in range(WORKERS):
                worker = threading.Thread(
                    target=_register_accounts, args=(server.port, f"w{w}", acked, stop)
                )
                worker.start()
                workers.append(worker)
            deadline = time.monotonic() + 20
            while len(acked) < 2 * WORKERS and time.monotonic() < deadline:
                time.sleep(0.02)
            assert acked, "no account was registered under load"
            for b in range(BANS):  # the CLI writes to the same database, concurrently
                done = admin(
                    data,
                    "ban",
                    f"203.0.113.{b + 1}",
                    "--reason",
                    "crash test",
                    store_url=store_url,
                )
                assert done.returncode == 0, done.stderr
                if done.stdout.startswith("banned "):
                    banned.append(done.stdout.split()[1])
            assert any(w.is_alive() for w in workers), "the load ended before the kill"
            server.proc.send_signal(signal.SIGKILL)
            assert server.proc.wait(timeout=10) == -signal.SIGKILL
        finally:
            stop.set()
            for worker in workers:
                worker.join(timeout=30)
    assert not any(w.is_alive() for w in workers)
    assert len(banned) == BANS

    assert _integrity(store_url) == ["ok", "ok"]
    listed = admin(data, "list", store_url=store_url)
    assert listed.returncode == 0, listed.stderr
    accounts = {line.split("\t")[0] for line in listed.stdout.splitlines()}
    assert set(acked) <= accounts, sorted(set(acked) - accounts)
    bans = admin(data, "bans", store_url=store_url)
    assert bans.returncode == 0, bans.stderr
    kept = {line.split("\t")[1] for line in bans.stdout.splitlines()}
    assert set(banned) <= kept, sorted(set(banned) - kept)

    with serving(data, tmp_path / "logs", store_url) as again:
        for account in acked[:: max(1, len(acked) // 4)][:4]:
            replies = _sasl_login(again.port, account)
            assert any(m.command == "903" for m in replies), (account, replies[-4:])
        fresh = LineClient(again.port)
        try:
            fresh.send("NICK newcomer", "USER n 0 * :n", "JOIN #after", "PRIVMSG #after :hi")
            fresh.until(welcomed)
            fresh.until(lambda m: m.command == "366")
        finally:
            fresh.close()


# ----------------------------------------------------------------------------- SIGTERM

CHAT_CLIENTS = 3
LINES_PER_CLIENT = 150


def _chat(port: int, nick: str, acked: list[str], started: threading.Barrier) -> None:
    """Send lines to #hist and record the msgid of each of our own lines echoed back,
    until the server says goodbye (``ERROR``) or closes."""
    client = LineClient(port)
    try:
        client.send(
            "CAP LS 302",
            "CAP REQ :echo-message message-tags server-time",
            f"NICK {nick}",
            f"USER {nick} 0 * :chat",
            "CAP END",
            "JOIN #hist",
        )
        client.until(lambda m: m.command == "366")
        started.wait(timeout=30)
        sent = 0
        while not client.eof:
            if sent < LINES_PER_CLIENT:
                burst = min(10, LINES_PER_CLIENT - sent)
                try:
                    client.send(*(f"PRIVMSG #hist :{nick} {sent + k}" for k in range(burst)))
                except OSError:
                    return
                sent += burst
            try:
                batch = client.read()
            except OSError:
                return
            for msg in batch:
                if msg.command == "ERROR":
                    return
                if msg.command == "PRIVMSG" and (msg.source or "").startswith(nick + "!"):
                    acked.append(msg.tags["msgid"])
    finally:
        client.close()


def _history_msgids(port: int) -> set[str]:
    client = LineClient(port)
    try:
        client.send(
            "CAP LS 302",
            "CAP REQ :batch message-tags server-time draft/chathistory",
            "NICK reader",
            "USER reader 0 * :r",
            "CAP END",
            "JOIN #hist",
            "CHATHISTORY LATEST #hist * 1000",
        )
        replies = client.until(lambda m: m.command == "BATCH" and m.params[0].startswith("-"))
        return {m.tags["msgid"] for m in replies if m.command == "PRIVMSG" and "batch" in m.tags}
    finally:
        client.close()


def test_echoed_lines_are_all_in_history_after_sigterm_and_restart(
    tmp_path: Path, store_url: str
) -> None:
    """Clients talk in a room with echo-message; SIGTERM arrives while they do. Every line
    that came back with a msgid (was delivered) is in CHATHISTORY after a restart."""
    data = tmp_path / "data"
    acked: list[str] = []
    started = threading.Barrier(CHAT_CLIENTS + 1)
    talkers: list[threading.Thread] = []
    with serving(data, tmp_path / "logs", store_url) as server:
        try:
            for c in range(CHAT_CLIENTS):
                talker = threading.Thread(
                    target=_chat, args=(server.port, f"talker{c}", acked, started)
                )
                talker.start()
                talkers.append(talker)
            started.wait(timeout=30)
            deadline = time.monotonic() + 20
            while len(acked) < 50 and time.monotonic() < deadline:
                time.sleep(0.005)
            server.proc.send_signal(signal.SIGTERM)
            assert server.proc.wait(timeout=30) == 0
        finally:
            for talker in talkers:
                talker.join(timeout=30)
    assert not any(t.is_alive() for t in talkers)
    assert len(acked) >= 50
    assert len(set(acked)) == len(acked), "a msgid was given twice"

    assert _integrity(store_url) == ["ok", "ok"]
    with serving(data, tmp_path / "logs", store_url) as again:
        stored = _history_msgids(again.port)
    missing = set(acked) - stored
    assert not missing, f"{len(missing)} of {len(acked)} delivered lines lost"
