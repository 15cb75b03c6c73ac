"""Shared steps of the tests of accounts across a restart of a real server: clients logged
in with SASL, the room #garden, always-on, and servers stopped at the end of a block."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from chatroom.config import Config
from tests.integration.moderation_support import PASSWORD
from tests.realserver import Client, ServerThread


@contextmanager
def running(config: Config) -> Iterator[ServerThread]:
    """A server thread on ``config``, stopped (in order) at the end of the block."""
    server = ServerThread(config).start()
    try:
        yield server
    finally:
        server.stop()


def signed_in(port: int, clients: list[Client], account: str = "alice") -> Client:
    """A client logging in to ``account`` with SASL as the nick ``account`` (closed at
    teardown through ``clients``); returns without waiting for anything."""
    client = Client(port, account, PASSWORD, sasl_login=account)
    clients.append(client)
    return client


def welcomed(port: int, clients: list[Client], account: str = "alice") -> Client:
    """``signed_in``, returned once the welcome arrived."""
    client = signed_in(port, clients, account)
    client.wait_type("welcome")
    return client


def join_garden(client: Client) -> None:
    client.conn.join("#garden")
    client.wait_for(lambda e: e.type == "join" and e.target == "#garden")


def turn_always_on(client: Client) -> None:
    client.conn.privmsg("NickServ", "SET ALWAYS-ON ON")
    client.wait_for(lambda e: e.type == "privnotice" and "ALWAYS-ON is now ON" in str(e))
