"""Saved servers: a TOML file in the config dir that survives restarts and odd names."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from chatroom.client.servers import SavedServer, ServerStore, parse_address


def test_servers_and_pins_survive_a_restart(tmp_path: Path) -> None:
    store = ServerStore(tmp_path)
    store.put(SavedServer('home "lab"', "chat.example.org", 6697, True, "alice"))
    store.pin('home "lab"', "ab" * 32)
    again = ServerStore(tmp_path)
    assert again.servers == [
        SavedServer('home "lab"', "chat.example.org", 6697, True, "alice", "ab" * 32)
    ]


def test_edit_replaces_and_remove_forgets(tmp_path: Path) -> None:
    store = ServerStore(tmp_path)
    store.put(SavedServer("a", "h1"))
    store.put(SavedServer("b", "h2", 6667, False), old_name="a")
    assert [s.name for s in ServerStore(tmp_path).servers] == ["b"]
    store.remove("b")
    assert ServerStore(tmp_path).servers == []


def test_pins_are_written_private_under_a_loose_umask(tmp_path: Path) -> None:
    """Under umask 000 the pin file was 0666 in a 0777 directory: any local user could
    replace a pinned fingerprint with their own server's."""
    previous = os.umask(0)
    try:
        store = ServerStore(tmp_path / "cfg")
        store.put(SavedServer("home", "chat.example.org"))
        store.pin("home", "ab" * 32)
    finally:
        os.umask(previous)
    assert stat.S_IMODE((tmp_path / "cfg").stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "cfg" / "servers.toml").stat().st_mode) == 0o600


def test_config_dir_comes_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHATROOM_CLIENT_CONFIG_DIR", str(tmp_path / "cfg"))
    ServerStore().put(SavedServer("x", "h"))
    assert (tmp_path / "cfg" / "servers.toml").exists()


@pytest.mark.parametrize(
    ("text", "tls", "expected"),
    [
        ("example.org", True, ("example.org", 6697)),
        ("example.org", False, ("example.org", 6667)),
        ("example.org:7000", True, ("example.org", 7000)),
        ("[::1]:7000", True, ("::1", 7000)),
    ],
)
def test_addresses_get_the_default_port_for_tls_or_plain(
    text: str, tls: bool, expected: tuple[str, int]
) -> None:
    assert parse_address(text, tls) == expected


def test_a_bad_port_is_refused() -> None:
    with pytest.raises(ValueError, match="port"):
        parse_address("host:99999")
