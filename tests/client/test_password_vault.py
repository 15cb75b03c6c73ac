"""Saved passwords in the system keyring: used when there is one, harmless when not."""

from __future__ import annotations

import io

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.errors import KeyringLocked

from chatroom.client.plain import password_from_env_or_prompt
from chatroom.client.servers import SavedServer
from chatroom.client.vault import SERVICE, PasswordVault, entry_name
from tests.keyrings import MemoryKeyring

HOME = SavedServer("home", "Chat.Example.org", 6697, True, "alice")


def test_a_password_is_kept_per_nick_and_server_under_the_chatroom_service(
    memory_keyring: MemoryKeyring,
) -> None:
    vault = PasswordVault()
    assert vault.available()
    assert vault.put(HOME, "Alice", "s3cret")
    assert memory_keyring.entries == {(SERVICE, "alice@chat.example.org:6697"): "s3cret"}
    renamed = SavedServer("work", "chat.example.org", 6697, True, "alice")
    assert vault.get(renamed, "alice") == "s3cret"
    assert vault.get(HOME, "bob") is None
    assert vault.get(SavedServer("x", "chat.example.org", 7000), "alice") is None
    vault.forget(HOME, "alice")
    assert memory_keyring.entries == {}
    vault.forget(HOME, "alice")  # forgetting twice is fine


def test_without_a_keyring_backend_nothing_is_offered_and_nothing_breaks() -> None:
    """The autouse fixture leaves keyring's "fail" backend: what a headless box has."""
    vault = PasswordVault()
    assert not vault.available()
    assert vault.get(HOME, "alice") is None
    assert not vault.put(HOME, "alice", "s3cret")
    vault.forget(HOME, "alice")


class LockedKeyring(KeyringBackend):
    priority = 1

    def get_password(self, service: str, username: str) -> str | None:
        raise KeyringLocked("locked")

    def set_password(self, service: str, username: str, password: str) -> None:
        raise KeyringLocked("locked")

    def delete_password(self, service: str, username: str) -> None:
        raise KeyringLocked("locked")


def test_a_locked_or_refusing_keyring_reads_as_no_saved_password() -> None:
    keyring.set_keyring(LockedKeyring())  # type: ignore[no-untyped-call]
    vault = PasswordVault()
    assert vault.get(HOME, "alice") is None
    assert not vault.put(HOME, "alice", "s3cret")
    vault.forget(HOME, "alice")


def test_plain_mode_takes_the_saved_password_when_none_is_given(
    memory_keyring: MemoryKeyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CHATROOM_PASSWORD", raising=False)
    PasswordVault().put(HOME, "alice", "s3cret")
    err = io.StringIO()
    found = password_from_env_or_prompt(lambda: PasswordVault().get(HOME, "alice"), err)
    assert found == "s3cret"
    assert "system keyring" in err.getvalue()
    monkeypatch.setenv("CHATROOM_PASSWORD", "from-env")
    assert password_from_env_or_prompt(lambda: "s3cret") == "from-env"


def test_entry_names_ignore_case() -> None:
    assert entry_name(HOME, "ALICE") == "alice@chat.example.org:6697"
