"""The example systemd unit keeps the data directory private even before the server runs."""

from __future__ import annotations

import configparser
from pathlib import Path

UNIT = Path(__file__).parent.parent / "contrib" / "chatroom.service"


def test_the_unit_runs_the_server_with_umask_0077_and_a_0700_state_directory() -> None:
    unit = configparser.ConfigParser(interpolation=None, strict=False)
    unit.optionxform = str  # type: ignore[assignment,method-assign]  # keys are case-sensitive
    unit.read(UNIT)
    service = unit["Service"]
    assert service["UMask"] == "0077"
    assert service["StateDirectoryMode"] == "0700"
    assert service["StateDirectory"] == "chatroom"
