"""A registered room's RENAME, confirmed to the room, survives ``kill -9`` right after.

The same method as test_acks_survive_sigkill.py: the database's write lock is held while
the RENAME goes in, so a server that announces it before its commit announces it while
nothing can be saved, and is killed right then.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.crash_support import admin, serving
from tests.integration.test_acks_survive_sigkill import (
    PASSWORD,
    Step,
    ask,
    chanserv,
    confirmed_then_killed,
    login,
)


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_a_confirmed_rename_of_a_registered_room_survives_sigkill(
    tmp_path: Path, store_url: str
) -> None:
    data, logs = tmp_path / "data", tmp_path / "logs"
    made = admin(
        data, "create", "alice", "--password-stdin", stdin=PASSWORD + "\n", store_url=store_url
    )
    assert made.returncode == 0, made.stderr
    with serving(data, logs, store_url) as server:
        alice = login(server.port, "alice", caps="draft/channel-rename")
        ask(alice, "JOIN #old", lambda m: m.command == "366")
        assert "#old is now registered" in " ".join(
            chanserv(alice, "REGISTER #old", "now registered")
        )
        steps = [
            Step(
                alice,
                "RENAME #old #new :moving",
                lambda m: m.command == "RENAME" and m.params[:2] == ("#old", "#new"),
            )
        ]
        early = confirmed_then_killed(server, steps, [])

    with serving(data, logs, store_url) as server:
        alice = login(server.port, "alice")
        info = chanserv(alice, "INFO #new", "#new")
        alice.close()
        assert "#new is registered to alice." in info, f"{info}; confirmed early: {early}"
