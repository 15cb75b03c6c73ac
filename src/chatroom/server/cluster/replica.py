"""One node's copy of the network: the network's log applied to a ``World``, in log order.

Every node holds the whole network's state (every user, room, account) in its own
``World`` and changes it only by applying the log, the same entries in the same order on
every node. The core is deterministic given its inputs, so every node computes the same
state and the same replies; what differs is what each node does with them:

- lines for a connection are written only by the node that holds its socket (the shell
  drops the output of sessions it has no connection for), and a room's fan-out walks
  only the members' connections held here (``Channel.sessions``): each node formats and
  queues a message for its own share of the room, not for the whole room;
- effects (store writes, password checks, history queries) are carried out only by the
  node whose entry caused them ("the origin"), so every change is written once and every
  answer is computed once; the answer then goes through the log like any input;
- ``Close`` is the exception: it is harmless everywhere (a node closes only its own
  sockets), and a "node lost" entry applied by another node must still close ours.

What must be the same on every node comes from the entry, never from the node: the time
(the entry id's milliseconds, which Redis keeps increasing), SCRAM nonces (a seed the
origin puts in the entry), session ids, answer tokens and msgids (counters advanced by
the same entries in the same order, msgids prefixed with the network's start). The
msgids that a fan-out draws only when someone here needs one (lines no handler numbered)
come from a counter of their own, tagged with this incarnation.

No I/O here: ``server/cluster/relay.py`` reads the log from Redis and calls ``apply``.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import itertools
import logging
import pickle
import time
from collections.abc import Callable
from typing import Any

from chatroom.server.auth.scram import default_nonce
from chatroom.server.cluster.codec import decode, dump_state, load_state
from chatroom.server.core.admission import NOBODY_HELD
from chatroom.server.core.effects import Close, Effect
from chatroom.server.core.session import ELSEWHERE, Session
from chatroom.server.core.settings import CoreSettings
from chatroom.server.core.world import World

__all__ = ["ANSWERS", "NetworkClock", "Replica", "seeded_nonces", "settings_digest"]

log = logging.getLogger("chatroom.cluster")

# How long the network remembers an incarnation it declared lost (seconds of log time).
# Such an incarnation publishes nothing once its heartbeat's life is over (its publisher
# waits until it has read the log, and so its own "lost", to the end); this is the margin
# for what was already on its way to Redis then.
FORGET_SECONDS = 30.0

# The World inputs an "answer" entry may call: the answers to effects, and store news.
ANSWERS = frozenset(
    {
        "password_checked",
        "password_hashed",
        "persisted",
        "history_loaded",
        "history_redacted",
        "config_reloaded",
        "load_changes",
        "load_snapshot",
        "load_history",
    }
)


# World attributes that belong to this process, never taken from a snapshot: the clock the
# replica drives, the node's own settings (checked equal to the network's), its sockets'
# occupancy and TLS policy, its dummy hash, and what it has not handed out yet.
LOCAL_ATTRIBUTES = frozenset(
    {
        "clock",
        "settings",
        "occupancy",
        "sts_policy",
        "dummy_password_hash",
        "effects",
        "reply_cache",
        "nonce_factory",
        "local_msgid_tag",
        "_local_msgids",
    }
)


class NetworkClock:
    """The core's clock on a cluster node: the entry's time while an entry is applied
    (the same on every node), the wall clock otherwise (flood control, which only the
    origin runs, and the web gate)."""

    __slots__ = ("now",)

    def __init__(self) -> None:
        self.now: float | None = None

    def __call__(self) -> float:
        now = self.now
        return time.time() if now is None else now


def entry_time(entry_id: bytes) -> float:
    """Seconds from a stream id ``<ms>-<n>``: the same number on every node; ``n``
    orders entries within one millisecond by microseconds (at most 999 of them)."""
    ms, _, n = entry_id.partition(b"-")
    return int(ms) / 1000 + min(int(n or 0), 999) / 1_000_000


def _canonical(value: object) -> str:
    """A text for ``value`` that is the same in every process (sets sorted: their order
    follows string hashing, which differs per process)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = dataclasses.fields(value)
        return (
            "(" + ",".join(f"{f.name}={_canonical(getattr(value, f.name))}" for f in fields) + ")"
        )
    if isinstance(value, (set, frozenset)):
        return "{" + ",".join(sorted(_canonical(item) for item in value)) + "}"
    if isinstance(value, (tuple, list)):
        return "[" + ",".join(_canonical(item) for item in value) + "]"
    return repr(value)


def settings_digest(settings: CoreSettings) -> dict[str, str]:
    """Per core setting group, a digest every node of one network must share: the nodes
    take the same decisions only if they run on the same settings."""
    return {
        field.name: hashlib.sha256(_canonical(getattr(settings, field.name)).encode()).hexdigest()
        for field in dataclasses.fields(settings)
    }


def seeded_nonces(seed: bytes) -> Callable[[], str]:
    """SCRAM nonces every node derives alike from the origin's random ``seed``."""
    counter = itertools.count()

    def nonce() -> str:
        digest = hashlib.sha256(seed + next(counter).to_bytes(4, "big")).digest()
        return base64.b64encode(digest[:24]).decode("ascii")

    return nonce


class Replica:
    """Applies log entries to ``world``; ``me`` is this process's incarnation id."""

    def __init__(self, world: World, clock: NetworkClock, me: str, key: bytes) -> None:
        self.world = world
        self.clock = clock
        self.me = me
        # This incarnation's msgids for lines only it numbers (World.fanout): never the
        # same as another node's, nor as the ones the log numbers alike everywhere.
        world.local_msgid_tag = "l" + hashlib.blake2b(me.encode(), digest_size=5).hexdigest()
        self.key = key  # signs and checks entries and snapshots (codec.mac_key)
        self.founded = False  # the genesis entry was applied
        self.network_settings: dict[str, str] = {}  # settings_digest of the founder
        self.owners: dict[int, str] = {}  # session id -> incarnation holding its socket
        self.last_seq: dict[str, int] = {}  # per incarnation: entries applied (retries skip)
        # Incarnations declared lost, with when: their late entries are void. Forgotten
        # FORGET_SECONDS later (every node at the same tick), so that restarts do not
        # make it grow for as long as the network lives: by then such an incarnation
        # holds no session and publishes nothing more (``NodeState.link_lost``).
        self.dead: dict[str, float] = {}
        self.lost_me = False  # the log declared this incarnation lost (it must stop)
        self.bound: list[tuple[int, Session]] = []  # our connects, applied: (token, session)
        self.last_id = b"0-0"
        self.applied = 0
        self.refused = 0  # entries that were not this network's (a forgery, a wrong secret)
        self._handlers: dict[str, Callable[..., None]] = {
            "genesis": self._genesis,
            "connect": self._connect,
            "line": self._line,
            "long": self._long,
            "close": self._close,
            "gone": self._gone,
            "tick": self._tick,
            "answer": self._answer,
            "lost": self._lost,
        }

    def settings_differ(self) -> list[str]:
        """The setting groups where this node differs from the network's founder."""
        ours = settings_digest(self.world.settings)
        theirs = self.network_settings
        return [name for name, digest in ours.items() if theirs.get(name, digest) != digest]

    def incarnations(self) -> set[str]:
        """Incarnations that hold at least one session (the lease holder checks they live)."""
        return set(self.owners.values())

    def apply(self, entry_id: bytes, data: bytes) -> list[Effect]:
        """Apply one entry (the inputs one node published together, in order); returns
        the effects this node must carry out."""
        self.last_id = entry_id
        try:
            inputs = decode(data, self.key)
        except (pickle.UnpicklingError, ValueError, EOFError) as err:
            self.refused += 1
            if self.refused == 1 or self.refused % 1000 == 0:  # a wrong secret refuses all
                log.error(
                    "unreadable log entry skipped",
                    extra={"id": entry_id, "error": repr(err), "refused": self.refused},
                )
            return []
        now = entry_time(entry_id)
        effects: list[Effect] = []
        for one in inputs:
            effects += self._apply_input(now, entry_id, one)
        return effects

    def _apply_input(self, now: float, entry_id: bytes, one: tuple[Any, ...]) -> list[Effect]:
        kind, origin, seq = one[0], one[1], one[2]
        handler = self._handlers.get(kind)
        if handler is None:
            log.error("unknown log input skipped", extra={"id": entry_id, "kind": kind})
            return []
        if not self.founded and kind != "genesis":
            return []  # nothing counts before the network's start
        if origin in self.dead or seq <= self.last_seq.get(origin, 0):
            return []  # a node declared lost, or a publish that was retried
        self.last_seq[origin] = seq
        self.applied += 1
        world = self.world
        self.clock.now = now
        try:
            handler(origin, *one[3:])
        except Exception:
            # The core never raises on input; if it did, every node raised alike.
            log.exception("log input failed", extra={"id": entry_id, "kind": kind})
        finally:
            self.clock.now = None
            world.nonce_factory = default_nonce
        effects = world.take_effects()
        if origin == self.me:
            return effects
        return [effect for effect in effects if isinstance(effect, Close)]

    # ------------------------------------------------------------------ snapshots

    def snapshot(self) -> bytes | None:
        """The whole state at ``last_id``, signed; None while an answer is pending (its
        callback is code, which a snapshot does not carry): the next try comes soon."""
        world = self.world
        if len(world.answers) or world.effects:
            return None
        state = {
            "world": {k: v for k, v in vars(world).items() if k not in LOCAL_ATTRIBUTES},
            "replica": {
                "owners": self.owners,
                "last_seq": self.last_seq,
                "dead": self.dead,
                "settings": self.network_settings,
                "last_id": self.last_id,
                "applied": self.applied,
            },
        }
        try:
            return dump_state(state, {"world": world, "clock": self.clock}, self.key)
        except (pickle.PicklingError, TypeError, AttributeError) as err:
            log.info("no snapshot this time", extra={"error": repr(err)})
            return None

    def restore(self, data: bytes) -> None:
        """Start from a snapshot instead of the log's beginning (``last_id`` is where to
        read on). Raises ``pickle.UnpicklingError`` if it is not this network's."""
        state = load_state(data, {"world": self.world, "clock": self.clock}, self.key)
        vars(self.world).update(state["world"])
        replica = state["replica"]
        self.owners = replica["owners"]
        self.last_seq = replica["last_seq"]
        dead = replica["dead"]
        if not isinstance(dead, dict):  # a snapshot of a version that kept them all
            dead = dict.fromkeys(dead, entry_time(replica["last_id"]))
        self.dead = dead
        self.network_settings = replica["settings"]
        self.last_id = replica["last_id"]
        self.applied = replica["applied"]
        self.founded = True
        for session in self.world.sessions.values():
            session.out = ELSEWHERE  # none of them is ours: this node holds no socket yet
        for channel in self.world.rooms:
            channel.sessions.clear()  # the snapshot's node's audience; ours is nobody yet
            channel.by_profile = None

    # ------------------------------------------------------------------ entry kinds

    def _genesis(self, origin: str, started_at: float, state: dict[str, Any]) -> None:
        if self.founded:
            return
        self.founded = True
        world = self.world
        self.network_settings = state.get("settings", {})
        world.adopt_network_start(started_at)
        world.scram_secret = state["scram_secret"]
        world.load_snapshot(state["snapshot"])
        world.load_history(state["recent"])

    def _connect(self, origin: str, token: int, ip: str, secure: bool, certfp: str | None) -> None:
        # Admission with what every node knows alike: no node's own sockets in it (the
        # origin checked those before publishing: admission.local_refusal).
        world = self.world
        session = world.connect(ip, secure=secure, certfp=certfp, occupancy=NOBODY_HELD)
        self.owners[session.id] = origin
        if origin == self.me:
            self.bound.append((token, session))
        elif not session.out:
            session.out = ELSEWHERE  # another node writes its lines: make none here

    def _session(self, origin: str, session_id: int) -> Session | None:
        """The session, if ``origin`` holds it (a node speaks only for its own sockets)."""
        if self.owners.get(session_id) != origin:
            return None
        return self.world.sessions.get(session_id)

    def _line(self, origin: str, session_id: int, line: bytes, seed: bytes | None) -> None:
        session = self._session(origin, session_id)
        if session is not None:
            if seed is not None:
                self.world.nonce_factory = seeded_nonces(seed)
            self.world.receive(session, line)

    def _long(self, origin: str, session_id: int) -> None:
        session = self._session(origin, session_id)
        if session is not None:
            self.world.receive_too_long(session)

    def _close(self, origin: str, session_id: int, reason: str) -> None:
        session = self._session(origin, session_id)
        if session is not None:
            self.world.close(session, reason)

    def _gone(self, origin: str, session_id: int, reason: str) -> None:
        session = self._session(origin, session_id)
        if session is not None:
            self.world.disconnect(session, reason)
            del self.owners[session_id]

    def _tick(self, origin: str) -> None:
        if self.dead:
            now = self.clock()
            for incarnation, lost_at in list(self.dead.items()):
                if now - lost_at >= FORGET_SECONDS:
                    del self.dead[incarnation]
        self.world.tick()

    def _answer(self, origin: str, method: str, args: tuple[Any, ...]) -> None:
        if method in ANSWERS:
            settings = self.world.settings
            getattr(self.world, method)(*args)
            if self.world.settings is not settings:
                # An operator's REHASH adopted new settings: the network's from now on,
                # for the nodes that join later too (``settings_differ``).
                self.network_settings = settings_digest(self.world.settings)

    def _lost(self, origin: str, incarnation: str, reason: str) -> None:
        """A node died (or left): its users quit for everyone, as if each had."""
        self.dead[incarnation] = self.clock()
        if incarnation == self.me:
            self.lost_me = True
        self.last_seq.pop(incarnation, None)
        world = self.world
        for session_id, owner in list(self.owners.items()):
            if owner != incarnation:
                continue
            del self.owners[session_id]
            session = world.sessions.get(session_id)
            if session is not None:
                world.close(session, reason)
                world.disconnect(session, reason)
