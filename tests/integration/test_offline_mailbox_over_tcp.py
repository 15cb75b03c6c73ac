"""Private messages to an offline account across a restart, against a real server (SQLite
store) with the ``irc`` library: a crash never makes the next login replay what the
account already received live, and the bound on messages kept for an offline account
still holds after the server restarts."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import irc.client

from tests.integration.moderation_support import PASSWORD, config_with_accounts
from tests.realserver import Client, ServerThread
from tests.serve_process import ServeProcess, store_args


def _device(port: int, account: str, clients: list[Client]) -> Client:
    client = Client(port, account, PASSWORD, sasl_login=account)
    clients.append(client)
    client.wait_type("welcome")
    return client


def _notice(client: Client, text: str) -> irc.client.Event:
    return client.wait_for(lambda e: e.type == "privnotice" and text in e.arguments[0])


def _replayed(client: Client) -> list[str]:
    """The "[time] target <nick> text" NOTICEs a client without batch got at login."""
    return [
        e.arguments[0]
        for e in client.events
        if e.type == "privnotice" and e.arguments and e.arguments[0].startswith("[")
    ]


def test_after_a_crash_the_next_login_replays_only_what_was_kept_while_offline(
    tmp_path: Path, clients: list[Client]
) -> None:
    config = config_with_accounts(tmp_path, "alice", "carol", "dave")  # the store serve runs on
    first = ServeProcess(tmp_path, args=store_args(config))
    try:
        alice = _device(first.irc_port, "alice", clients)
        carol = _device(first.irc_port, "carol", clients)
        carol.conn.privmsg("alice", "seen live")
        alice.wait_for(lambda e: e.type == "privmsg" and e.arguments == ["seen live"])
        # "kept" is said once the history committed, and so everything written before it
        carol.conn.privmsg("dave", "a barrier")
        _notice(carol, "was kept")
        first.proc.kill()  # a crash: nothing is saved on the way out
        first.proc.wait(timeout=15)
    finally:
        first.stop()
    second = ServeProcess(tmp_path, args=store_args(config))
    try:
        carol = _device(second.irc_port, "carol", clients)
        carol.conn.privmsg("alice", "kept after the crash")
        _notice(carol, "was kept")
        back = _device(second.irc_port, "alice", clients)
        _notice(back, "<carol> kept after the crash")
        back.pump(0.5)  # nothing more may follow
        replayed = _replayed(back)
        assert len(replayed) == 1, replayed
    finally:
        second.stop()


def test_the_offline_mailbox_bound_holds_across_a_restart(
    tmp_path: Path, clients: list[Client]
) -> None:
    config = config_with_accounts(tmp_path, "alice", "carol")
    accounts = replace(config.core.accounts, offline_messages=1)
    config = replace(config, core=replace(config.core, accounts=accounts))
    first = ServerThread(config).start()
    try:
        carol = _device(first.port, "carol", clients)
        carol.conn.privmsg("alice", "one")
        _notice(carol, "was kept")
        carol.close()
    finally:
        first.stop()
    second = ServerThread(config).start()
    try:
        carol = _device(second.port, "carol", clients)
        carol.conn.privmsg("alice", "two")
        _notice(carol, "has too many messages waiting; not kept")
    finally:
        second.stop()


def test_the_login_notice_counts_the_kept_messages_the_replay_bound_left_out(
    tmp_path: Path, clients: list[Client]
) -> None:
    config = config_with_accounts(tmp_path, "alice", "carol")
    accounts = replace(config.core.accounts, missed_replay_lines=2)
    history = replace(config.core.history, chathistory_limit=1)  # counted a page at a time
    config = replace(config, core=replace(config.core, accounts=accounts, history=history))
    server = ServerThread(config).start()
    try:
        carol = _device(server.port, "carol", clients)
        for i in range(5):
            carol.conn.privmsg("alice", f"word {i}")
            _notice(carol, "was kept")
            carol.events.clear()
        alice = _device(server.port, "alice", clients)
        summary = _notice(alice, "While you were away").arguments[0]
        assert "2 message(s); 3 older message(s) left out (carol 3)" in summary, summary
        _notice(alice, "<carol> word 4")
        assert [line.split("> ", 1)[1] for line in _replayed(alice)] == ["word 3", "word 4"]
    finally:
        server.stop()
