"""The server secret in the data directory: made once, kept, private, repaired if damaged."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from chatroom.server.auth.server_secret import SECRET_BYTES, SECRET_FILENAME, load_server_secret


def test_the_secret_is_made_once_and_then_kept(tmp_path: Path) -> None:
    first = load_server_secret(tmp_path / "data")
    assert len(first) == SECRET_BYTES
    assert load_server_secret(tmp_path / "data") == first


def test_the_secret_file_is_readable_by_its_owner_only_whatever_the_umask(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        load_server_secret(tmp_path)
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / SECRET_FILENAME).stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == [SECRET_FILENAME]  # no temporary left


def test_a_damaged_secret_is_replaced(tmp_path: Path) -> None:
    (tmp_path / SECRET_FILENAME).write_bytes(b"short")
    secret = load_server_secret(tmp_path)
    assert len(secret) == SECRET_BYTES
    assert (tmp_path / SECRET_FILENAME).read_bytes() == secret
