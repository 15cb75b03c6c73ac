"""Online backups while the server runs.

- SQLite: the backup API copies a consistent snapshot of each database file.
- PostgreSQL: ``pg_dump --format=custom`` (restore with ``pg_restore``) when the client
  tools are installed; without them, the documented equivalent: a ``chatroom admin
  migrate`` of everything into SQLite files in a new directory, which is itself a store
  a server can run on, or be migrated back from (``--from sqlite:///DIR``).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from collections.abc import Callable
from pathlib import Path

from chatroom.server.store.base import StoreError
from chatroom.server.store.private import new_private_file, private_dir
from chatroom.server.store.url import PostgresLocation, SqliteLocation, StoreLocation


def backup_database(source: Path, target: Path) -> None:
    """Copy ``source`` to ``target`` page by page; writers are not blocked for long."""
    if not source.exists():
        raise ValueError(f"no database at {source}")
    tmp = target.with_name(target.name + ".partial")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp.unlink(missing_ok=True)
        dst = sqlite3.connect(new_private_file(tmp))  # a copy of the hashes: private, and ours
    except (OSError, sqlite3.Error) as err:
        raise ValueError(f"cannot write the backup {target}: {err}") from None
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        src.backup(dst, pages=1024)
        (ok,) = dst.execute("PRAGMA integrity_check").fetchone()
        if ok != "ok":
            raise ValueError(f"backup of {source} failed its integrity check: {ok}")
    finally:
        dst.close()
        src.close()
    tmp.replace(target)  # only a complete, checked copy ever has the final name


def checked_target(target: Path, databases: list[Path] | None = None, force: bool = False) -> Path:
    """Refuse a ``target`` the backup would destroy by renaming its copy over it: anything
    but a regular file (``/dev/full``, a directory), a live database or its journal (the
    server would go on writing to the unlinked one), and, unless ``force``, an existing
    file (an earlier backup, or anything else given by mistake)."""
    if target.exists() and not target.is_file():
        raise ValueError(f"{target} exists and is not a regular file; name a new file")
    live = {Path(f"{db}{end}").resolve() for db in databases or [] for end in ("", "-wal", "-shm")}
    if target.resolve() in live:
        raise ValueError(f"{target} is a database the server uses; name a new file")
    if target.exists() and not force:
        raise ValueError(f"{target} exists; name a new file, or add --force to replace it")
    return target


def backup_data_dir(data_dir: Path, target: Path, force: bool = False) -> list[Path]:
    """Back up ``chatroom.db`` to ``target`` and any other database beside it next to it."""
    databases = sorted(data_dir.glob("*.db"))
    outputs = [
        target if db.name == "chatroom.db" else target.with_name(f"{target.name}.{db.name}")
        for db in databases
    ]
    for out in outputs:  # all checked before any is written
        checked_target(out, databases, force)
    written = []
    for db, out in zip(databases, outputs, strict=True):
        backup_database(db, out)
        written.append(out)
    if not written:
        raise ValueError(f"no databases in {data_dir}")
    return written


def backup_store(
    location: StoreLocation,
    target: Path,
    report: Callable[[str], None] = print,
    force: bool = False,
) -> list[Path]:
    """Back up whatever ``location`` names to ``target``; the paths written. ``force``
    replaces an earlier backup of that name (never anything else, see ``checked_target``)."""
    if isinstance(location, SqliteLocation):
        return backup_data_dir(location.directory, target, force)
    return backup_postgres(location, target, report, force)


BACKUP_DIR_FILES = frozenset(
    f"{name}{end}" for name in ("chatroom.db", "history.db") for end in ("", "-wal", "-shm")
)


def _checked_directory(target: Path, force: bool) -> None:
    """Without pg_dump the backup is a directory of SQLite files: a new or empty one, or
    with ``force`` an earlier backup of that kind (emptied first); never a file or a
    directory holding anything else."""
    if target.exists() and not target.is_dir():
        raise ValueError(
            f"{target} exists and is not a directory: without pg_dump the backup is a"
            " directory of SQLite files; name a new one"
        )
    held = sorted(path.name for path in target.iterdir()) if target.is_dir() else []
    if not held:
        return
    if not set(held) <= BACKUP_DIR_FILES:
        raise ValueError(
            f"{target} holds other files than a backup's ({', '.join(held[:3])}); name a new"
            " directory"
        )
    if not force:
        raise ValueError(f"{target} holds a backup; name a new directory, or add --force")
    for name in held:
        (target / name).unlink()


def _without_password(conninfo: str) -> tuple[str, dict[str, str]]:
    """``conninfo`` less its password, and pg_dump's environment with the password in
    ``PGPASSWORD``: a command line is visible to every local user (``ps``), the
    environment of another user's process is not."""
    import psycopg
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    try:
        params = conninfo_to_dict(conninfo)
    except psycopg.Error as err:
        raise StoreError(str(err)) from None
    env = dict(os.environ)
    password = params.pop("password", None)
    if password is not None:
        env["PGPASSWORD"] = str(password)
    return make_conninfo(**{name: str(value) for name, value in params.items()}), env


def backup_postgres(
    location: PostgresLocation,
    target: Path,
    report: Callable[[str], None] = print,
    force: bool = False,
) -> list[Path]:
    """``pg_dump`` into ``target`` (custom format); without it, SQLite files in the
    directory ``target`` (see the module docstring)."""
    pg_dump = shutil.which("pg_dump")
    if pg_dump is None:
        from chatroom.server.store.transfer import migrate

        _checked_directory(target, force)
        private_dir(target)
        report("pg_dump not found: copying into SQLite files instead (chatroom admin migrate)")
        migrate(location, SqliteLocation(target), report)
        return [target / "chatroom.db", target / "history.db"]
    checked_target(target, force=force)
    target.parent.mkdir(parents=True, exist_ok=True)
    conninfo, env = _without_password(location.conninfo)
    partial = target.with_name(target.name + ".partial")
    try:
        partial.unlink(missing_ok=True)
        new_private_file(partial)
    except OSError as err:
        raise StoreError(f"cannot write the backup {target}: {err}") from None
    done = subprocess.run(
        [pg_dump, "--format=custom", "--no-owner", "--file", str(partial), "--dbname", conninfo],
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )
    if done.returncode != 0:
        partial.unlink(missing_ok=True)
        raise StoreError(done.stderr.strip() or f"pg_dump failed ({done.returncode})")
    partial.replace(target)  # only a complete dump ever has the final name
    return [target]
