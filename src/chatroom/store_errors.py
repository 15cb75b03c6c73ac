"""What the command line says when the store cannot be used: one line, never a traceback.

Shared by ``serve``, ``init`` and every ``chatroom admin`` command: where the store is (its
password hidden), the setting that names it, the database's own words, and what to check
or change (a full disk, a missing directory, a PostgreSQL that refuses, a newer schema).
"""

from __future__ import annotations

import errno
import shutil
import sqlite3

from chatroom.server.store.base import StoreError
from chatroom.server.store.schema import SchemaTooNewError
from chatroom.server.store.url import SqliteLocation, StoreLocation, redacted


def database_errors() -> tuple[type[Exception], ...]:
    """What a database may raise besides ``StoreError``: reported, never a traceback (a
    schema newer than this ChatRoom too: a downgrade, or a newer node on the store)."""
    errors: tuple[type[Exception], ...] = (sqlite3.Error, StoreError, SchemaTooNewError)
    try:
        import psycopg
    except ImportError:  # pragma: no cover - psycopg is a dependency
        return errors
    return (*errors, psycopg.Error)


def one_line(error: BaseException) -> str:
    """An error as one line: libpq's messages span several (a hint on its own line), and
    may quote the URL they could not parse, password and all (hidden here)."""
    return " ".join(redacted(str(error)).split())


def store_failure(location: StoreLocation, error: BaseException) -> str:
    """Why the store cannot be used, in one line: where it is (password hidden), the
    setting that names it, the database's own words, and what to check or change."""
    change = "or correct store.url (--store, CHATROOM_STORE_URL, or [store] url in the config)"
    if isinstance(error, SchemaTooNewError):
        fix = f"it was written by a newer ChatRoom: run that version, {change}"
    elif _disk_full(location, error):
        fix = (
            "the file system holding it is full: free some space there first (even deleting"
            " history needs a little), then try again"
        )
    elif isinstance(location, SqliteLocation):
        fix = f"check that the directory exists and is writable, {change} or server.data_dir"
    else:
        fix = f"check that PostgreSQL runs there and lets that user into that database, {change}"
    return f"cannot use the store {location} (store.url): {one_line(error)}; {fix}"


def _disk_full(location: StoreLocation, error: BaseException) -> bool:
    """SQLite's "database or disk is full", the file system's ENOSPC/EDQUOT, or SQLite's
    "disk I/O error" where the data directory has no room left (what SQLite says when
    it cannot even grow its shared-memory file on a full disk)."""
    if isinstance(error, OSError):
        return error.errno in (errno.ENOSPC, errno.EDQUOT)
    code = getattr(error, "sqlite_errorcode", None)
    if code == sqlite3.SQLITE_FULL:
        return True
    if code is None or code & 0xFF != sqlite3.SQLITE_IOERR:
        return False
    if not isinstance(location, SqliteLocation):
        return False
    try:
        return shutil.disk_usage(location.directory).free < _NEARLY_FULL
    except OSError:
        return False


_NEARLY_FULL = 1 << 20  # bytes free below which an I/O error is taken for a full disk


def value_or_database_errors() -> tuple[type[Exception], ...]:
    """A bad argument or a database failure: both are reported in one line."""
    return (ValueError, *database_errors())
