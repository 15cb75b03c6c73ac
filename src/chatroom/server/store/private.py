"""The data directory is private: created 0700, every file the server writes 0600.

It holds password hashes and SCRAM verifiers, private messages, and the TLS key, so the
modes are set explicitly (``chmod`` after creating), never left to the umask: a service
started with umask 022 or 000 must not leave them readable by other local users.
SQLite creates a database's ``-wal`` and ``-shm`` files with the database file's own
mode, so a database made 0600 before SQLite opens it keeps its companions private too.

``loose_files`` is what ``chatroom serve`` warns about at start: anything in the data
directory (or the directory itself) that group or others may open.
"""

from __future__ import annotations

import contextlib
import logging
import os
import stat
from pathlib import Path

__all__ = [
    "DIR_MODE",
    "FILE_MODE",
    "loose_files",
    "private_dir",
    "private_file",
    "tighten",
    "warn_loose_files",
]

log = logging.getLogger("chatroom")

DIR_MODE = 0o700
FILE_MODE = 0o600
_OPEN_TO_OTHERS = 0o077  # any permission for group or others


def private_dir(path: Path) -> Path:
    """Create ``path`` (and missing parents) if needed; the directory itself, when created
    here, is 0700 whatever the umask. An existing directory is left as it is (and
    reported by ``loose_files``): its mode may be the operator's choice."""
    if not path.is_dir():
        path.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileExistsError):  # another process made it meanwhile
            path.mkdir(mode=DIR_MODE)
            os.chmod(path, DIR_MODE)
    return path


def private_file(path: Path) -> Path:
    """Make sure ``path`` exists and is 0600 before anything is written into it."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, FILE_MODE)
    try:
        if stat.S_IMODE(os.fstat(fd).st_mode) != FILE_MODE:
            with contextlib.suppress(PermissionError):  # another user's file: reported only
                os.fchmod(fd, FILE_MODE)
    finally:
        os.close(fd)
    return path


def new_private_file(path: Path) -> Path:
    """Create ``path`` as a new 0600 regular file; raise if anything is there already,
    a symlink planted since it was cleared included (``O_EXCL | O_NOFOLLOW``)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, FILE_MODE)
    os.close(fd)
    return path


def tighten(*paths: Path) -> None:
    """Make those of ``paths`` that exist 0600 (a database's ``-wal`` and ``-shm``, which an
    older version or another tool may have left with a wider mode)."""
    for path in paths:
        with contextlib.suppress(FileNotFoundError, PermissionError):
            if stat.S_IMODE(path.stat().st_mode) != FILE_MODE:
                os.chmod(path, FILE_MODE)


def loose_files(data_dir: Path) -> list[tuple[Path, int]]:
    """``(path, mode)`` of the data directory and everything in it that group or others
    have any permission on; empty when all is private (or the directory does not exist)."""
    if not data_dir.is_dir():
        return []
    found: list[tuple[Path, int]] = []
    for path in [data_dir, *sorted(data_dir.rglob("*"))]:
        with contextlib.suppress(FileNotFoundError):
            info = path.lstat()
            if stat.S_ISLNK(info.st_mode):
                continue
            mode = stat.S_IMODE(info.st_mode)
            if mode & _OPEN_TO_OTHERS:
                found.append((path, mode))
    return found


def warn_loose_files(data_dir: Path) -> list[tuple[Path, int]]:
    """Log one warning naming what ``loose_files`` finds; returns it."""
    found = loose_files(data_dir)
    if found:
        shown = ", ".join(f"{path} ({mode:04o})" for path, mode in found[:20])
        more = f" and {len(found) - 20} more" if len(found) > 20 else ""
        log.warning(
            f"the data directory holds password hashes and private messages, but group or "
            f"others have access to: {shown}{more}; run chmod -R go-rwx {data_dir} "
            f"(the server makes its own databases 0600 as it opens them)",
            extra={"loose_files": [str(path) for path, _ in found]},
        )
    return found
