"""REHASH in the core (core/commands/rehash.py, core/reconfigure.py), with the harness
answering ``ReloadConfig`` as the shell would after reading the file."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from chatroom import config as cfg
from chatroom.config import ConfigError
from chatroom.server.core.reconfigure import Reloaded
from chatroom.server.harness import Harness
from tests.server.moderation_support import audit_actions, oper


def _reading(h: Harness, **changes: Any) -> Reloaded:
    settings = replace(h.world.settings, **changes)
    return Reloaded(settings, "/etc/chatroom.toml")


def test_rehash_answers_before_the_operators_next_line_is_run() -> None:
    h = Harness()
    admin = oper(h)
    h.reload_answer = _reading(h, motd=("new words",))
    h.defer_answers = True
    admin.send("REHASH", "PING :after")
    assert admin.take() == []  # the PING waits for the file to be read
    h.answer()
    commands = [m.command for m in admin.take()]
    assert commands == ["382", "PONG"]


def test_rooms_added_to_the_configured_channels_exist_at_once_and_removed_ones_go_when_empty() -> (
    None
):
    h = Harness()
    admin = oper(h)
    h.reload_answer = _reading(h, permanent_channels=("#news",))
    admin.cmd("REHASH")
    news = h.world.rooms.find("#news")
    assert news is not None
    assert news.permanent
    assert h.world.rooms.find("#lobby") is None  # nobody was in it: an ordinary empty room


def test_a_longer_replay_on_join_keeps_the_lines_already_held() -> None:
    h = Harness()
    admin = oper(h)
    talker = h.connect("talker")
    talker.cmd("JOIN #room")
    for i in range(15):
        talker.cmd(f"PRIVMSG #room :line {i}")
    h.reload_answer = _reading(h, history=replace(h.world.settings.history, replay_lines=30))
    admin.cmd("REHASH")
    for i in range(15, 40):
        talker.cmd(f"PRIVMSG #room :line {i}")
    late = h.connect("late", caps=["batch", "server-time"])
    replayed = [m.params[-1] for m in late.cmd("JOIN #room") if m.command == "PRIVMSG"]
    assert replayed == [f"line {i}" for i in range(10, 40)]


def test_a_refused_file_is_reported_and_audited_and_changes_nothing() -> None:
    h = Harness()
    admin = oper(h)
    before = h.world.settings
    h.reload_answer = Reloaded(None, "", (), "config key 'limits.nick_length': not a number")
    fail = [m for m in admin.cmd("REHASH") if m.command == "FAIL"]
    assert fail[0].params == ("REHASH", "CONFIG_ERROR", h.reload_answer.error)
    assert h.world.settings is before
    assert ("admin", "config.rehash", "") in audit_actions(h)


def test_a_config_path_that_cannot_be_read_is_a_config_error_naming_it(tmp_path: Path) -> None:
    # A directory where the file should be: unreadable as a file even for root.
    with pytest.raises(ConfigError, match="cannot be read"):
        cfg.load(tmp_path, env={})


def test_an_unexpected_failure_while_reading_is_an_answer_not_a_crash() -> None:
    from chatroom.server.net.rehash import ConfigSource, reread

    def broken() -> tuple[str, cfg.Config]:
        raise RuntimeError("disk on fire")

    running = cfg.load(None, env={})
    config, reloaded = reread(running, ConfigSource(broken))
    assert config is None
    assert reloaded.settings is None
    assert reloaded.error == "the config file could not be read: disk on fire"
