"""Admission control: which connections may open and how fast a client may talk.

Connection limits (in all, per address, new connections per address per minute) are
checked when a connection opens; flood control is a token bucket per session that the
shell asks before handing over each line. Both are pure functions of the world and clock.

"Per address" means per address *group*: an IPv4 address, or the IPv6 network of
``limits.ipv6_prefix`` bits around an IPv6 address (a /64 by default), because one IPv6
host usually holds a whole /64 and could otherwise step past every limit at will. The
login throttle uses the same groups (``address_group``).

The limits count every socket, not only sessions: an HTTP connection is *held* (``hold``)
from the moment it is accepted until it closes or its WebSocket becomes a session, so
silent or half-sent requests on the web port fill the same per-address and total quotas
as IRC connections do. ``Occupancy.fd_capacity``, set by the shell from the process's
open-file limit, keeps the total below what the kernel allows, so that the server, not
``accept()``, refuses the excess.

The tables counted here are the world's own (handlers never see them), so these functions
take the ``World``; only ``address_group``, which the login throttle needs too, takes a
``Context``.
"""

from __future__ import annotations

import ipaddress
import logging
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from chatroom.server.core.multiline import flood_cost

if TYPE_CHECKING:
    from chatroom.server.core.context import Context
    from chatroom.server.core.session import Session
    from chatroom.server.core.world import World

log = logging.getLogger("chatroom.limits")

FULL = "Server is full"
TOO_MANY = "Too many connections from your address"


@dataclass(slots=True)
class Occupancy:
    """Sockets counted besides sessions, and the ceiling the open-file limit allows."""

    held: int = 0  # accepted HTTP connections that are not (yet) sessions
    # The same, per address group. Kept apart from ``World.per_address`` (sessions only):
    # held sockets belong to this process, sessions to the whole network on a cluster.
    held_per_address: dict[str, int] = field(default_factory=dict)
    fd_capacity: int | None = None  # most connections at once; None: no file limit known
    reserve_refusals: int = 0  # refused at fd_capacity since the last log line
    reserve_logged_at: float = float("-inf")


# What a cluster node passes for its own sockets when it applies another node's connect:
# the network's decision counts only what every node knows alike (server/cluster).
NOBODY_HELD = Occupancy()


def _over_limits(
    world: World, group: str | None, now: float, occupancy: Occupancy | None = None
) -> str | None:
    """The limit a just-counted connection exceeds, if any (``group``: its address group;
    None: not counted per address). ``occupancy``: this process's sockets (the world's
    unless told otherwise)."""
    limits = world.settings.limits
    if occupancy is None:
        occupancy = world.occupancy
    total = len(world.sessions) + occupancy.held
    if occupancy.fd_capacity is not None and total > occupancy.fd_capacity:
        _reserve_reached(occupancy, total, now)
        return FULL
    if total > limits.connections_total:
        return FULL
    if group is not None:
        count = world.per_address.get(group, 0) + occupancy.held_per_address.get(group, 0)
        if count > limits.connections_per_address:
            return TOO_MANY
    return None


def local_refusal(world: World, ip: str, sockets: int) -> str | None:
    """A cluster node's own check before it tells the network of a new connection: the
    limits that depend on this process (its file descriptors, its held HTTP sockets).

    The network then checks the rest with what every node knows alike (sessions per
    address, in all, new ones per minute), with no node's occupancy in it, so that every
    node takes the same decision (server/cluster/replica.py)."""
    occupancy = world.occupancy
    total = sockets + occupancy.held + 1
    if occupancy.fd_capacity is not None and total > occupancy.fd_capacity:
        _reserve_reached(occupancy, total, world.clock())
        return FULL
    group = address_group(world, ip)
    held = occupancy.held_per_address.get(group, 0)
    if (
        held
        and world.per_address.get(group, 0) + held + 1
        > world.settings.limits.connections_per_address
    ):
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


def group_address(ip: str, ipv6_prefix: int) -> str:
    """The key an address is limited under: IPv4 as is, IPv6 as its ``/ipv6_prefix`` network.

    An IPv4-mapped IPv6 address (``::ffff:192.0.2.1``) counts as the IPv4 address; a string
    that is no IP address at all (a Unix socket peer) is its own group.
    """
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ip
    if isinstance(address, ipaddress.IPv4Address):
        return str(address)
    if address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    try:
        return str(ipaddress.IPv6Network((address, ipv6_prefix), strict=False))
    except ValueError:  # a scoped address (fe80::1%eth0) has no network form
        return str(address)


def address_group(ctx: Context, ip: str) -> str:
    return group_address(ip, ctx.settings.limits.ipv6_prefix)


def _count(world: World, group: str) -> None:
    world.per_address[group] = world.per_address.get(group, 0) + 1


def _uncount(world: World, group: str) -> None:
    left = world.per_address.get(group, 1) - 1
    if left > 0:
        world.per_address[group] = left
    else:
        world.per_address.pop(group, None)


def hold(world: World, ip: str | None, now: float) -> str | None:
    """Count an accepted HTTP connection from ``ip``; the reason if it must be refused.

    ``ip`` is None for a trusted reverse proxy, whose connections carry many people and
    count only in the total. Until ``release``, the connection uses a place like a session.
    """
    occupancy = world.occupancy
    occupancy.held += 1
    group = None if ip is None else address_group(world, ip)
    if group is not None:
        occupancy.held_per_address[group] = occupancy.held_per_address.get(group, 0) + 1
    refusal = _over_limits(world, group, now)
    if refusal is not None:
        release(world, ip)
    return refusal


def release(world: World, ip: str | None) -> None:
    """A held HTTP connection closed, or became a session (which counts itself)."""
    occupancy = world.occupancy
    occupancy.held -= 1
    if ip is not None:
        group = address_group(world, ip)
        left = occupancy.held_per_address.get(group, 1) - 1
        if left > 0:
            occupancy.held_per_address[group] = left
        else:
            occupancy.held_per_address.pop(group, None)


def connection_opened(
    world: World, ip: str, now: float, occupancy: Occupancy | None = None
) -> str | None:
    """Count a new session's connection; why it is refused, if it is: totals, per address
    group, rate. ``occupancy`` as in ``_over_limits``."""
    group = address_group(world, ip)
    _count(world, group)
    refusal = _over_limits(world, group, now, occupancy)
    if refusal is not None:
        return refusal
    limits = world.settings.limits
    recent = world.recent_connects.get(group)
    if recent is None:
        if len(world.recent_connects) >= 4 * limits.connections_total:
            _forget_old_connects(world, now)
        recent = world.recent_connects[group] = deque(
            maxlen=limits.connects_per_address_per_minute + 1
        )
    while recent and now - recent[0] >= 60.0:
        recent.popleft()
    recent.append(now)
    if len(recent) > limits.connects_per_address_per_minute:
        return "Connecting too fast; wait a minute"
    return None


def connection_closed(world: World, ip: str) -> None:
    """Free the connection's slot in its address group."""
    _uncount(world, address_group(world, ip))


def _forget_old_connects(world: World, now: float) -> None:
    """Keep the rate table bounded: drop addresses with no connect in the last minute."""
    for group in [g for g, q in world.recent_connects.items() if not q or now - q[-1] >= 60]:
        del world.recent_connects[group]


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
