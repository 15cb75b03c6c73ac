"""Operators over real sockets, with the ``irc`` library: they learn that they are one."""

from __future__ import annotations

from pathlib import Path

from tests.integration.moderation_support import PASSWORD, config_with_accounts
from tests.realserver import Client, ServerThread


def test_an_operator_logging_in_with_sasl_gets_381_and_lusers_counts_it(tmp_path: Path) -> None:
    server = ServerThread(config_with_accounts(tmp_path)).start()
    clients: list[Client] = []
    try:
        admin = Client(server.port, "admin", PASSWORD, sasl_login="admin")
        clients.append(admin)
        admin.wait_type("youreoper")
        admin.wait_for(lambda e: e.type == "umode" and e.arguments == ["+o"])
        watcher = Client(server.port, "watcher")
        clients.append(watcher)
        event = watcher.wait_type("luserop")
        assert event.arguments[0] == "1"
    finally:
        for client in clients:
            client.close()
        server.stop()


def test_an_operator_sets_the_lobby_topic(tmp_path: Path) -> None:
    server = ServerThread(config_with_accounts(tmp_path)).start()
    clients: list[Client] = []
    try:
        admin = Client(server.port, "admin", PASSWORD, sasl_login="admin")
        clients.append(admin)
        admin.wait_type("youreoper")
        admin.conn.join("#lobby")
        admin.wait_type("endofnames")
        admin.conn.topic("#lobby", "Read the rules first")
        event = admin.wait_type("topic")
        assert event.arguments == ["Read the rules first"]
    finally:
        for client in clients:
            client.close()
        server.stop()


def test_the_lobby_topic_an_operator_set_survives_a_restart(tmp_path: Path) -> None:
    config = config_with_accounts(tmp_path)
    server = ServerThread(config).start()
    try:
        admin = Client(server.port, "admin", PASSWORD, sasl_login="admin")
        admin.wait_type("youreoper")
        admin.conn.join("#lobby")
        admin.wait_type("endofnames")
        admin.conn.topic("#lobby", "Kept across restarts")
        admin.wait_type("topic")
        admin.close()
    finally:
        server.stop()
    again = ServerThread(config).start()
    try:
        guest = Client(again.port, "guest")
        guest.wait_type("welcome")
        guest.conn.join("#lobby")
        event = guest.wait_type("currenttopic")
        assert event.arguments[-1] == "Kept across restarts"
        guest.close()
    finally:
        again.stop()
