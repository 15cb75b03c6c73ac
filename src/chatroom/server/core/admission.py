"""Admission control: which connections may open and how fast a client may talk.

Connection limits (in all, per address, new connections per address per minute) are
checked when a connection opens; flood control is a token bucket per session that the
shell asks before handing over each line. Both are pure functions of the world and clock.

The limits count every socket, not only sessions: an HTTP connection is *held* (``hold``)
from the moment it is accepted until it closes or its WebSocket becomes a session, so
silent or half-sent requests on the web port fill the same per-address and total quotas
as IRC connections do. ``Occupancy.fd_capacity``, set by the shell from the process's
open-file limit, keeps the total below what the kernel allows, so that the server, not
``accept()``, refuses the excess.
"""

from __future__ import annotations

import logging
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from chatroom.server.core.session import Session
    from chatroom.server.core.world import World

log = logging.getLogger("chatroom.limits")

FULL = "Server is full"
TOO_MANY = "Too many connections from your address"


@dataclass(slots=True)
class Occupancy:
    """Sockets counted besides sessions, and the ceiling the open-file limit allows."""

    held: int = 0  # accepted HTTP connections that are not (yet) sessions
    fd_capacity: int | None = None  # most connections at once; None: no file limit known
    reserve_refusals: int = 0  # refused at fd_capacity since the last log line
    reserve_logged_at: float = float("-inf")


def _over_limits(world: World, ip: str | None, now: float) -> str | None:
    """The limit a just-counted connection exceeds, if any (``ip`` None: not per address)."""
    limits = world.settings.limits
    occupancy = world.occupancy
    total = len(world.sessions) + occupancy.held
    if occupancy.fd_capacity is not None and total > occupancy.fd_capacity:
        _reserve_reached(occupancy, total, now)
        return FULL
    if total > limits.connections_total:
        return FULL
    if ip is not None and world.per_address.get(ip, 0) > limits.connections_per_address:
        return TOO_MANY
    return None


def _reserve_reached(occupancy: Occupancy, total: int, now: float) -> None:
    """Log (at most once a minute) that connections are refused to keep descriptors free."""
    occupancy.reserve_refusals += 1
    if now - occupancy.reserve_logged_at >= 60.0:
        log.warning(
            "file descriptor reserve reached; refusing connections",
            extra={
                "connections": total - 1,
                "capacity": occupancy.fd_capacity,
                "refused": occupancy.reserve_refusals,
            },
        )
        occupancy.reserve_logged_at = now
        occupancy.reserve_refusals = 0


def hold(world: World, ip: str | None, now: float) -> str | None:
    """Count an accepted HTTP connection from ``ip``; the reason if it must be refused.

    ``ip`` is None for a trusted reverse proxy, whose connections carry many people and
    count only in the total. Until ``release``, the connection uses a place like a session.
    """
    world.occupancy.held += 1
    if ip is not None:
        world.per_address[ip] = world.per_address.get(ip, 0) + 1
    refusal = _over_limits(world, ip, now)
    if refusal is not None:
        release(world, ip)
    return refusal


def release(world: World, ip: str | None) -> None:
    """A held HTTP connection closed, or became a session (which counts itself)."""
    world.occupancy.held -= 1
    if ip is not None:
        left = world.per_address.get(ip, 1) - 1
        if left > 0:
            world.per_address[ip] = left
        else:
            world.per_address.pop(ip, None)


def connection_refusal(world: World, ip: str, now: float) -> str | None:
    """Why a new connection from ``ip`` is refused, if it is: totals, per address, rate."""
    refusal = _over_limits(world, ip, now)
    if refusal is not None:
        return refusal
    limits = world.settings.limits
    recent = world.recent_connects.get(ip)
    if recent is None:
        if len(world.recent_connects) >= 4 * limits.connections_total:
            _forget_old_connects(world, now)
        recent = world.recent_connects[ip] = deque(
            maxlen=limits.connects_per_address_per_minute + 1
        )
    while recent and now - recent[0] >= 60.0:
        recent.popleft()
    recent.append(now)
    if len(recent) > limits.connects_per_address_per_minute:
        return "Connecting too fast; wait a minute"
    return None


def _forget_old_connects(world: World, now: float) -> None:
    """Keep the rate table bounded: drop addresses with no connect in the last minute."""
    for ip in [ip for ip, q in world.recent_connects.items() if not q or now - q[-1] >= 60]:
        del world.recent_connects[ip]


def flood_wait(world: World, session: Session) -> float:
    """Token bucket: 0.0 and one token spent if a command may run now, else seconds to wait.

    The shell asks before each line and holds the rest (reading paused) while this is
    positive; a backlog past ``flood_backlog`` lines ends in "Excess Flood".
    """
    limits = world.settings.limits
    if limits.flood_per_second <= 0 or "o" in session.modes:
        return 0.0
    now = world.clock()
    tokens = session.flood_tokens + (now - session.flood_checked_at) * limits.flood_per_second
    tokens = min(float(limits.flood_burst), tokens)
    session.flood_checked_at = now
    if tokens >= 1.0:
        session.flood_tokens = tokens - 1.0
        return 0.0
    session.flood_tokens = tokens
    return (1.0 - tokens) / limits.flood_per_second
