"""The example systemd units keep the data directory private even before the server runs:
the single server's, and each node's of the template unit for a network."""

from __future__ import annotations

import configparser
from pathlib import Path

CONTRIB = Path(__file__).parent.parent / "contrib"
UNIT = CONTRIB / "chatroom.service"
TEMPLATE = CONTRIB / "systemd" / "chatroom@.service"


def _read(path: Path) -> configparser.ConfigParser:
    unit = configparser.ConfigParser(interpolation=None, strict=False)
    unit.optionxform = str  # type: ignore[assignment,method-assign]  # keys are case-sensitive
    assert unit.read(path), f"no {path}"
    return unit


def test_the_unit_runs_the_server_with_umask_0077_and_a_0700_state_directory() -> None:
    service = _read(UNIT)["Service"]
    assert service["UMask"] == "0077"
    assert service["StateDirectoryMode"] == "0700"
    assert service["StateDirectory"] == "chatroom"


def test_the_template_runs_one_node_per_instance_with_its_own_private_state_directory() -> None:
    unit = _read(TEMPLATE)
    service = unit["Service"]
    command = service["ExecStart"].split()
    assert command[0].endswith("/chatroom")
    assert command[1:] == ["serve", "--config", "/etc/chatroom/%i.toml", "--node", "%i"]
    assert service["UMask"] == "0077"
    assert service["StateDirectoryMode"] == "0700"
    assert service["StateDirectory"] == "chatroom/%i"  # a data directory per node
    assert service["Environment"] == "CHATROOM_SERVER_DATA_DIR=/var/lib/chatroom/%i"
    assert service["ReadWritePaths"] == "/var/lib/chatroom/%i"
    assert service["KillSignal"] == "SIGTERM"
    assert unit["Install"]["WantedBy"] == "multi-user.target"


def test_the_unit_says_to_let_the_service_user_read_the_config_that_init_writes_for_root() -> None:
    """Followed as written before, the server (User=chatroom) could not read the 0600 file
    root's `chatroom init` wrote, and did not start."""
    unit = _read(UNIT)
    assert unit["Service"]["User"] == "chatroom"
    assert "--config /etc/chatroom.toml" in unit["Service"]["ExecStart"]
    steps = UNIT.read_text()
    assert "chatroom init --config /etc/chatroom.toml" in steps
    assert "chgrp chatroom /etc/chatroom.toml && chmod 0640 /etc/chatroom.toml" in steps


def test_the_template_keeps_restarting_a_node_that_cannot_reach_redis_yet() -> None:
    """A node exits 1 when Redis or PostgreSQL is not there at start. With systemd's
    defaults (RestartSec=100ms, at most 5 starts in 10 s) the unit gave up for good
    within half a second; restarts must come slowly enough never to hit that limit."""
    unit = _read(TEMPLATE)
    service = unit["Service"]
    assert service["Restart"] == "on-failure"
    interval = float(unit["Unit"].get("StartLimitIntervalSec", "10").rstrip("s"))
    burst = int(unit["Unit"].get("StartLimitBurst", "5"))
    assert float(service.get("RestartSec", "0.1").rstrip("s")) * burst > interval
