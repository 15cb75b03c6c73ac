"""The settings table: every declared key reaches the configuration it names, the defaults
agree with the core's, the docs name only real keys; and the account settings of "one person,
many devices" (multiclient, always-on, missed lines, offline messages)."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from chatroom import config as cfg
from chatroom.cli import main
from chatroom.config_kinds import KINDS, check
from chatroom.server.core.settings import CoreSettings
from chatroom.server.store.url import SqliteLocation

ROOT = Path(__file__).resolve().parent.parent

# Raw values, as a user would write them, to try per kind: the first whose checked value is
# not the default's is used. A new kind needs a line here (the test says so).
OTHER_VALUES: dict[str, list[object]] = {
    "port": [7001, 7002],
    "count": [7, 9],
    "count0": [7, 9],
    "rate": [7, 9],
    "seconds": [7, 9],
    "seconds_or_off": ["off", 7],
    "ipv6_prefix": [48, 56],
    "metadata_bytes": [7, 9],
    "bool": [True, False],
    "lines": [["other"]],
    "channels": [["#other"]],
    "capabilities": [["kick"]],
    "networks": [["10.0.0.0/8"]],
    "networks_or_off": ["off", ["10.0.0.0/8"]],
    "roles": [["moderator:kick"]],
    "registration": ["closed", "open"],
    "proxy_header": ["forwarded", "x-forwarded-for"],
    "http_tls": ["on", "off"],
    "always_on": ["opt-out", "disabled"],
    "store_url": ["sqlite:///elsewhere"],
    "cluster_url": ["redis://127.0.0.1:6379/0"],
    "node_name": ["other-node", "another-node"],
    "casemapping": ["ascii", "rfc1459"],
    "str": ["other", "another"],
    "str_or_none": ["other"],
    "word": ["Other", "Another"],
    "host": ["127.0.0.2", "127.0.0.3"],
    "hostname": ["other.example", "another.example"],
    "path": ["elsewhere"],
    "path_or_none": ["/elsewhere.pem"],
}

# Settings that are only valid together with another.
COMPANIONS: dict[str, dict[str, object]] = {
    "tls.cert": {"tls.key": "/key.pem"},
    "tls.key": {"tls.cert": "/cert.pem"},
    "cluster.url": {
        "store.url": "postgresql://chatroom@db.example/chatroom",
        "cluster.secret": "s" * 32,
    },
}


def _at(config: cfg.Config, path: str) -> object:
    value: object = config
    for name in path.split("."):
        value = getattr(value, name)
    return value


def _field_names(made: type) -> list[str]:
    if dataclasses.is_dataclass(made):
        return [field.name for field in dataclasses.fields(made)]
    return list(made._fields)  # type: ignore[attr-defined]  # a NamedTuple


def _other_value(setting: cfg.Setting) -> object:
    assert setting.kind in OTHER_VALUES, f"add values of kind {setting.kind!r} to OTHER_VALUES"
    default = check(setting.key, setting.kind, setting.default)
    for raw in OTHER_VALUES[setting.kind]:
        if check(setting.key, setting.kind, raw) != default:
            return raw
    raise AssertionError(f"no value other than the default for {setting.key}")


@pytest.mark.parametrize("setting", cfg.SETTINGS, ids=lambda s: s.key)
def test_every_declared_setting_changes_the_built_configuration(setting: cfg.Setting) -> None:
    """A key that were read but not built into Config (or the core settings), or that
    another key overwrote, would leave the configuration as it was."""
    value = _other_value(setting)
    default = cfg.load(env={})
    changed = cfg.load(env={}, flags={setting.key: value, **COMPANIONS.get(setting.key, {})})
    assert changed != default
    assert _at(changed, setting.lands_in) == check(setting.key, setting.kind, value)
    assert _at(changed, setting.lands_in) != _at(default, setting.lands_in)


def test_each_setting_lands_on_its_own_field_of_a_known_object() -> None:
    places = [setting.lands_in for setting in cfg.SETTINGS]
    assert len(places) == len(set(places)), "two settings land on the same field"
    for setting in cfg.SETTINGS:
        assert setting.kind in KINDS, setting.key
        owner, _, name = setting.lands_in.rpartition(".")
        made = cfg.OBJECTS[owner]
        assert name in _field_names(made), f"{setting.key}: {made.__name__} has no field {name!r}"


def test_the_declared_defaults_are_the_core_and_web_defaults() -> None:
    """The core's own defaults (what tests and the harness build) never drift from the
    configuration's, nor the web server's when it is made without a config."""
    loaded = cfg.load(env={})
    assert loaded.core == CoreSettings()
    assert loaded.http == cfg.HttpConfig()


# Backticked words in the docs that look like keys but are files or modules.
NOT_SETTINGS = {"history.db", "history.js", "server.auth"}


def test_the_docs_name_only_settings_that_exist() -> None:
    """A renamed or removed key must not live on in the docs; core-only bounds such as
    ``limits.flood_backlog`` are fields of the object their section lands in."""
    sections = "|".join(cfg.LANDS_IN)
    pattern = re.compile(rf"`(({sections})\.[a-z0-9_]+)(`| = )")
    documents = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    found = set()
    for document in documents:
        for match in pattern.finditer(document.read_text()):
            key, section = match.group(1), match.group(2)
            if key in cfg.BY_KEY or key in NOT_SETTINGS:
                continue
            made = cfg.OBJECTS[cfg.LANDS_IN[section]]
            assert key.split(".", 1)[1] in _field_names(made), (
                f"{document.name} names {key!r}, which is no setting"
            )
            found.add(key)
    assert "limits.flood_backlog" in found  # the pattern does find keys


def test_the_account_settings_of_many_devices_default_to_on_and_opt_in() -> None:
    accounts = cfg.load(env={}).core.accounts
    assert accounts.multiclient is True
    assert accounts.always_on == "opt-in"
    assert accounts.missed_replay_lines == 200
    assert accounts.offline_messages == 100


def test_the_account_settings_of_many_devices_come_from_the_file(tmp_path: Path) -> None:
    conf = tmp_path / "chatroom.toml"
    conf.write_text(
        '[accounts]\nmulticlient = false\nalways_on = "opt-out"\n'
        "missed_replay_lines = 0\noffline_messages = 5\n"
    )
    accounts = cfg.load(conf, env={}).core.accounts
    assert accounts.multiclient is False
    assert accounts.always_on == "opt-out"
    assert accounts.missed_replay_lines == 0
    assert accounts.offline_messages == 5


def test_the_account_settings_of_many_devices_come_from_the_environment() -> None:
    accounts = cfg.load(
        env={
            "CHATROOM_ACCOUNTS_MULTICLIENT": "off",
            "CHATROOM_ACCOUNTS_ALWAYS_ON": "Disabled",
            "CHATROOM_ACCOUNTS_MISSED_REPLAY_LINES": "50",
            "CHATROOM_ACCOUNTS_OFFLINE_MESSAGES": "7",
        }
    ).core.accounts
    assert accounts.multiclient is False
    assert accounts.always_on == "disabled"
    assert accounts.missed_replay_lines == 50
    assert accounts.offline_messages == 7


@pytest.mark.parametrize(
    ("key", "bad", "complaint"),
    [
        ("accounts.always_on", "sometimes", "expected one of disabled, opt-in, opt-out"),
        ("accounts.multiclient", "maybe", "expected true or false"),
        ("accounts.missed_replay_lines", "-1", "expected a whole number from 0 to"),
        ("accounts.offline_messages", "0", "expected a whole number from 1 to"),
        ("accounts.offline_messages", "lots", "expected a whole number from 1 to"),
    ],
)
def test_a_bad_account_setting_is_refused_naming_the_key_and_what_is_allowed(
    key: str, bad: str, complaint: str
) -> None:
    with pytest.raises(cfg.ConfigError) as caught:
        cfg.load(env={cfg.env_name(key): bad})
    message = str(caught.value)
    assert message.startswith(f"config key {key!r}: got ")
    assert complaint in message
    assert "\n" not in message


def test_serve_refuses_a_bad_always_on_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    conf = tmp_path / "chatroom.toml"
    conf.write_text('[accounts]\nalways_on = "always"\n')
    assert main(["serve", "--config", str(conf)]) == 2
    err = capsys.readouterr().err
    assert err == (
        "chatroom: config key 'accounts.always_on': got 'always';"
        " expected one of disabled, opt-in, opt-out\n"
    )


def test_the_example_config_documents_the_account_settings_of_many_devices() -> None:
    example = (ROOT / "chatroom.example.toml").read_text()
    for key in ("multiclient", "always_on", "missed_replay_lines", "offline_messages"):
        assert f"\n{key} = " in example
        assert f"CHATROOM_ACCOUNTS_{key.upper()}" in example


def test_a_network_node_needs_postgresql_and_a_long_enough_secret() -> None:
    url = {"cluster.url": "redis://127.0.0.1:6379/0"}
    pg = {"store.url": "postgresql://chatroom@db.example/chatroom"}
    with pytest.raises(cfg.ConfigError, match=r"'cluster\.url'.*postgresql"):
        cfg.load(env={}, flags={**url, "cluster.secret": "s" * 32})
    with pytest.raises(cfg.ConfigError, match=r"'cluster\.secret'.*openssl rand -hex 32"):
        cfg.load(env={}, flags={**url, **pg, "cluster.secret": "short"})
    config = cfg.load(env={}, flags={**url, **pg, "cluster.secret": "s" * 32})
    assert config.cluster_url == "redis://127.0.0.1:6379/0"
    assert config.node  # the host's name when none is given


def test_a_cluster_url_that_is_not_redis_names_the_key() -> None:
    with pytest.raises(cfg.ConfigError, match=r"cluster\.url.*redis://"):
        cfg.load(env={}, flags={"cluster.url": "http://example.org"})


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("redis://127.0.0.1:99999/0", "Port out of range"),
        ("redis://[::1/0", "Invalid IPv6"),
        ("redis://127.0.0.1:6379/0?socket_timeout=soon", "socket_timeout"),
        ("redis://127.0.0.1:6379/zero", "database after the port is a number"),
    ],
)
def test_a_malformed_cluster_url_is_one_line_naming_the_key_not_a_traceback(
    url: str, said: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(cfg.ConfigError, match=rf"cluster\.url.*{re.escape(said)}"):
        cfg.load(env={}, flags={"cluster.url": url})
    assert main(["admin", "nodes", "--cluster", url]) == 1
    error = capsys.readouterr().err
    assert "'cluster.url'" in error
    assert said in error
    assert "Traceback" not in error


@pytest.mark.parametrize(
    ("written", "folder"),
    [("sqlite:stores/main", "stores/main"), ("sqlite:my%20data", "my data")],
)
def test_a_relative_sqlite_store_in_a_config_file_is_taken_from_the_files_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, written: str, folder: str
) -> None:
    """As data_dir is: `--config site/chatroom.toml` from anywhere finds the same store."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "chatroom.toml").write_text(f'[store]\nurl = "{written}"\n')
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    store = cfg.load(site / "chatroom.toml", env={}).store
    assert isinstance(store, SqliteLocation)
    assert store.directory == site / folder


def test_an_absolute_or_default_sqlite_store_is_left_as_written(tmp_path: Path) -> None:
    for written, expected in (
        ("sqlite:///srv/chat", Path("/srv/chat")),
        ("sqlite://", tmp_path / "data"),
        ("", tmp_path / "data"),
    ):
        (tmp_path / "chatroom.toml").write_text(
            f'[server]\ndata_dir = "data"\n[store]\nurl = "{written}"\n'
        )
        store = cfg.load(tmp_path / "chatroom.toml", env={}).store
        assert isinstance(store, SqliteLocation)
        assert store.directory == expected, written
