"""Moderation as an administrator meets it, over real sockets with the ``irc`` library.

The admin logs in, kicks bob from #lobby and bans him from the server; bob's reconnects
are refused with the reason, still after a restart; after UNBAN he gets back in. The
audit log in the real SQLite file lists every step.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from chatroom import admin
from chatroom.config import Config
from chatroom.server.store.factory import open_store
from tests.integration.moderation_support import PASSWORD, config_with_accounts
from tests.realserver import Client, ServerThread


@pytest.fixture
def config(tmp_path: Path) -> Config:
    """A data dir with the oper ``admin`` and the user ``bob``, made as the CLI makes them."""
    return config_with_accounts(tmp_path, "bob")


def login(server: ServerThread, clients: list[Client], nick: str) -> Client:
    client = Client(server.port, nick, f"{nick}:{PASSWORD}")
    clients.append(client)
    client.wait_type("welcome")
    return client


def refused(server: ServerThread, clients: list[Client], nick: str) -> str:
    """Connect with ``nick``'s password; return the ERROR text the server closed with."""
    client = Client(server.port, nick, f"{nick}:{PASSWORD}")
    clients.append(client)
    client.wait_type("disconnect")
    errors = [line for line in client.raw_lines() if line.startswith("ERROR")]
    assert errors, client.raw_lines()
    assert not any(e.type == "welcome" for e in client.events)
    return errors[0]


def audit_actions(config: Config) -> list[tuple[str, str, str]]:
    store = open_store(config.store)
    try:
        return [(e.actor, e.action, e.target) for e in store.audit()]
    finally:
        store.close()


def test_kick_then_server_ban_survives_a_restart_until_unban(
    config: Config, clients: list[Client]
) -> None:
    server = ServerThread(config).start()
    try:
        boss = login(server, clients, "admin")
        boss.conn.mode("admin", "")
        umode = boss.wait_type("umodeis")  # oper powers came with the login
        assert "o" in umode.arguments[0]
        bob = login(server, clients, "bob")
        boss.conn.join("#lobby")
        bob.conn.join("#lobby")
        boss.wait_for(lambda e: e.type == "join" and e.source.nick == "bob")
        boss.conn.kick("#lobby", "bob", "stop spamming")
        kick = bob.wait_type("kick")
        assert kick.arguments == ["bob", "stop spamming"]

        boss.conn.send_raw("BAN bob :spamming links")
        bob.wait_type("disconnect")
        assert any("spamming links" in line for line in bob.raw_lines() if "ERROR" in line)
        text = refused(server, clients, "bob")
        assert "You are banned from this server: spamming links (permanent)" in text
    finally:
        server.stop()

    server = ServerThread(config).start()  # same data dir: the ban is still there
    try:
        assert "spamming links" in refused(server, clients, "bob")
        boss = login(server, clients, "admin")
        boss.conn.send_raw("UNBAN bob")
        boss.wait_for(lambda e: e.type == "privnotice" and "Lifted" in e.arguments[0])
        login(server, clients, "bob")
    finally:
        server.stop()
    steps = [entry for entry in audit_actions(config) if entry[0] == "admin"]
    assert steps == [
        ("admin", "channel.kick", "#lobby bob"),
        ("admin", "ban.add", "account:bob"),
        ("admin", "ban.remove", "account:bob"),
    ]


def test_timed_server_ban_ends_by_itself(config: Config, clients: list[Client]) -> None:
    server = ServerThread(config).start()
    try:
        boss = login(server, clients, "admin")
        boss.conn.send_raw("BAN bob 2s :cool down")
        boss.wait_for(lambda e: e.type == "privnotice" and "Banned" in e.arguments[0])
        text = refused(server, clients, "bob")
        assert "cool down (until " in text
        assert "in " in text
        time.sleep(2.5)
        login(server, clients, "bob")
        deadline = time.monotonic() + 5
        while ("server", "ban.expire", "account:bob") not in audit_actions(config):
            assert time.monotonic() < deadline, audit_actions(config)
            time.sleep(0.2)  # the tick (once a second) logs the expiry
    finally:
        server.stop()


def test_chatroom_admin_ban_disconnects_a_running_servers_user(
    config: Config, clients: list[Client]
) -> None:
    """``chatroom admin ban`` writes the file; the server reloads it within seconds."""
    server = ServerThread(config).start()
    try:
        bob = login(server, clients, "bob")
        store = open_store(config.store)
        admin.add_ban(store, "bob", "from the shell", "1h")
        store.close()
        bob.wait_type("disconnect", timeout=10)
        assert any("from the shell" in line for line in bob.raw_lines() if "ERROR" in line)
    finally:
        server.stop()
