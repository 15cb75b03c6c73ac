"""Log entries as bytes: pickle, but only of plain data and ChatRoom's own record types.

Entries carry lines, session ids, tokens and the answers the core waits for (account rows,
history records, store deltas), so a general encoding is needed; pickle is the one the
standard library has. A plain ``pickle.loads`` of bytes read from Redis would run any
callable an attacker who can write to Redis names, so ``decode`` resolves only the
classes listed here (dataclasses and enums of the store and history modules, set and
frozenset) and refuses every other global: reading a forged entry can at worst give the
core data it would refuse anyway, never run code.
"""

from __future__ import annotations

import dataclasses
import enum
import io
import pickle
from types import ModuleType
from typing import Any

from chatroom.server.core import history
from chatroom.server.store import base

__all__ = ["ForbiddenClassError", "decode", "encode"]

PROTOCOL = 5


class ForbiddenClassError(pickle.UnpicklingError):
    """An entry named a class that no entry may carry."""


def _record_types(module: ModuleType) -> dict[tuple[str, str], type[Any]]:
    found: dict[tuple[str, str], type[Any]] = {}
    for name, value in vars(module).items():
        if not isinstance(value, type) or value.__module__ != module.__name__:
            continue
        if dataclasses.is_dataclass(value) or issubclass(value, enum.Enum):
            found[(module.__name__, name)] = value
    return found


_ALLOWED: dict[tuple[str, str], type[Any]] = {
    ("builtins", "set"): set,
    ("builtins", "frozenset"): frozenset,
    **_record_types(base),
    **_record_types(history),
}


class _Unpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> type[Any]:
        try:
            return _ALLOWED[(module, name)]
        except KeyError:
            raise ForbiddenClassError(f"a log entry may not name {module}.{name}") from None


def encode(entry: tuple[Any, ...]) -> bytes:
    return pickle.dumps(entry, PROTOCOL)


def decode(data: bytes) -> tuple[Any, ...]:
    """The entry in ``data``; ``pickle.UnpicklingError`` (or ValueError/EOFError) if it is
    not one this codec wrote."""
    entry = _Unpickler(io.BytesIO(data)).load()
    if not isinstance(entry, tuple) or not entry or not isinstance(entry[0], str):
        raise pickle.UnpicklingError("a log entry is a tuple starting with its kind")
    return entry
