"""``chatroom admin restore FROM``: put a backup made by ``chatroom admin backup`` back into
a SQLite data directory.

What it refuses, and why:
- a backup that is not a ChatRoom store (not SQLite, no ChatRoom tables, a trigger or a
  view, which ChatRoom never makes and which would run inside the server) or was written
  by a newer ChatRoom (a schema version this one does not know): it would not serve;
- a data directory whose databases another process has open, found the way SQLite itself
  would: an exclusive lock is not granted while any other connection (a running server,
  a ``chatroom admin`` command) holds the file open. Replacing a live database under a
  server loses whatever it writes next;
- a data directory that already holds a store, unless ``force``: then its database files
  (with their ``-wal`` and ``-shm`` journals, which belong to them and would corrupt the
  restored files) are moved into ``before-restore-<UTC time>/`` beside them, never deleted.

The backup is copied (SQLite's backup API, integrity-checked) next to its final name first
and opened as ``serve`` would open it (its schema brought up to date), and renamed into
place only once every copy is complete and opens, so a failed copy, or a file whose tables
only look like ChatRoom's, leaves the data directory as it was. A PostgreSQL store is
restored with ``pg_restore`` (README, "Backup and restore"), not here.
"""

from __future__ import annotations

import os
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from chatroom.server.store.backup import backup_database
from chatroom.server.store.private import private_dir
from chatroom.server.store.schema import available_migrations
from chatroom.server.store.sqlite import SqliteStore
from chatroom.server.store.url import HISTORY_FILENAME, STORE_FILENAME, SqliteLocation

__all__ = ["Restored", "restore_sqlite"]

_JOURNALS = ("", "-wal", "-shm")


@dataclass(frozen=True, slots=True)
class _Kind:
    """One database file of a store: its name, its migrations folder, a table it has."""

    filename: str
    migrations: str
    table: str


_STORE = _Kind(STORE_FILENAME, "migrations", "accounts")
_HISTORY = _Kind(HISTORY_FILENAME, "history_migrations", "messages")


@dataclass(frozen=True, slots=True)
class Restored:
    written: list[Path]  # the restored databases
    set_aside: Path | None  # where the files they replaced went (None: there were none)
    counts: dict[str, int]  # rows per table of the restored store


def backup_files(source: Path) -> dict[_Kind, Path]:
    """The databases of a backup: ``FILE`` and ``FILE.history.db`` as ``backup`` writes
    them, or a directory holding ``chatroom.db`` and ``history.db`` (a data directory, or
    the backup of a PostgreSQL store made without pg_dump). The history is optional: a
    store that never served has none."""
    if source.is_dir():
        store, history = source / STORE_FILENAME, source / HISTORY_FILENAME
    else:
        store, history = source, source.with_name(f"{source.name}.{HISTORY_FILENAME}")
    if not store.is_file():
        raise ValueError(f"no backup at {store}; name the file `chatroom admin backup` wrote")
    return {_STORE: store} | ({_HISTORY: history} if history.is_file() else {})


def check_backup(path: Path, kind: _Kind) -> int:
    """The schema version of ``path``, a ChatRoom database of ``kind`` that this ChatRoom
    can run on; ValueError saying what it is otherwise."""
    latest = available_migrations(kind.migrations)[-1].number
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            version = int(conn.execute("PRAGMA user_version").fetchone()[0])
            tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
            code = conn.execute(
                "SELECT type, name FROM sqlite_master WHERE type IN ('trigger', 'view')"
            ).fetchone()
            (ok,) = conn.execute("PRAGMA quick_check").fetchone()
        finally:
            conn.close()
    except sqlite3.Error as err:
        raise ValueError(f"{path} is not a ChatRoom backup: {err}") from None
    if version < 1 or kind.table not in tables:
        raise ValueError(f"{path} is not a ChatRoom backup: it has no ChatRoom tables")
    if code is not None:
        # ChatRoom's schema has none: one would run inside the server on every write
        # (granting an operator role, copying password hashes) long after the restore.
        raise ValueError(
            f"{path} is not a ChatRoom backup: it holds the {code[0]} {code[1]!r},"
            " which ChatRoom never makes"
        )
    if version > latest:
        raise ValueError(
            f"{path} was written by a newer ChatRoom (schema version {version}; this one knows"
            f" up to {latest}): restore it with that version"
        )
    if ok != "ok":
        raise ValueError(f"{path} is damaged (SQLite quick_check: {ok}); use another backup")
    return version


def open_elsewhere(path: Path) -> bool:
    """Whether another process has the database ``path`` open: a connection in exclusive
    locking mode gets its lock only when no other connection holds the file."""
    if not path.exists():
        return False
    conn = sqlite3.connect(f"file:{path}?mode=rw", uri=True, timeout=0, isolation_level=None)
    try:
        conn.execute("PRAGMA locking_mode = EXCLUSIVE")
        conn.execute("BEGIN EXCLUSIVE")
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        conn.execute("ROLLBACK")
    except sqlite3.DatabaseError as err:  # not a database at all: nobody serves it
        return err.sqlite_errorcode in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
    finally:
        conn.close()
    return False


def _present(directory: Path) -> list[Path]:
    """The database files of a store in ``directory``, journals included."""
    names = [f"{kind.filename}{end}" for kind in (_STORE, _HISTORY) for end in _JOURNALS]
    return [directory / name for name in names if (directory / name).exists()]


def _aside_dir(directory: Path) -> Path:
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    aside, n = directory / f"before-restore-{stamp}", 1
    while aside.exists():
        n += 1
        aside = directory / f"before-restore-{stamp}-{n}"
    return aside


def _give_to_directory_owner(path: Path, directory: Path) -> None:
    """Root restoring into a service user's data directory (``sudo chatroom admin
    restore``): the files go to that directory's owner, since a server running as that user
    could not open root's 0600 files (and systemd hands over only a directory it does not
    own yet)."""
    if os.geteuid() != 0:
        return
    owner = directory.stat()
    os.chown(path, owner.st_uid, owner.st_gid)


def restore_sqlite(source: Path, location: SqliteLocation, force: bool = False) -> Restored:
    """Put the backup ``source`` in ``location``'s place (see the module docstring)."""
    files = backup_files(source)
    for kind, path in files.items():
        check_backup(path, kind)
    directory = location.directory
    for kind in (_STORE, _HISTORY):
        if open_elsewhere(directory / kind.filename):
            raise ValueError(
                f"{directory / kind.filename} is open in another process (a running server,"
                " or chatroom admin): stop the server first, then restore"
            )
    present = _present(directory)
    if present and not force:
        raise ValueError(
            f"{directory} already holds a store ({present[0].name}); restore into a new data"
            " directory, or add --force to set its files aside and restore"
        )
    private_dir(directory)
    staged = {kind: directory / f"{kind.filename}.restoring" for kind in files}
    try:
        for kind, path in files.items():
            backup_database(path, staged[kind])
        counts = _opened_as_served(staged[_STORE])
    except BaseException:
        for path in staged.values():
            for end in _JOURNALS:
                Path(f"{path}{end}").unlink(missing_ok=True)
        raise
    for path in staged.values():
        _give_to_directory_owner(path, directory)
    aside = None
    if present:
        aside = private_dir(_aside_dir(directory))
        for path in present:
            path.replace(aside / path.name)
    written = []
    for kind, path in staged.items():
        path.replace(directory / kind.filename)
        written.append(directory / kind.filename)
    return Restored(written, aside, counts)


def _opened_as_served(path: Path) -> dict[str, int]:
    """Rows per table of the store at ``path``, opened as ``serve`` opens it (an older
    schema brought up to date): a crafted file whose tables only look like ChatRoom's
    fails here, while the data directory is still as it was."""
    store = SqliteStore(path)
    try:
        return store.counts()
    finally:
        store.close()
