"""Tests here never touch the user's keyring (see tests/keyrings.py)."""

from tests.keyrings import memory_keyring, no_system_keyring

__all__ = ["memory_keyring", "no_system_keyring"]
