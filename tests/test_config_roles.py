"""``[opers] roles``: operator roles in the config, and the errors for a wrong one."""

from __future__ import annotations

from pathlib import Path

import pytest

from chatroom import config as cfg
from chatroom.server.core.settings import OPER_CAPABILITIES, OperRole


def load_roles(tmp_path: Path, toml: str, env: dict[str, str] | None = None) -> cfg.Config:
    conf = tmp_path / "c.toml"
    conf.write_text(toml)
    return cfg.load(conf, env=env or {})


def test_roles_from_the_file_are_named_sets_of_capabilities(tmp_path: Path) -> None:
    loaded = load_roles(
        tmp_path,
        '[opers]\ncapabilities = ["kick"]\nroles = ["moderator:kick,mute", "helper:"]\n',
    )
    assert loaded.core.oper_roles == (
        OperRole("moderator", frozenset({"kick", "mute"})),
        OperRole("helper", frozenset()),
    )
    assert loaded.core.role_capabilities("oper") == frozenset({"kick"})
    assert loaded.core.role_capabilities("moderator") == frozenset({"kick", "mute"})
    assert loaded.core.role_capabilities("nobody") is None
    assert loaded.core.role_names() == ["helper", "moderator", "oper"]


def test_by_default_only_the_oper_role_exists_and_it_may_do_everything(tmp_path: Path) -> None:
    loaded = load_roles(tmp_path, "")
    assert loaded.core.oper_roles == ()
    assert loaded.core.role_capabilities("oper") == OPER_CAPABILITIES
    assert "admin" in OPER_CAPABILITIES


def test_roles_from_the_environment_are_separated_by_spaces(tmp_path: Path) -> None:
    env = {"CHATROOM_OPERS_ROLES": "moderator:kick,mute  admin:admin,ban"}
    loaded = load_roles(tmp_path, "", env)
    assert [r.name for r in loaded.core.oper_roles] == ["moderator", "admin"]
    assert loaded.core.role_capabilities("admin") == frozenset({"admin", "ban"})


@pytest.mark.parametrize(
    ("roles", "complaint"),
    [
        ('["moderator"]', '"name:capability,...'),
        ('["Mod:kick"]', "lowercase letters"),
        ('["1st:kick"]', "starting with a letter"),
        ('["mod:kick,fly"]', "unknown capability fly"),
        ('["mod:kick", "mod:mute"]', "defined twice"),
        ('["oper:kick"]', "'opers.capabilities'"),
        ("[1, 2]", "list of"),
    ],
)
def test_a_bad_role_is_refused_naming_the_key_and_the_fault(
    tmp_path: Path, roles: str, complaint: str
) -> None:
    with pytest.raises(cfg.ConfigError) as caught:
        load_roles(tmp_path, f"[opers]\nroles = {roles}\n")
    assert "'opers.roles'" in str(caught.value)
    assert complaint in str(caught.value)
