"""``chatroom config``: the configuration in effect, as TOML an operator can read and reuse.

The same layout as ``chatroom config --defaults`` (sections, each key under its one line
of documentation), but each value is the one in effect after the file and the CHATROOM_*
environment, with a comment naming where it came from when it is not the default. What
it prints is pasted into bug reports, so it never holds a secret: the server password and
the cluster secret are shown as set or unset (a set one as a comment, so the output still
loads, with that secret left out), and a password inside ``store.url`` or ``cluster.url``
as ``***``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from enum import Enum
from ipaddress import IPv4Network, IPv6Network
from pathlib import Path

from chatroom import config as cfg
from chatroom.config_kinds import check
from chatroom.server.core.settings import OperRole
from chatroom.server.store.url import redacted

__all__ = ["SECRETS", "effective_toml"]

# Keys whose value is never printed, only whether it is set.
SECRETS = frozenset({"server.password", "cluster.secret"})
# Keys whose value may hold a password (``postgresql://USER:PASSWORD@...``, ``redis://:PW@``).
_URLS = frozenset({"store.url", "cluster.url"})


def _plain(value: object) -> object:
    """A checked value written back as TOML takes it (before ``_in_effect`` verifies it)."""
    if isinstance(value, bool | str | int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else value
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, OperRole):
        return f"{value.name}:{','.join(sorted(value.capabilities))}"
    if isinstance(value, IPv4Network | IPv6Network):
        return str(value)
    if isinstance(value, frozenset):
        return sorted(_plain(item) for item in value)  # type: ignore[type-var]
    if isinstance(value, tuple | list):
        return [_plain(item) for item in value]
    return None


def _in_effect(setting: cfg.Setting, raw: object, value: object) -> object:
    """The TOML value of ``value`` (``raw`` after checking): in its plainest form (a number
    given in the environment as text is a number again, ``"off"`` for a port turned off),
    checked to mean the same; else ``raw``, as it was given. A path is made absolute: a
    relative one is taken from the directory ``chatroom`` runs in."""
    if isinstance(value, Path):
        return str(value.absolute())
    candidates = ["off", ""] if value is None else [_plain(value)]
    for candidate in candidates:
        try:
            if candidate is not None and check(setting.key, setting.kind, candidate) == value:
                return candidate
        except cfg.ConfigError:
            continue
    return raw


def _line(setting: cfg.Setting, raw: object, source: str) -> str:
    name = setting.key.split(".", 1)[1]
    value = check(setting.key, setting.kind, raw)
    origin = f"from {source}" if source else ""
    if setting.key in SECRETS:
        if value:  # never shown, not even its length; a comment, so the output still loads
            return f"# {name} = (set, not shown{'; ' + origin if origin else ''})"
        value, notes = "", ["unset", origin]
    elif setting.key in _URLS and redacted(str(value)) != value:
        value, notes = redacted(str(value)), ["password not shown", origin]
    else:
        value, notes = _in_effect(setting, raw, value), [origin]
    comment = "; ".join(note for note in notes if note)
    return f"{name} = {_toml(value)}" + (f"  # {comment}" if comment else "")


# JSON's string escapes are TOML's too; DEL and the C1 controls (which a terminal may obey:
# U+009B is CSI) are escaped as well, so a value from a file or the environment can neither
# break the TOML nor act on the terminal it is printed to.
_ESCAPE_C1 = {code: f"\\u{code:04x}" for code in range(0x7F, 0xA0)}


def _toml(value: object) -> str:
    """``value`` (a string, bool, number or list of them) written as TOML."""
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False).translate(_ESCAPE_C1)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml(item) for item in value) + "]"
    return str(value)


def _named_file(env: Mapping[str, str] | None) -> str:
    """The file ``CHATROOM_CONFIG`` names, which ``config.load`` reads when none is given."""
    return (os.environ if env is None else env).get("CHATROOM_CONFIG", "")


def effective_toml(file: Path | None, env: Mapping[str, str] | None = None) -> str:
    """The configuration ``serve`` would run with, from ``file`` and ``env`` (validated
    first: a bad value is the same ``ConfigError`` as at start-up)."""
    cfg.load(file, env)
    layered = cfg.layers(file, env)
    sources = {source for _, source in layered.values()}
    shown_file = file or _named_file(env)
    lines = [
        "# ChatRoom configuration in effect: the defaults"
        + (f", then {shown_file}" if shown_file else "")
        + (", then CHATROOM_* variables" if any(s.startswith("CHATROOM_") for s in sources) else "")
        + ".",
        "# A value that is not the default says where it comes from; secrets are not shown.",
        "# Every key may also be set as CHATROOM_<SECTION>_<KEY>.",
    ]
    sections: dict[str, list[cfg.Setting]] = {}
    for setting in cfg.SETTINGS:
        sections.setdefault(setting.key.split(".", 1)[0], []).append(setting)
    for section, settings in sections.items():
        lines += ["", f"[{section}]"]
        for setting in settings:
            lines.append(f"# {setting.help}  (env {cfg.env_name(setting.key)})")
            lines.append(_line(setting, *layered[setting.key]))
    return "\n".join(lines) + "\n"
