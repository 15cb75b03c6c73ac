"""A real server for the tests that need one (``server``; a module that needs other
settings defines its own), and tests here never touch the user's keyring (see
tests/keyrings.py)."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.keyrings import memory_keyring, no_system_keyring
from tests.realserver import ServerThread, make_config

__all__ = ["memory_keyring", "no_system_keyring"]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerThread]:
    running = ServerThread(make_config(tmp_path)).start()
    yield running
    running.stop()
