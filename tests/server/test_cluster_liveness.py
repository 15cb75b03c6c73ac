"""The lease holder's rules for declaring a node lost (``server/cluster/liveness.py``),
without Redis: an old beat is a death, but not while this node has just got Redis back,
and a missing beat only once it has stayed missing for a node's time to live."""

from __future__ import annotations

from chatroom.server.cluster.liveness import NODE_TTL_MS, Liveness

TTL = NODE_TTL_MS / 1000
REDIS_NOW = 1_000_000  # Redis's clock, ms


def _in_touch_for(seconds: float) -> tuple[Liveness, float]:
    liveness = Liveness()
    liveness.redis_answered(100.0)
    return liveness, 100.0 + seconds


def test_a_node_whose_beat_expired_is_declared_lost_once() -> None:
    liveness, now = _in_touch_for(TTL + 1)
    beats = {"a~1": REDIS_NOW + 5000, "b~2": REDIS_NOW - 1}
    assert liveness.lost(beats, REDIS_NOW, {"a~1", "b~2"}, now) == ["b~2"]
    assert liveness.lost(beats, REDIS_NOW, {"a~1", "b~2"}, now + 1) == []  # announced


def test_nobody_is_declared_lost_until_redis_has_answered_for_a_node_s_time_to_live() -> None:
    beats = {"a~1": REDIS_NOW + 5000, "b~2": REDIS_NOW - 1}
    liveness, now = _in_touch_for(TTL - 1)
    assert liveness.lost(beats, REDIS_NOW, {"b~2"}, now) == []
    liveness.redis_failed()
    assert liveness.lost(beats, REDIS_NOW, {"b~2"}, now + 5) == []
    liveness.redis_answered(now + 5)
    assert liveness.lost(beats, REDIS_NOW, {"b~2"}, now + 5 + TTL) == ["b~2"]


def test_a_missing_beat_counts_only_once_it_stayed_missing_for_a_node_s_time_to_live() -> None:
    liveness, now = _in_touch_for(TTL + 1)
    assert liveness.lost({}, REDIS_NOW, {"b~2"}, now) == []  # keys lost: wait
    assert liveness.lost({}, REDIS_NOW, {"b~2"}, now + TTL - 0.5) == []
    assert liveness.lost({}, REDIS_NOW, {"b~2"}, now + TTL) == ["b~2"]


def test_a_beat_that_comes_back_starts_the_wait_anew() -> None:
    liveness, now = _in_touch_for(TTL + 1)
    assert liveness.lost({}, REDIS_NOW, {"b~2"}, now) == []
    back = {"b~2": REDIS_NOW + 5000}
    assert liveness.lost(back, REDIS_NOW, {"b~2"}, now + 1) == []
    assert liveness.lost({}, REDIS_NOW, {"b~2"}, now + TTL + 0.5) == []  # missing again: anew


def test_a_node_that_holds_no_session_is_never_declared() -> None:
    liveness, now = _in_touch_for(TTL + 1)
    assert liveness.lost({"b~2": REDIS_NOW - 1}, REDIS_NOW, set(), now) == []
