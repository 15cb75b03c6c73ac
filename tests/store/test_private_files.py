"""The files that hold copies of password hashes are made private and never through a
link someone planted (store/private.py)."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from chatroom.server.store.private import new_private_file


def test_a_new_private_file_is_a_fresh_0600_regular_file(tmp_path: Path) -> None:
    made = new_private_file(tmp_path / "chat.db.partial")
    mode = made.lstat().st_mode
    assert stat.S_ISREG(mode)
    assert stat.S_IMODE(mode) == 0o600


def test_a_link_planted_where_a_backup_is_being_written_is_refused(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_text("someone else's file")
    planted = tmp_path / "chat.db.partial"
    planted.symlink_to(victim)
    with pytest.raises(FileExistsError):
        new_private_file(planted)
    assert victim.read_text() == "someone else's file"
