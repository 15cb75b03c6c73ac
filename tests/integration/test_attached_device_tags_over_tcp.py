"""A second device attaching to a user already in rooms, against a real server: the JOIN
lines it is sent for those rooms carry the tags its capabilities ask for, as every other
JOIN does."""

from __future__ import annotations

from pathlib import Path

from tests.integration.devices_support import device
from tests.integration.moderation_support import config_with_accounts
from tests.integration.restart_support import running
from tests.realserver import Wire


def test_a_second_devices_joins_carry_server_time_and_account_tags(
    tmp_path: Path, wires: list[Wire]
) -> None:
    with running(config_with_accounts(tmp_path, "alice")) as server:
        first = device(server.port, wires, "alice", "alice")
        first.write("JOIN #garden", "JOIN #meadow")
        first.until(" 366 alice #meadow ")
        second = device(server.port, wires, "alice", "alice", "server-time", "account-tag")
        joins = [line for line in second.until(" 366 alice #meadow ") if " JOIN " in line]
        assert len(joins) == 2, joins
        for line in joins:
            tags = dict(t.partition("=")[::2] for t in line[1:].split(" ")[0].split(";"))
            assert line.startswith("@"), line
            assert tags.get("account") == "alice", line
            assert tags.get("time", "").endswith("Z"), line
        plain = device(server.port, wires, "alice", "alice")  # no tags asked, none given
        assert all(
            line.startswith(":alice!")
            for line in plain.until(" 366 alice #meadow ")
            if " JOIN " in line
        )
