"""Log entries and snapshots as bytes: pickled, signed with the network's secret, and read
back resolving only ChatRoom's own types.

Entries carry lines, session ids, tokens and the answers the core waits for (account rows,
history records, store deltas); snapshots carry a whole ``World``. Pickle is the standard
library's encoding for such object graphs, and a plain ``pickle.loads`` of bytes read
from Redis would run any callable that whoever can write to Redis names. Two locks:

- every entry and snapshot starts with an HMAC-SHA256 (``cluster.secret``, which Redis
  never sees): a forged or altered entry is refused before it is unpickled, so write
  access to Redis alone can neither inject commands nor forge answers (a login "ok");
- the unpickler resolves only the globals listed here (ChatRoom's core, IRC and store
  modules, and a few containers of the standard library), so even a leaked secret does
  not name ``os.system``.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import pickle
from typing import Any

__all__ = [
    "BadSignatureError",
    "ForbiddenClassError",
    "decode",
    "dump_state",
    "encode",
    "load_state",
    "mac_key",
]

PROTOCOL = 5
MAC_BYTES = 16

_ALLOWED_PREFIXES = (
    "chatroom.irc.",
    "chatroom.server.core.",
    "chatroom.server.auth.",
    "chatroom.server.store.base",
)
_ALLOWED_GLOBALS = {
    ("builtins", "set"),
    ("builtins", "frozenset"),
    ("collections", "OrderedDict"),
    ("collections", "deque"),
    ("collections", "defaultdict"),
}


class ForbiddenClassError(pickle.UnpicklingError):
    """An entry named a global that no entry may carry."""


class BadSignatureError(pickle.UnpicklingError):
    """The bytes were not signed with this network's secret."""


def mac_key(secret: str) -> bytes:
    """The HMAC key for ``cluster.secret`` (domain-separated from any other use of it)."""
    return hashlib.sha256(b"chatroom cluster log\0" + secret.encode()).digest()


class _Unpickler(pickle.Unpickler):
    def __init__(self, data: bytes, persistent: dict[str, object] | None = None) -> None:
        super().__init__(io.BytesIO(data))
        self._persistent = persistent or {}

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _ALLOWED_GLOBALS or module.startswith(_ALLOWED_PREFIXES):
            return super().find_class(module, name)
        raise ForbiddenClassError(f"a log entry may not name {module}.{name}")

    def persistent_load(self, pid: Any) -> object:
        try:
            return self._persistent[pid]
        except (KeyError, TypeError):
            raise pickle.UnpicklingError(f"unknown reference {pid!r}") from None


def _sign(key: bytes, body: bytes) -> bytes:
    return hmac.new(key, body, hashlib.sha256).digest()[:MAC_BYTES] + body


def _verified(key: bytes, data: bytes) -> bytes:
    mac, body = data[:MAC_BYTES], data[MAC_BYTES:]
    if len(mac) < MAC_BYTES or not hmac.compare_digest(
        mac, hmac.new(key, body, hashlib.sha256).digest()[:MAC_BYTES]
    ):
        raise BadSignatureError("not signed with this network's cluster.secret")
    return body


def encode(inputs: list[tuple[Any, ...]], key: bytes) -> bytes:
    """One log entry: ``inputs`` (each ``(kind, origin, seq, *args)``), in order, signed."""
    return _sign(key, pickle.dumps(inputs, PROTOCOL))


def decode(data: bytes, key: bytes) -> list[tuple[Any, ...]]:
    """The inputs of the entry in ``data``; ``pickle.UnpicklingError`` (or
    ValueError/EOFError) if it is not one this network signed."""
    inputs = _Unpickler(_verified(key, data)).load()
    if not isinstance(inputs, list) or not all(
        isinstance(one, tuple) and len(one) >= 3 and isinstance(one[0], str) for one in inputs
    ):
        raise pickle.UnpicklingError("a log entry is a list of (kind, origin, seq, ...)")
    return inputs


class _StatePickler(pickle.Pickler):
    def __init__(self, file: io.BytesIO, local: dict[int, str]) -> None:
        super().__init__(file, PROTOCOL)
        self._local = local

    def persistent_id(self, obj: Any) -> str | None:
        return self._local.get(id(obj))


def dump_state(state: object, local: dict[str, object], key: bytes) -> bytes:
    """Sign and pickle ``state``; objects in ``local`` (the world itself, its clock) are
    written as their names and become the reader's own objects of those names."""
    buffer = io.BytesIO()
    _StatePickler(buffer, {id(obj): name for name, obj in local.items()}).dump(state)
    return _sign(key, buffer.getvalue())


def load_state(data: bytes, local: dict[str, object], key: bytes) -> Any:
    return _Unpickler(_verified(key, data), local).load()
