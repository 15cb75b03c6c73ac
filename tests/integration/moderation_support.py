"""Shared setup of the moderation tests over real sockets: a data dir with accounts."""

from __future__ import annotations

from pathlib import Path

from chatroom import admin
from chatroom.config import Config
from chatroom.server.auth.passwords import Argon2Params, PasswordHasher
from chatroom.server.core.settings import Limits
from chatroom.server.store.factory import open_store
from tests.realserver import make_config

PASSWORD = "s3cret-enough"


def config_with_accounts(tmp_path: Path, *users: str) -> Config:
    """A data dir (flood limit off) with the oper ``admin`` and then ``users``, each with
    ``PASSWORD``, made as the CLI makes them."""
    config = make_config(tmp_path, Limits(flood_per_second=0))
    hasher = PasswordHasher(Argon2Params(*config.argon2))
    store = open_store(config.store)
    admin.create_account(store, hasher, "admin", PASSWORD, oper=True)
    for nick in users:
        admin.create_account(store, hasher, nick, PASSWORD)
    store.close()
    return config
