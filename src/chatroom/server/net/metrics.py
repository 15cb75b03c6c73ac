"""Prometheus metrics, read from the world when scraped.

The hot path only bumps plain integers in ``World.stats``; nothing here runs per message.
A scrape walks the counters and counts the world's state (connections, users, rooms, ban
entries) once. Each server gets its own registry, so several servers in one process (the
tests) never collide.

Any integer that a later change adds to ``Stats`` is exported too, as
``chatroom_<name>_total``: a new counter needs no edit here to be visible.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sized
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

if TYPE_CHECKING:
    from chatroom.server.cluster.node import ClusterNode
    from chatroom.server.core.world import World

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

# Stats field -> (metric name without _total, help). Fields not listed keep their own name.
COUNTERS: dict[str, tuple[str, str]] = {
    "lines_in": ("chatroom_messages_received", "IRC lines received from clients."),
    "deliveries": ("chatroom_messages_delivered", "Messages fanned out to recipients."),
    "connections_opened": ("chatroom_connections_opened", "Connections accepted."),
    "connections_refused": ("chatroom_connections_refused", "Connections refused by limits."),
    "registrations": ("chatroom_registrations", "Clients that completed registration."),
    "failed_logins": ("chatroom_failed_logins", "Failed logins (wrong password, throttled)."),
    "sendq_drops": ("chatroom_sendq_drops", "Slow readers dropped: send queue exceeded."),
    "flood_drops": ("chatroom_flood_drops", "Clients dropped for flooding."),
}


class WorldCollector:
    """A custom collector: prometheus-client calls ``collect`` on every scrape."""

    def __init__(self, world: World) -> None:
        self.world = world

    def collect(self) -> Iterator[Metric]:
        world = self.world
        sessions = world.sessions.values()
        yield _gauge("chatroom_connections", "Open client connections.", len(sessions))
        users = sum(1 for s in sessions if s.registered)
        yield _gauge("chatroom_users", "Connected clients that completed registration.", users)
        identified = sum(1 for s in sessions if s.registered and s.account)
        yield _gauge("chatroom_users_logged_in", "Connected clients logged in.", identified)
        yield _gauge("chatroom_accounts", "Registered accounts.", len(world.accounts))
        yield _gauge("chatroom_channels", "Rooms that exist now.", len(world.rooms))
        bans = sum(len(c.lists.get("b", ())) for c in world.rooms)
        yield _gauge("chatroom_channel_bans", "Ban entries (+b) over all rooms.", bans)
        quiets = sum(len(c.lists.get("q", ())) for c in world.rooms)
        yield _gauge("chatroom_channel_mutes", "Mute entries (+q) over all rooms.", quiets)
        uptime = world.clock() - world.started_at
        yield _gauge("chatroom_uptime_seconds", "Seconds since the server started.", uptime)
        for field in dataclasses.fields(world.stats):
            value = getattr(world.stats, field.name)
            if not isinstance(value, int) or isinstance(value, bool):
                continue
            name, text = COUNTERS.get(
                field.name, (f"chatroom_{field.name}", field.name.replace("_", " ") + ".")
            )
            yield CounterMetricFamily(name, text, value=value)


def _gauge(name: str, text: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, text, value=value)


class NodeCollector:
    """On a cluster node the world's figures are the whole network's (every node applies
    every entry); these are this node's own share and its link to the network."""

    def __init__(self, node: ClusterNode, connections: Sized) -> None:
        self.node = node
        self.connections = connections

    def collect(self) -> Iterator[Metric]:
        node = self.node
        # Which node answered: the workers of ``--workers`` share one web port.
        info = GaugeMetricFamily(
            "chatroom_node_info",
            "This node's name and incarnation.",
            labels=["node", "incarnation"],
        )
        info.add_metric([node.name, node.me], 1)
        yield info
        yield _gauge(
            "chatroom_node_connections", "Client sockets this node holds.", len(self.connections)
        )
        yield _gauge(
            "chatroom_node_outbox", "Log entries waiting to reach Redis.", node.outbox_length
        )
        yield _gauge("chatroom_node_lease", "1 if this node holds the lease.", node.lease_held)
        yield _gauge(
            "chatroom_node_link_lost",
            "1 while this node is cut off from Redis (its clients were told to reconnect).",
            int(node.link_lost()),
        )
        yield CounterMetricFamily(
            "chatroom_node_log_entries_applied",
            "Entries of the network's log this node applied.",
            value=node.replica.applied,
        )


def registry_for(
    world: World, node: ClusterNode | None = None, connections: Sized = ()
) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(WorldCollector(world))
    if node is not None:
        registry.register(NodeCollector(node, connections))
    return registry


def render(registry: CollectorRegistry) -> bytes:
    """The text exposition format, as Prometheus scrapes it."""
    data: bytes = generate_latest(registry)
    return data
