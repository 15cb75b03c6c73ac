"""REHASH: the operator's edited config file takes effect while everyone stays connected.

Rules (docs/commands.md, "REHASH"; the shell's side is server/net/rehash.py):
- the shell reads and checks the file (core code does no I/O); a file with an error
  changes nothing and the error, naming the key, goes back to whoever asked;
- the core applies at once what it reads when it needs it: the MOTD and server info, the
  server password, limits, timeouts, account and history settings, and the operator
  roles (an operator online whose role lost a capability loses it now, one whose role is
  gone loses ``+o``); ISUPPORT and the welcome burst are rebuilt for later connections;
- a capability that stops or starts being offered (``draft/account-registration`` follows
  ``accounts.registration``) is announced with CAP DEL / CAP NEW (cap-notify);
- rooms added to ``server.channels`` exist at once; a room taken out of it stays while it
  has members (or is registered), as any room would;
- what the clients were told at connect, or what a listener or store was opened with,
  waits for a restart; the shell keeps the running value and names those keys.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING

from chatroom.server.core import accounts, caps

if TYPE_CHECKING:
    from chatroom.server.core.settings import CoreSettings
    from chatroom.server.core.world import World


@dataclass(frozen=True, slots=True)
class Reloaded:
    """The shell's answer to ``ReloadConfig``."""

    settings: CoreSettings | None  # what to apply; None when the file was refused
    source: str  # the file that was read, for RPL_REHASHING
    restart_keys: tuple[str, ...] = ()  # changed, but only a restart applies them
    error: str | None = None  # why the file was refused (names the key)


TIMED_OUT = Reloaded(None, "", (), "the server did not finish reading its config in time")


def adopt(world: World, settings: CoreSettings) -> None:
    """Make ``settings`` the world's, and bring what was built from the old ones in line."""
    roles_before = accounts.online_oper_roles(world)
    offered_before = caps.offered(world)
    world.settings = settings
    world.reply_cache.clear()  # ISUPPORT, welcome burst and MOTD templates
    if world.whowas.maxlen != settings.limits.whowas_entries:
        world.whowas = deque(world.whowas, maxlen=settings.limits.whowas_entries)
    _resize_replay(world, settings.history.replay_lines)
    _follow_permanent_rooms(world, settings.permanent_channels)
    accounts.reconcile_sessions(world, roles_before)
    caps.tell_changes(world, list(world.sessions.values()), offered_before)


def _resize_replay(world: World, lines: int) -> None:
    history = world.history
    if history.replay_lines == lines:
        return
    history.replay_lines = lines
    for room, ring in list(history.recent.items()):
        history.recent[room] = deque(ring, maxlen=lines)


def _follow_permanent_rooms(world: World, names: tuple[str, ...]) -> None:
    wanted = {world.fold(name): name for name in names}
    for channel in list(world.rooms):
        key = world.fold(channel.name)
        permanent = key in wanted or channel.registration is not None
        if channel.permanent != permanent:
            channel.permanent = permanent
            world.rooms.discard_if_empty(channel)
    for key, name in wanted.items():
        if world.rooms.get(key) is None:
            world.rooms.create(name, world.clock(), permanent=True)
