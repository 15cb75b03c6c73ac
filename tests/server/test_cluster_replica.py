"""The network's log applied on several nodes: the same state everywhere, effects once.

Fast core tests with no Redis: a list stands in for the stream, ids are made the way
Redis makes them (``<ms>-<n>``). The real thing, three ``chatroom serve`` nodes on a real
Redis and PostgreSQL, is tested in tests/cluster/.
"""

from __future__ import annotations

import pickle

import pytest

from chatroom.irc.message import parse
from chatroom.server.cluster.codec import (
    BadSignatureError,
    ForbiddenClassError,
    decode,
    encode,
    mac_key,
)
from chatroom.server.cluster.replica import NetworkClock, Replica, seeded_nonces, settings_digest
from chatroom.server.core.effects import Close, Effect, StoreMessages
from chatroom.server.core.settings import CoreSettings
from chatroom.server.core.world import World
from chatroom.server.store.base import Snapshot

KEY = mac_key("x" * 32)


class Node:
    def __init__(self, me: str) -> None:
        self.clock = NetworkClock()
        self.world = World(CoreSettings(), self.clock)
        self.replica = Replica(self.world, self.clock, me, KEY)
        self.effects: list[Effect] = []
        self.sessions: dict[int, int] = {}  # connect token -> session id (ours only)

    def apply(self, entry_id: bytes, data: bytes) -> None:
        self.effects.extend(self.replica.apply(entry_id, data))
        for token, session in self.replica.bound:
            self.sessions[token] = session.id
        self.replica.bound.clear()

    def lines(self, token: int) -> list[str]:
        """What this node would write to its connection ``token`` (and forget it)."""
        session = self.world.sessions.get(self.sessions[token])
        if session is None:
            return []
        return [line.decode().rstrip("\r\n") for line in session.take_output()]


class Network:
    """A log and the nodes that follow it; ``publish`` appends and every node applies."""

    def __init__(self, *names: str) -> None:
        self.log: list[tuple[bytes, bytes]] = []
        self.nodes = {name: Node(name) for name in names}
        self.seqs = dict.fromkeys(names, 1)
        self.tokens = 0
        self.ms = 1_800_000_000_000
        self._append(
            encode([("genesis", names[0], 1, 1_800_000_000.0, _state())], KEY), *self.nodes.values()
        )

    def _append(self, data: bytes, *nodes: Node) -> None:
        self.ms += 5
        entry_id = f"{self.ms}-0".encode()
        self.log.append((entry_id, data))
        for node in nodes:
            node.apply(entry_id, data)

    def publish(self, origin: str, kind: str, *args: object, seq: int | None = None) -> None:
        if seq is None:
            self.seqs[origin] += 1
            seq = self.seqs[origin]
        self._append(encode([(kind, origin, seq, *args)], KEY), *self.nodes.values())

    def connect(self, origin: str, nick: str | None = None) -> int:
        self.tokens += 1
        self.publish(origin, "connect", self.tokens, "127.0.0.1", False, None)
        if nick is not None:
            self.say(origin, self.tokens, f"NICK {nick}", f"USER {nick} 0 * :{nick}")
        return self.tokens

    def say(self, origin: str, token: int, *lines: str) -> None:
        session_id = self.nodes[origin].sessions[token]
        for line in lines:
            self.publish(origin, "line", session_id, line.encode(), None)

    def join_late(self, name: str) -> Node:
        node = self.nodes[name] = Node(name)
        self.seqs[name] = 1
        for entry_id, data in self.log:
            node.apply(entry_id, data)
        return node


def _state() -> dict[str, object]:
    return {"snapshot": Snapshot(), "recent": [], "scram_secret": b"s" * 32}


def _commands(lines: list[str]) -> list[str]:
    return [parse(line.encode()).command for line in lines]


def _shape(world: World) -> tuple[object, ...]:
    """What every node must agree on: users, rooms with members and modes, sessions."""
    rooms = {
        key: (channel.name, sorted((u.nick, p) for u, p in channel.members.items()))
        for key, channel in world.rooms.items()
    }
    return (
        sorted(key for key, _ in world.nicks.items()),
        rooms,
        sorted(world.sessions),
        world.new_msgid(),
    )


def test_users_on_two_nodes_share_a_room_and_see_the_same_lines() -> None:
    net = Network("a", "b")
    alice = net.connect("a", "alice")
    bob = net.connect("b", "bob")
    net.say("a", alice, "JOIN #x")
    net.say("b", bob, "JOIN #x")
    net.say("b", bob, "@label=1 PRIVMSG #x :hello")
    net.nodes["a"].lines(alice)
    net.nodes["b"].lines(bob)
    net.say("b", bob, "PRIVMSG #x :again")
    seen_by_alice = net.nodes["a"].lines(alice)
    assert seen_by_alice == [":bob!~bob@127.0.0.1 PRIVMSG #x again"]
    # Node b holds no socket for her: it keeps none of her lines, nor marks her ready.
    elsewhere = net.nodes["b"].world.sessions[net.nodes["a"].sessions[alice]]
    assert list(elsewhere.out) == []
    assert elsewhere not in net.nodes["b"].world.ready
    assert _shape(net.nodes["a"].world) == _shape(net.nodes["b"].world)


def test_a_nick_race_across_nodes_has_exactly_one_winner_on_every_node() -> None:
    net = Network("a", "b")
    first = net.connect("a")
    second = net.connect("b")
    net.say("b", second, "NICK prize", "USER x 0 * :x")
    net.say("a", first, "NICK prize", "USER y 0 * :y")
    assert "001" in _commands(net.nodes["b"].lines(second))
    assert _commands(net.nodes["a"].lines(first)) == ["433"]
    for node in net.nodes.values():
        assert [u.nick for u in node.world.nicks] == ["prize"]


def test_only_the_node_whose_entry_it_was_stores_the_message() -> None:
    net = Network("a", "b")
    alice = net.connect("a", "alice")
    net.connect("b", "bob")
    net.say("a", alice, "JOIN #x")
    for node in net.nodes.values():
        node.effects.clear()
    net.say("a", alice, "PRIVMSG #x :kept once")
    assert any(isinstance(e, StoreMessages) for e in net.nodes["a"].effects)
    assert not any(isinstance(e, StoreMessages) for e in net.nodes["b"].effects)


def test_a_publish_retried_after_redis_stored_it_is_applied_once() -> None:
    net = Network("a", "b")
    alice = net.connect("a", "alice")
    net.say("a", alice, "JOIN #x")
    net.nodes["a"].lines(alice)
    session_id = net.nodes["a"].sessions[alice]
    seq = net.seqs["a"] + 1
    net.publish("a", "line", session_id, b"PRIVMSG #x :once", None, seq=seq)
    net.publish("a", "line", session_id, b"PRIVMSG #x :once", None, seq=seq)
    stored = [e for e in net.nodes["a"].effects if isinstance(e, StoreMessages)]
    assert [r.text for e in stored for r in e.records if r.text == "once"] == ["once"]


def test_a_lost_node_s_users_quit_for_everyone_and_its_late_entries_are_void() -> None:
    net = Network("a", "b", "c")
    alice = net.connect("a", "alice")
    bob = net.connect("b", "bob")
    net.say("a", alice, "JOIN #x")
    net.say("b", bob, "JOIN #x")
    net.nodes["a"].lines(alice)
    net.publish("c", "lost", "b", "node lost")
    assert net.nodes["a"].lines(alice) == [":bob!~bob@127.0.0.1 QUIT :node lost"]
    net.say("b", bob, "NICK zombie")  # the lost node did not know yet
    for node in net.nodes.values():
        assert sorted(key for key, _ in node.world.nicks.items()) == ["alice"]
    # The lost node itself closes the socket it still holds.
    assert any(isinstance(e, Close) for e in net.nodes["b"].effects)


def test_a_node_that_joins_later_replays_the_log_to_the_same_state() -> None:
    net = Network("a", "b")
    alice = net.connect("a", "alice")
    bob = net.connect("b", "bob")
    net.say("a", alice, "JOIN #x", "TOPIC #x :what we do", "MODE #x +m")
    net.say("b", bob, "JOIN #x", "NICK robert", "PART #x")
    late = net.join_late("c")
    assert _shape(late.world) == _shape(net.nodes["a"].world)
    room = late.world.rooms.get("#x")
    assert room is not None
    assert room.topic == "what we do"
    assert late.effects == []  # nothing of the past is done again


def test_entries_before_the_network_s_start_are_ignored() -> None:
    clock = NetworkClock()
    world = World(CoreSettings(), clock)
    replica = Replica(world, clock, "a", KEY)
    assert (
        replica.apply(b"1-0", encode([("connect", "x", 1, 1, "127.0.0.1", False, None)], KEY)) == []
    )
    assert world.sessions == {}


def test_an_entry_not_signed_with_the_network_s_secret_is_refused_and_skipped() -> None:
    net = Network("a")
    node = net.nodes["a"]
    alice = net.connect("a", "alice")
    session_id = node.sessions[alice]
    forged = encode([("line", "a", 99, session_id, b"NICK mallory", None)], mac_key("y" * 32))
    with pytest.raises(BadSignatureError):
        decode(forged, KEY)
    before = node.replica.applied
    node.apply(b"9999999999999-0", forged)
    node.apply(b"9999999999999-1", b"not even a signature")
    assert node.replica.applied == before
    assert sorted(key for key, _ in node.world.nicks.items()) == ["alice"]


def test_even_a_signed_entry_cannot_name_a_callable() -> None:
    class Evil:
        def __reduce__(self) -> tuple[object, ...]:
            return (print, ("ran",))

    signed = encode([("answer", "x", 1, "persisted", (Evil(),))], KEY)
    with pytest.raises(ForbiddenClassError):
        decode(signed, KEY)


def test_inputs_published_together_apply_in_order_in_one_entry() -> None:
    net = Network("a", "b")
    alice = net.connect("a", "alice")
    session_id = net.nodes["a"].sessions[alice]
    seq = net.seqs["a"]
    batch = [
        ("line", "a", seq + 1, session_id, b"JOIN #x", None),
        ("line", "a", seq + 2, session_id, b"TOPIC #x :one entry", None),
        ("line", "a", seq + 3, session_id, b"PART #x", None),
    ]
    net.seqs["a"] = seq + 3
    net._append(encode(batch, KEY), *net.nodes.values())
    for node in net.nodes.values():
        assert node.world.rooms.get("#x") is None  # joined, set, left: in that order
    said = _commands(net.nodes["a"].lines(alice))
    assert said[-5:] == ["JOIN", "353", "366", "TOPIC", "PART"]


def test_store_records_survive_the_codec() -> None:
    snapshot = Snapshot(options={"alice": {"multiclient": "on"}})
    entry = ("answer", "a", 2, "load_changes", (snapshot,))
    assert decode(encode([entry], KEY), KEY) == [entry]


def test_a_node_started_from_a_snapshot_continues_like_the_others() -> None:
    net = Network("a", "b")
    alice = net.connect("a", "alice")
    bob = net.connect("b", "bob")
    net.say("a", alice, "JOIN #x", "TOPIC #x :snapshotted")
    net.say("b", bob, "JOIN #x")
    data = net.nodes["a"].replica.snapshot()
    assert data is not None
    fresh = Node("c")
    fresh.replica.restore(data)
    net.nodes["c"] = fresh
    net.seqs["c"] = 1
    assert fresh.replica.last_id == net.log[-1][0]
    net.say("b", bob, "PRIVMSG #x :after", "NICK robert")
    carol = net.connect("c", "carol")
    net.say("c", carol, "JOIN #x")
    assert _shape(fresh.world) == _shape(net.nodes["a"].world)
    room = fresh.world.rooms.get("#x")
    assert room is not None
    assert room.topic == "snapshotted"
    # The restored world runs on this node's own clock, not a copy of the writer's.
    assert fresh.world.throttle._clock is fresh.clock


def test_a_snapshot_signed_with_another_secret_is_refused() -> None:
    net = Network("a")
    data = net.nodes["a"].replica.snapshot()
    assert data is not None
    stranger = Node("b")
    stranger.replica.key = mac_key("z" * 32)
    with pytest.raises(pickle.UnpicklingError):
        stranger.replica.restore(data)


def test_no_snapshot_while_an_answer_is_pending() -> None:
    net = Network("a")
    guest = net.connect("a")
    net.say("a", guest, "NICK vera", "USER v 0 * :v", "REGISTER * * :a-long-password-1")
    assert net.nodes["a"].replica.snapshot() is None


def test_scram_nonces_are_the_same_on_every_node_and_differ_per_seed() -> None:
    one, same, other = seeded_nonces(b"a" * 16), seeded_nonces(b"a" * 16), seeded_nonces(b"b" * 16)
    first = one()
    assert first == same()
    assert first != other()
    assert one() != first


def test_a_node_with_other_settings_than_the_network_s_founder_is_named() -> None:
    founder = Node("a")
    state = {**_state(), "settings": settings_digest(founder.world.settings)}
    genesis = encode([("genesis", "a", 1, 1_800_000_000.0, state)], KEY)
    same, other = Node("b"), Node("c")
    other.world.settings = CoreSettings(server_name="other.example")
    for node in (same, other):
        node.apply(b"1-0", genesis)
    assert same.replica.settings_differ() == []
    assert other.replica.settings_differ() == ["server_name"]


def test_one_node_s_own_sockets_never_sway_the_network_s_admission() -> None:
    net = Network("a", "b")
    crowded = net.nodes["a"].world.occupancy
    crowded.fd_capacity = 0  # node a could not take one more socket itself
    crowded.held_per_address["127.0.0.1"] = 50  # and holds web sockets from the address
    net.connect("b", "bob")
    for node in net.nodes.values():
        assert sorted(key for key, _ in node.world.nicks.items()) == ["bob"]


def test_history_rows_are_numbered_in_log_order_alike_on_every_node() -> None:
    net = Network("a", "b")
    for node in net.nodes.values():
        node.world.ordered_history = True
    alice = net.connect("a", "alice")
    bob = net.connect("b", "bob")
    net.say("a", alice, "JOIN #x")
    net.say("b", bob, "JOIN #x")
    for node in net.nodes.values():
        node.effects.clear()
    net.say("a", alice, "PRIVMSG #x :first")
    net.say("b", bob, "PRIVMSG #x :second")
    net.say("a", alice, "PRIVMSG #x :third")

    def stored(node: Node) -> list[tuple[str, int]]:
        return [
            (r.text, r.order)
            for e in node.effects
            if isinstance(e, StoreMessages)
            for r in e.records
        ]

    # Each node writes its own lines; together they are numbered in the log's order.
    written = sorted(stored(net.nodes["a"]) + stored(net.nodes["b"]), key=lambda row: row[1])
    assert [text for text, _ in written] == ["first", "second", "third"]
    assert all(order > 0 for _, order in written)


def test_each_node_walks_only_its_own_share_of_a_room() -> None:
    net = Network("a", "b")
    alice = net.connect("a", "alice")
    bob = net.connect("b", "bob")
    carol = net.connect("b", "carol")
    for origin, token in (("a", alice), ("b", bob), ("b", carol)):
        net.say(origin, token, "JOIN #x")
    a, b = net.nodes["a"], net.nodes["b"]
    room_a, room_b = a.world.rooms.get("#x"), b.world.rooms.get("#x")
    assert room_a is not None
    assert room_b is not None
    # Every node knows all three members; each delivers only to the sockets it holds.
    assert len(room_a.members) == len(room_b.members) == 3
    assert [s.id for s in room_a.sessions] == [a.sessions[alice]]
    assert sorted(s.id for s in room_b.sessions) == sorted([b.sessions[bob], b.sessions[carol]])
    a.lines(alice)
    b.lines(carol)
    net.say("b", bob, "PRIVMSG #x :to all three")
    assert a.lines(alice) == [":bob!~bob@127.0.0.1 PRIVMSG #x :to all three"]
    assert b.lines(carol) == [":bob!~bob@127.0.0.1 PRIVMSG #x :to all three"]


def test_a_node_restored_from_a_snapshot_delivers_only_to_its_own_connections() -> None:
    net = Network("a", "b")
    alice = net.connect("a", "alice")
    net.say("a", alice, "JOIN #x")
    data = net.nodes["a"].replica.snapshot()
    assert data is not None
    fresh = Node("c")
    fresh.replica.restore(data)
    net.nodes["c"], net.seqs["c"] = fresh, 1
    room = fresh.world.rooms.get("#x")
    assert room is not None
    assert not room.sessions
    carol = net.connect("c", "carol")
    net.say("c", carol, "JOIN #x")
    assert [s.id for s in room.sessions] == [fresh.sessions[carol]]
    fresh.lines(carol)
    net.say("a", alice, "PRIVMSG #x :hi carol")
    assert fresh.lines(carol) == [":alice!~alice@127.0.0.1 PRIVMSG #x :hi carol"]


def test_msgids_of_stored_lines_agree_although_only_one_node_tags_its_members() -> None:
    net = Network("a", "b")
    for node in net.nodes.values():
        node.world.ordered_history = True
    alice = net.connect("a")
    net.say(
        "a", alice, "CAP REQ :message-tags server-time away-notify", "NICK alice", "USER a 0 * :a"
    )
    net.say("a", alice, "CAP END")
    bob = net.connect("b", "bob")
    net.say("a", alice, "JOIN #x")
    net.say("b", bob, "JOIN #x")
    # An AWAY line is numbered by the fan-out only where a watcher needs a msgid: on
    # node a (alice asked for tags), not on node b (it holds no watcher).
    net.say("b", bob, "AWAY :lunch", "AWAY")
    for node in net.nodes.values():
        node.effects.clear()
    a, b = net.nodes["a"], net.nodes["b"]
    a.lines(alice)
    net.say("b", bob, "PRIVMSG #x :numbered alike")
    stored = [
        r.msgid for e in b.effects if isinstance(e, StoreMessages) for r in e.records
    ]  # written by node b, the origin
    (line,) = a.lines(alice)
    assert stored
    assert f"msgid={stored[0]}" in line
    assert a.world.new_msgid() == b.world.new_msgid()


def test_msgids_that_each_node_draws_for_its_own_listeners_differ_across_nodes() -> None:
    net = Network("a", "b")
    caps = "CAP REQ :message-tags away-notify"
    alice, carol = net.connect("a"), net.connect("b")
    net.say("a", alice, caps, "NICK alice", "USER a 0 * :a", "CAP END")
    net.say("b", carol, caps, "NICK carol", "USER c 0 * :c", "CAP END")
    bob = net.connect("b", "bob")
    for origin, token in (("a", alice), ("b", carol), ("b", bob)):
        net.say(origin, token, "JOIN #x")
    a, b = net.nodes["a"], net.nodes["b"]
    a.lines(alice)
    b.lines(carol)
    # Each node numbers the AWAY line for its own listener, from its own counter.
    net.say("b", bob, "AWAY :lunch")
    (to_alice,) = a.lines(alice)
    (to_carol,) = b.lines(carol)
    msgid_a, msgid_b = (line.split("msgid=")[1].split()[0] for line in (to_alice, to_carol))
    assert "AWAY" in to_alice
    assert "AWAY" in to_carol
    assert msgid_a != msgid_b
