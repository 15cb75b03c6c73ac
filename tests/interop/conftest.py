"""A fresh ``chatroom serve`` per test, with the accounts the programs log in to, and an
``irc``-library peer in ``#lobby`` to talk to them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.interop.setups import Served, create_account, serve
from tests.realserver import Client

PASSWORD = "interop-pass-1"


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    running = serve(tmp_path / "server")
    try:
        for name in ("alice", "bob"):
            create_account(running, name, PASSWORD)
        yield running
    finally:
        running.process.stop()


@pytest.fixture
def peer(served: Served) -> Iterator[Client]:
    """A guest ``dave`` in ``#lobby`` on the plain port, watching what the programs do."""
    dave = Client(served.irc_port, "dave")
    try:
        dave.wait_type("welcome")
        dave.conn.join("#lobby")
        dave.wait_for(lambda e: e.type == "join" and e.source.nick == "dave")
        yield dave
    finally:
        dave.close()
