"""Saved passwords in the system keyring (the ``keyring`` library), when there is one.

Why the keyring and not ``servers.toml``: the keyring encrypts at rest and unlocks with
the user's session (Secret Service, KWallet, macOS Keychain, Windows Credential Locker),
while a password in a dotfile ends up in every backup. So the saved-servers file still
holds no password; the keyring holds one per nickname and server, under the service name
``chatroom`` and the user name ``nick@host:port``.

Optional at run time: without the library, or on a machine with no usable backend (a
headless server, no Secret Service running), ``available`` is False, the login screen
does not offer to remember, and nothing else changes. Any keyring error (locked,
refused, D-Bus gone) reads as "no saved password" and never stops a login.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from chatroom.client.servers import SavedServer

if TYPE_CHECKING:
    from keyring.backend import KeyringBackend

__all__ = ["SERVICE", "PasswordVault", "entry_name"]

SERVICE = "chatroom"
log = logging.getLogger(__name__)


def entry_name(server: SavedServer, nick: str) -> str:
    """The keyring's user name for ``nick`` on ``server``: a renamed server keeps it."""
    return f"{nick.lower()}@{server.host.lower()}:{server.port}"


class PasswordVault:
    """Reads and writes the saved passwords; ``backend`` None means the system's."""

    def __init__(self, backend: KeyringBackend | None = None) -> None:
        self._backend = backend

    def _keyring(self) -> KeyringBackend | None:
        if self._backend is not None:
            return self._backend
        try:
            import keyring
            from keyring.backends import fail, null
        except ImportError:
            return None
        try:
            found = keyring.get_keyring()
        except Exception:  # a broken keyring configuration must not stop the client
            log.debug("no keyring", exc_info=True)
            return None
        return None if isinstance(found, fail.Keyring | null.Keyring) else found

    def available(self) -> bool:
        """Whether a password can be remembered on this machine."""
        return self._keyring() is not None

    def get(self, server: SavedServer, nick: str) -> str | None:
        backend = self._keyring()
        if backend is None or not nick:
            return None
        try:
            return backend.get_password(SERVICE, entry_name(server, nick)) or None
        except Exception:  # locked, refused, gone: as if nothing were saved
            log.debug("keyring read failed", exc_info=True)
            return None

    def put(self, server: SavedServer, nick: str, password: str) -> bool:
        """Remember ``password``; False when the keyring refused."""
        backend = self._keyring()
        if backend is None or not nick:
            return False
        try:
            backend.set_password(SERVICE, entry_name(server, nick), password)
        except Exception:
            log.debug("keyring write failed", exc_info=True)
            return False
        return True

    def forget(self, server: SavedServer, nick: str) -> None:
        backend = self._keyring()
        if backend is None or not nick:
            return
        try:
            if backend.get_password(SERVICE, entry_name(server, nick)) is not None:
                backend.delete_password(SERVICE, entry_name(server, nick))
        except Exception:
            log.debug("keyring delete failed", exc_info=True)
