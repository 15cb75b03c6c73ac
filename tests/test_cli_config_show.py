"""``chatroom config`` prints the configuration in effect as TOML, in the layout of
``chatroom config --defaults``: values from the file and the CHATROOM_* environment, each
marked with where it came from, and never a secret. Run as an operator would."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from chatroom import config as cfg

FILE = """\
[server]
name = "file.example"
data_dir = "data"
password = "letmein-file"
channels = ["#lobby", "#ops"]
[store]
url = "postgresql://chat:s3cret@db.example.org/chat"
[opers]
roles = ["moderator:mute,kick"]
[tls]
sts_duration = "off"
"""
ENV = {
    "CHATROOM_LISTEN_PORT": "7001",
    "CHATROOM_LISTEN_HTTP_PORT": "off",
    "CHATROOM_HTTP_TRUSTED_PROXIES": "10.0.0.0/8, fd00::/8",
    "CHATROOM_LIMITS_FLOOD_PER_SECOND": "2",
    "CHATROOM_ACCOUNTS_GUESTS": "false",
    "CHATROOM_CLUSTER_SECRET": "c" * 40,
}
SECRETS = ("letmein-file", "s3cret", "c" * 40)
SRC = str(Path(cfg.__file__).resolve().parents[1])


def show(cwd: Path, *argv: str, env: dict[str, str] | None = None) -> str:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CHATROOM_")}
    clean["PYTHONPATH"] = SRC  # this checkout's code, from any directory
    done = subprocess.run(
        [sys.executable, "-m", "chatroom", "config", *argv],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**clean, "HOME": str(cwd), "XDG_CONFIG_HOME": str(cwd / "xdg"), **(env or {})},
        check=False,
    )
    assert (done.returncode, done.stderr) == (0, "")
    return done.stdout


def without_secrets(config: cfg.Config) -> cfg.Config:
    """What the printed TOML can hold: no secret, a path as the absolute one in effect."""
    return dataclasses.replace(
        config,
        core=dataclasses.replace(config.core, server_password=None),
        cluster_secret="",
        store_url=config.store_url.replace(":s3cret@", ":***@"),
        data_dir=config.data_dir.absolute(),
    )


@pytest.fixture
def conf(tmp_path: Path) -> Path:
    (tmp_path / "chatroom.toml").write_text(FILE)
    return tmp_path / "chatroom.toml"


def test_config_prints_the_toml_in_effect_that_loads_back_into_the_same_config(
    tmp_path: Path, conf: Path
) -> None:
    out = show(tmp_path, "--config", str(conf), env=ENV)
    assert "Config(" not in out
    printed = tmp_path / "printed.toml"
    printed.write_text(out)
    tomllib.loads(out)
    assert cfg.load(printed, env={}) == without_secrets(cfg.load(conf, env=ENV))


def test_config_has_the_layout_of_the_defaults_with_the_values_in_effect(
    tmp_path: Path, conf: Path
) -> None:
    out = show(tmp_path, "--config", str(conf), env=ENV)
    defaults = show(tmp_path, "--defaults")
    sections = [line for line in defaults.splitlines() if line.startswith("[")]
    assert [line for line in out.splitlines() if line.startswith("[")] == sections
    keys = [line.split(" = ")[0] for line in defaults.splitlines() if " = " in line[:40]]
    shown = [line.lstrip("# ").split(" = ")[0] for line in out.splitlines() if " = " in line[:40]]
    assert shown == keys
    docs = [line for line in defaults.splitlines() if line.startswith("# ") and "(env " in line]
    assert docs == [line for line in out.splitlines() if line.startswith("# ") and "(env " in line]


def test_config_marks_each_value_from_the_file_or_the_environment(
    tmp_path: Path, conf: Path
) -> None:
    lines = show(tmp_path, "--config", str(conf), env=ENV).splitlines()
    assert f'name = "file.example"  # from {conf}' in lines
    assert f'data_dir = "{tmp_path / "data"}"  # from {conf}' in lines
    assert f'roles = ["moderator:kick,mute"]  # from {conf}' in lines
    assert f'sts_duration = "off"  # from {conf}' in lines
    assert "port = 7001  # from CHATROOM_LISTEN_PORT" in lines
    assert 'http_port = "off"  # from CHATROOM_LISTEN_HTTP_PORT' in lines
    assert (
        'trusted_proxies = ["10.0.0.0/8", "fd00::/8"]  # from CHATROOM_HTTP_TRUSTED_PROXIES'
        in lines
    )
    assert "guests = false  # from CHATROOM_ACCOUNTS_GUESTS" in lines
    assert "tls_port = 6697" in lines  # a default says nothing
    assert lines[0] == (
        f"# ChatRoom configuration in effect: the defaults, then {conf}, then CHATROOM_* variables."
    )


def test_config_shows_secrets_only_as_set_or_unset(tmp_path: Path, conf: Path) -> None:
    out = show(tmp_path, "--config", str(conf), env=ENV)
    for secret in SECRETS:
        assert secret not in out
    lines = out.splitlines()
    assert f"# password = (set, not shown; from {conf})" in lines
    assert "# secret = (set, not shown; from CHATROOM_CLUSTER_SECRET)" in lines
    assert (
        f'url = "postgresql://chat:***@db.example.org/chat"  # password not shown; from {conf}'
        in lines
    )
    unset = show(tmp_path, "--config", str(conf), env={}).splitlines()
    assert 'secret = ""  # unset' in unset


def test_config_without_an_option_shows_the_config_file_it_finds(
    tmp_path: Path, conf: Path
) -> None:
    out = show(tmp_path, env={"CHATROOM_LISTEN_PORT": "7001"})
    assert out.startswith("# ChatRoom configuration in effect: the defaults, then chatroom.toml,")
    assert 'name = "file.example"  # from chatroom.toml' in out.splitlines()
    assert "letmein-file" not in out
    conf.unlink()  # no file: the defaults and the environment
    out = show(tmp_path, env={"CHATROOM_LISTEN_PORT": "7001"})
    assert "port = 7001  # from CHATROOM_LISTEN_PORT" in out.splitlines()
    assert 'password = ""  # unset' in out.splitlines()
    (tmp_path / "printed.toml").write_text(out)
    in_effect = cfg.load(None, env={"CHATROOM_LISTEN_PORT": "7001"})
    in_effect = dataclasses.replace(in_effect, data_dir=tmp_path / "chatroom-data")
    assert cfg.load(tmp_path / "printed.toml", env={}) == in_effect


def test_config_with_a_bad_value_is_one_line_and_exit_2(tmp_path: Path, conf: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "chatroom", "config", "--config", str(conf)],
        capture_output=True,
        text=True,
        env={**os.environ, "CHATROOM_LISTEN_PORT": "seventy"},
        check=False,
    )
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr.startswith("chatroom: config key 'listen.port'")
    assert done.stderr.count("\n") == 1


def test_config_prints_a_value_with_quotes_and_controls_as_toml_that_cannot_act_on_a_terminal(
    tmp_path: Path, conf: Path
) -> None:
    description = 'two\nlines "quoted" \\ \x1b[2J\x9b31m\x7f tab\tend'
    env = {"CHATROOM_SERVER_DESCRIPTION": description}
    out = show(tmp_path, "--config", str(conf), env=env)
    assert [c for c in out if (ord(c) < 0x20 and c != "\n") or 0x7F <= ord(c) <= 0x9F] == []
    assert tomllib.loads(out)["server"]["description"] == description
