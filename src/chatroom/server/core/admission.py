"""Admission control: which connections may open and how fast a client may talk.

Connection limits (in all, per address, new connections per address per minute) are
checked when a connection opens; flood control is a token bucket per session that the
shell asks before handing over each line. Both are pure functions of the world and clock.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

from chatroom.server.core.multiline import flood_cost

if TYPE_CHECKING:
    from chatroom.server.core.session import Session
    from chatroom.server.core.world import World


def connection_refusal(world: World, ip: str, now: float) -> str | None:
    """Why a new connection from ``ip`` is refused, if it is: totals, per address, rate."""
    limits = world.settings.limits
    if len(world.sessions) > limits.connections_total:
        return "Server is full"
    if world.per_address[ip] > limits.connections_per_address:
        return "Too many connections from your address"
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
    # The lines of an open draft/multiline batch are one message: they cost a fraction.
    cost = 1.0 if session.multiline is None else flood_cost(session)
    if tokens >= cost:
        session.flood_tokens = tokens - cost
        return 0.0
    session.flood_tokens = tokens
    return (cost - tokens) / limits.flood_per_second
