"""Fixtures for the integration tests: a real server per test and registered clients."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.closing import closed_at_end
from tests.realserver import Client, ServerThread, make_config


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerThread]:
    running = ServerThread(make_config(tmp_path)).start()
    yield running
    running.stop()


@pytest.fixture
def connect(server: ServerThread) -> Iterator[Callable[[str], Client]]:
    """Make registered clients; every one is disconnected at the end of the test."""
    clients: list[Client] = []

    def make(nick: str) -> Client:
        client = Client(server.port, nick)
        client.wait_type("welcome")
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def clients() -> Iterator[list[Client]]:
    """Clients a test makes itself and appends here; every one is closed at the end."""
    yield from closed_at_end()
