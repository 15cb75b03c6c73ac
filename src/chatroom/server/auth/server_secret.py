"""The server's own secret, kept in the data directory so that it survives restarts.

SCRAM answers a name that has no account with a fake salt derived from this secret
(``ScramServerExchange(secret=...)``). With a secret made afresh at each start, the salt of
a name that does not exist would change at every restart while a real account's stays
the same, and anyone probing twice across a restart could tell the two apart.

The file holds 32 random bytes, is created readable by its owner only (0600, whatever the
umask) and is written atomically, so a crash never leaves half a secret behind.
"""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path

__all__ = ["SECRET_BYTES", "SECRET_FILENAME", "load_server_secret"]

SECRET_FILENAME = "server-secret"
SECRET_BYTES = 32

log = logging.getLogger("chatroom.auth")


def load_server_secret(data_dir: Path) -> bytes:
    """The secret in ``data_dir``, made on first use (or again if the file is damaged).

    An ``OSError`` (the directory cannot be read or written) propagates: starting without
    the secret would quietly bring back the problem it exists to solve.
    """
    path = data_dir / SECRET_FILENAME
    try:
        secret = path.read_bytes()
    except FileNotFoundError:
        secret = b""
    if len(secret) == SECRET_BYTES:
        return secret
    if secret:
        log.warning("server secret damaged; making a new one", extra={"path": str(path)})
    secret = secrets.token_bytes(SECRET_BYTES)
    _write_private(path, secret)
    return secret


def _write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to a 0600 temporary file beside ``path``, then rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            os.fchmod(fh.fileno(), 0o600)  # the umask may take bits away, never add: be exact
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
