"""Saved servers and their pinned certificates, in a TOML file in the user's config dir.

The file is ``servers.toml`` in ``platformdirs.user_config_dir("chatroom")``, or in
``$CHATROOM_CLIENT_CONFIG_DIR`` (tests and portable installs). It holds no passwords:
a pin is public, a password in a dotfile is a leak waiting for a backup (remembered
passwords go to the system keyring, ``vault.py``).

Writes go to a temporary file renamed over the old one, so a crash never leaves half a
file and loses every pin (which would make the next connection ask the TOFU question
again, exactly what an attacker would want).
"""

from __future__ import annotations

import json
import os
import tomllib
from dataclasses import dataclass, replace
from pathlib import Path

import platformdirs

__all__ = [
    "DEFAULT_PLAIN_PORT",
    "DEFAULT_TLS_PORT",
    "SavedServer",
    "ServerStore",
    "config_dir",
    "parse_address",
]

DEFAULT_TLS_PORT = 6697
DEFAULT_PLAIN_PORT = 6667
FILENAME = "servers.toml"


@dataclass(frozen=True, slots=True)
class SavedServer:
    """One entry of the start screen. ``fingerprint`` is ``sha256`` hex of the DER cert."""

    name: str
    host: str
    port: int = DEFAULT_TLS_PORT
    tls: bool = True
    nick: str = ""
    fingerprint: str = ""

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"


def config_dir() -> Path:
    override = os.environ.get("CHATROOM_CLIENT_CONFIG_DIR")
    if override:
        return Path(override)
    return Path(platformdirs.user_config_dir("chatroom"))


def parse_address(text: str, tls: bool = True) -> tuple[str, int]:
    """``host``, ``host:port`` or ``[v6]:port`` → (host, port), with the TLS or plain default."""
    text = text.strip()
    default = DEFAULT_TLS_PORT if tls else DEFAULT_PLAIN_PORT
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port = rest.lstrip(":")
    elif text.count(":") == 1:
        host, _, port = text.partition(":")
    else:
        host, port = text, ""
    if not host:
        raise ValueError("no host given")
    if port and not (port.isdigit() and 0 < int(port) < 65536):
        raise ValueError(f"bad port {port!r}")
    return host, int(port) if port else default


def _toml_str(value: str) -> str:
    # A JSON string is a valid TOML basic string: same quotes, same escapes.
    return json.dumps(value, ensure_ascii=False)


class ServerStore:
    """Load, change and save the list; every change is saved at once."""

    def __init__(self, directory: Path | None = None) -> None:
        self.path = (directory or config_dir()) / FILENAME
        self.servers: list[SavedServer] = self._load()

    def _load(self) -> list[SavedServer]:
        try:
            data = tomllib.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return []
        servers = []
        for entry in data.get("server", []):
            if not isinstance(entry, dict) or not entry.get("name") or not entry.get("host"):
                continue
            servers.append(
                SavedServer(
                    name=str(entry["name"]),
                    host=str(entry["host"]),
                    port=int(entry.get("port", DEFAULT_TLS_PORT)),
                    tls=bool(entry.get("tls", True)),
                    nick=str(entry.get("nick", "")),
                    fingerprint=str(entry.get("fingerprint", "")),
                )
            )
        return servers

    def save(self) -> None:
        """Written private (directory 0700, file 0600) whatever the umask: whoever can
        write the file can swap a pinned fingerprint for their own server's."""
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        parts = ["# ChatRoom saved servers. Edited by `chatroom connect`; safe to edit by hand.\n"]
        for s in self.servers:
            parts.append(
                "\n[[server]]\n"
                f"name = {_toml_str(s.name)}\n"
                f"host = {_toml_str(s.host)}\n"
                f"port = {s.port}\n"
                f"tls = {'true' if s.tls else 'false'}\n"
                f"nick = {_toml_str(s.nick)}\n"
                f"fingerprint = {_toml_str(s.fingerprint)}\n"
            )
        tmp = self.path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        if hasattr(os, "fchmod"):  # not on Windows, whose files have no such modes
            os.fchmod(fd, 0o600)  # a leftover .tmp keeps its mode through O_CREAT
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write("".join(parts))
        os.replace(tmp, self.path)

    def get(self, name: str) -> SavedServer | None:
        return next((s for s in self.servers if s.name.lower() == name.lower()), None)

    def find_address(self, host: str, port: int) -> SavedServer | None:
        return next((s for s in self.servers if (s.host, s.port) == (host, port)), None)

    def put(self, server: SavedServer, old_name: str | None = None) -> None:
        """Add ``server``, or replace the one called ``old_name`` (or its own name)."""
        key = (old_name or server.name).lower()
        for i, s in enumerate(self.servers):
            if s.name.lower() == key:
                self.servers[i] = server
                break
        else:
            self.servers.append(server)
        self.save()

    def remove(self, name: str) -> None:
        self.servers = [s for s in self.servers if s.name.lower() != name.lower()]
        self.save()

    def pin(self, name: str, fingerprint: str) -> SavedServer | None:
        found = self.get(name)
        if found is not None:
            found = replace(found, fingerprint=fingerprint)
            self.put(found)
        return found

    def unique_name(self, base: str) -> str:
        name, i = base, 2
        while self.get(name) is not None:
            name, i = f"{base}-{i}", i + 1
        return name
