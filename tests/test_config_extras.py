"""The settings of the protocol extras: server.description, tls.sts_duration,
accounts.registration_before_connect and accounts.require_email."""

from __future__ import annotations

import pytest

from chatroom import config as cfg


def test_defaults_describe_the_server_and_keep_a_day_of_sts_and_early_registration() -> None:
    loaded = cfg.load(env={})
    assert loaded.core.description == "ChatRoom IRC server"
    assert loaded.tls.sts_duration == 86400
    assert loaded.core.accounts.registration_before_connect is True
    assert loaded.core.accounts.require_email is False


def test_each_setting_comes_from_the_environment() -> None:
    loaded = cfg.load(
        env={
            "CHATROOM_SERVER_DESCRIPTION": "The gardening club",
            "CHATROOM_TLS_STS_DURATION": "15552000",
            "CHATROOM_ACCOUNTS_REGISTRATION_BEFORE_CONNECT": "off",
            "CHATROOM_ACCOUNTS_REQUIRE_EMAIL": "yes",
        }
    )
    assert loaded.core.description == "The gardening club"
    assert loaded.tls.sts_duration == 15552000
    assert loaded.core.accounts.registration_before_connect is False
    assert loaded.core.accounts.require_email is True


def test_sts_can_be_switched_off_or_set_to_zero_to_lift_a_policy() -> None:
    assert cfg.load(env={"CHATROOM_TLS_STS_DURATION": "off"}).tls.sts_duration is None
    assert cfg.load(env={"CHATROOM_TLS_STS_DURATION": "0"}).tls.sts_duration == 0


@pytest.mark.parametrize("bad", ["-1", "soon", "1.5"])
def test_a_bad_sts_duration_names_the_key(bad: str) -> None:
    with pytest.raises(cfg.ConfigError, match=r"tls\.sts_duration"):
        cfg.load(env={"CHATROOM_TLS_STS_DURATION": bad})
