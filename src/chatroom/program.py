"""How a person runs this program again from another terminal (for the hints we print)."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path


def command_name() -> str:
    """``chatroom`` when a shell finds this very program by that name, else the path it
    was started by: ``make serve`` runs ``.venv/bin/chatroom``, which a new shell does
    not find by name, so a hint to copy names the path."""
    invoked = Path(sys.argv[0])
    if invoked.name != "chatroom":  # python -m chatroom, or a test harness
        return "chatroom"
    found = shutil.which("chatroom")
    if found is not None and Path(found).resolve() == invoked.resolve():
        return "chatroom"
    return str(invoked)
