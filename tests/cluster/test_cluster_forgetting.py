"""How long the network remembers an incarnation it declared lost, on one replica and
without Redis (fast): its late entries stay void while remembered; every tick forgets
the ones lost ``FORGET_SECONDS`` of log time ago, so a thousand restarts leave nothing.
(The network-wide version with real restarts: test_cluster_node_restarts.py.)"""

from __future__ import annotations

from chatroom.server.cluster.codec import encode, mac_key
from chatroom.server.cluster.replica import FORGET_SECONDS, NetworkClock, Replica
from chatroom.server.core.settings import CoreSettings
from chatroom.server.core.world import World
from chatroom.server.store.base import Snapshot

KEY = mac_key("k" * 32)


class _Log:
    """Entries applied to one replica, ``ms`` apart on the log's clock."""

    def __init__(self) -> None:
        self.clock = NetworkClock()
        self.world = World(CoreSettings(), self.clock)
        self.replica = Replica(self.world, self.clock, "here", KEY)
        self.ms = 1_800_000_000_000
        self.seq: dict[str, int] = {}
        genesis = {"snapshot": Snapshot(), "recent": [], "scram_secret": b"s" * 32}
        self.add("here", "genesis", 1_800_000_000.0, genesis)

    def add(self, origin: str, kind: str, *args: object, after_ms: int = 5) -> None:
        self.ms += after_ms
        self.seq[origin] = self.seq.get(origin, 0) + 1
        data = encode([(kind, origin, self.seq[origin], *args)], KEY)
        self.replica.apply(f"{self.ms}-0".encode(), data)


def test_a_lost_incarnation_s_late_entries_stay_void_until_it_is_forgotten() -> None:
    log = _Log()
    log.add("gone~1", "connect", 1, "127.0.0.1", False, None)
    log.add("here", "lost", "gone~1", "node lost")
    log.add("here", "tick", after_ms=int(FORGET_SECONDS * 1000) - 1000)
    log.add("gone~1", "connect", 2, "127.0.0.1", False, None)  # late: void
    assert log.world.sessions == {}
    assert "gone~1" in log.replica.dead
    log.add("here", "tick", after_ms=2000)
    assert log.replica.dead == {}


def test_a_thousand_restarts_leave_no_lost_incarnation_remembered() -> None:
    log = _Log()
    for i in range(1000):
        log.add(f"b~{i}", "connect", i, "127.0.0.1", False, None)
        log.add("here", "lost", f"b~{i}", "Server shutting down")
        log.add("here", "tick", after_ms=1000)
    assert len(log.replica.dead) <= FORGET_SECONDS + 1  # the last half minute's only
    log.add("here", "tick", after_ms=int(FORGET_SECONDS * 1000))
    assert log.replica.dead == {}
    assert log.replica.owners == {}
