"""Online backups: SQLite's backup API copies a consistent snapshot while the server runs."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from chatroom.server.store.private import private_file


def backup_database(source: Path, target: Path) -> None:
    """Copy ``source`` to ``target`` page by page; writers are not blocked for long."""
    if not source.exists():
        raise ValueError(f"no database at {source}")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".partial")
    tmp.unlink(missing_ok=True)
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(private_file(tmp))  # a copy of the hashes: as private as they are
    try:
        src.backup(dst, pages=1024)
        (ok,) = dst.execute("PRAGMA integrity_check").fetchone()
        if ok != "ok":
            raise ValueError(f"backup of {source} failed its integrity check: {ok}")
    finally:
        dst.close()
        src.close()
    tmp.replace(target)  # only a complete, checked copy ever has the final name


def backup_data_dir(data_dir: Path, target: Path) -> list[Path]:
    """Back up ``chatroom.db`` to ``target`` and any other database beside it next to it."""
    written = []
    for db in sorted(data_dir.glob("*.db")):
        out = target if db.name == "chatroom.db" else target.with_name(f"{target.name}.{db.name}")
        backup_database(db, out)
        written.append(out)
    if not written:
        raise ValueError(f"no databases in {data_dir}")
    return written
