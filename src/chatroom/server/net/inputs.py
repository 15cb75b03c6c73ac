"""Where the shell sends what happens: straight into the ``World``, or into the network's log.

A single server hands every input to its ``World`` at once (``World`` itself is the
``Inputs``). A cluster node (``server/cluster/node.py``) publishes the same inputs to the
network's log instead and applies them, with every other node's, when they come back in
log order; the connections, the shell's flush and the store backends do not need to know
which of the two they talk to.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol

from chatroom.server.core.history import HistoryRecord
from chatroom.server.core.reconfigure import Reloaded
from chatroom.server.core.session import Session
from chatroom.server.store.base import Snapshot, StoreDelta


class Inputs(Protocol):
    """The ``World`` inputs that come from sockets and from the slow helpers."""

    def receive(self, session: Session, line: bytes) -> None: ...

    def receive_too_long(self, session: Session) -> None: ...

    def close(self, session: Session, reason: str) -> None: ...

    def disconnect(self, session: Session, reason: str = ...) -> None: ...

    def password_checked(self, token: int, ok: bool, rehashed: tuple[str, str] | None) -> None: ...

    def password_hashed(self, token: int, password_hash: str, scram: str) -> None: ...

    def persisted(self, token: int, error: str | None) -> None: ...

    def history_loaded(self, token: int, rows: Sequence[object] | None) -> None: ...

    def history_redacted(self, token: int, outcome: str | None) -> None: ...

    def config_reloaded(self, token: int, reloaded: Reloaded) -> None: ...

    def load_snapshot(self, snapshot: Snapshot) -> None: ...

    def load_changes(self, delta: StoreDelta) -> None: ...

    def load_history(self, records: Iterable[HistoryRecord]) -> None: ...
