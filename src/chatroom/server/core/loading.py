"""State that arrives whole from outside the command stream: the store's durable records
(at start, and again when another process changed them), the recent history lines, and a
cluster network's start time.

These are ``World``'s methods (world.py binds them), kept together because they follow
one rule: each hands its records to the owners that keep them (``AccountBook``,
``MetadataState``, ``ReadMarkers``, ``chanreg``, ``sanctions``, ``HistoryState``), then
brings the live sessions in step with them (``accounts.reconcile_sessions``: a deleted
account logged out, an operator's changed role applied); a full load and a load by key
must end in the same state.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from chatroom.server.core import accounts, chanreg, presence, sanctions

if TYPE_CHECKING:
    from chatroom.server.core.history import HistoryRecord
    from chatroom.server.core.world import World
    from chatroom.server.store.base import Snapshot, StoreDelta


def load_snapshot(world: World, snapshot: Snapshot) -> None:
    """Durable state from the store: at start, and again when ``chatroom admin`` wrote."""
    roles_before = accounts.online_oper_roles(world)
    world.accounts.load(snapshot.accounts, snapshot.options, snapshot.presence)
    world.metadata.load(snapshot)
    world.read_markers.load(snapshot.read_markers, snapshot.accounts)
    accounts.reconcile_sessions(world, roles_before)
    chanreg.restore(world, snapshot)
    sanctions.load(world, snapshot)
    if not world.restored:  # at start only: a reload must not bring back who left
        world.restored = True
        presence.restore(world)


def load_changes(world: World, delta: StoreDelta) -> None:
    """Rows another process changed, applied by key (PostgreSQL names them): the
    same rules as ``load_snapshot``, without reading or revisiting everything."""
    roles_before = accounts.online_oper_roles(world)
    for key, account in delta.accounts.items():
        world.accounts.load_one(key, account, delta.options.get(key, {}))
        if account is None:
            world.read_markers.forget(key)
        world.metadata.replace(key, delta.metadata.get(key, {}))
    if delta.accounts:
        accounts.reconcile_sessions(world, roles_before)
    if delta.channels:
        chanreg.load_changes(world, delta.channels)
    if delta.bans or delta.mutes:
        sanctions.load_changes(world, delta.bans, delta.mutes)


def load_history(world: World, records: Iterable[HistoryRecord]) -> None:
    """The last lines of each room from the store: at start, and after an admin purge."""
    world.history.load_recent(records)


def adopt_network_start(world: World, started_at: float) -> None:
    """A cluster node takes the network's start instead of its own: msgids and the
    permanent rooms' creation times are then the same on every node."""
    world.started_at = started_at
    world._msgid_prefix = f"{int(started_at * 1000):x}"
    for channel in world.rooms:
        if channel.permanent:
            channel.created_at = started_at
