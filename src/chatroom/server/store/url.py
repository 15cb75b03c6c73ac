"""``store.url``: where the durable state lives, parsed once into a location.

- empty (the default), ``sqlite:`` or ``sqlite://``: the SQLite files in the data
  directory, ``chatroom.db`` and ``history.db``, as ChatRoom has always kept them;
- ``sqlite:///DIR``: the same two files in another directory;
- ``postgresql://USER:PASSWORD@HOST:PORT/DB`` (or ``postgres://``): one PostgreSQL
  database holding both; a Unix socket is named the libpq way, by a host that is a
  directory: ``postgresql:///DB?host=/run/postgresql`` or ``postgresql://%2Frun%2Fpostgresql/DB``.
  Everything after the scheme goes to libpq unchanged, so every libpq parameter works
  (``sslmode``, ``passfile``, ``application_name``...).

Pure: no database module is imported here, so ``config.py`` can validate the setting.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

__all__ = [
    "HISTORY_FILENAME",
    "STORE_FILENAME",
    "PostgresLocation",
    "SqliteLocation",
    "StoreLocation",
    "parse_store_url",
    "redacted",
]

STORE_FILENAME = "chatroom.db"
HISTORY_FILENAME = "history.db"
_POSTGRES_SCHEMES = ("postgresql", "postgres")


@dataclass(frozen=True, slots=True)
class SqliteLocation:
    """The directory that holds ``chatroom.db`` and ``history.db``."""

    directory: Path

    @property
    def store_path(self) -> Path:
        return self.directory / STORE_FILENAME

    @property
    def history_path(self) -> Path:
        return self.directory / HISTORY_FILENAME

    def __str__(self) -> str:
        return f"sqlite://{self.directory.resolve()}"


@dataclass(frozen=True, slots=True)
class PostgresLocation:
    """A libpq connection URL, kept as given (``redacted`` hides its password in logs)."""

    conninfo: str

    def __str__(self) -> str:
        return redacted(self.conninfo)


StoreLocation = SqliteLocation | PostgresLocation


def parse_store_url(url: str, data_dir: Path) -> StoreLocation:
    """The location ``url`` names; ValueError saying what is accepted otherwise."""
    text = url.strip()
    if not text:
        return SqliteLocation(data_dir)
    scheme, sep, _ = text.partition(":")
    scheme = scheme.lower()
    if sep and scheme in _POSTGRES_SCHEMES:
        return PostgresLocation(text)
    if sep and scheme == "sqlite":
        parts = urlsplit(text)
        if parts.query or parts.fragment:
            raise ValueError(f"{url!r}: a sqlite URL takes no ?query or #fragment")
        if parts.netloc not in ("", "localhost"):
            raise ValueError(f"{url!r}: write sqlite:///DIR (three slashes), the files' folder")
        path = unquote(parts.path)
        if path.endswith(".db"):
            raise ValueError(
                f"{url!r}: name the directory that holds chatroom.db and history.db,"
                f" not a file (sqlite://{Path(path).parent})"
            )
        return SqliteLocation(Path(path) if path else data_dir)
    raise ValueError(
        f"{url!r}: expected sqlite:///DIR (empty: the data directory) or"
        " postgresql://USER@HOST:PORT/DB"
    )


# Anywhere in the text, not only at its start: libpq quotes a URL it cannot parse inside
# its error message ("... in URI: \"postgresql://user:secret@[::1\""), password and all.
_PASSWORD_IN_URL = re.compile(
    r"(\b[a-z][a-z0-9+.-]*://[^:/?#@\s\"']*):[^@/?#\s\"']*@", re.IGNORECASE
)
_PASSWORD_PARAM = re.compile(r"(password\s*=\s*)[^&\s\"']*", re.IGNORECASE)


def redacted(url: str) -> str:
    """``url`` (or an error message quoting one) with any password replaced by ``***``,
    fit for logs and error messages."""
    return _PASSWORD_PARAM.sub(r"\1***", _PASSWORD_IN_URL.sub(r"\1:***@", url))
