"""Abuse limits decided by the core: flood control and connection limits."""

from __future__ import annotations

import logging

import pytest

from chatroom.server.core import admission
from chatroom.server.core.settings import CoreSettings, Limits
from chatroom.server.harness import Harness


def test_burst_is_free_then_commands_must_wait() -> None:
    h = Harness(CoreSettings(limits=Limits(flood_burst=5, flood_per_second=2.0)))
    c = h.connect("alice")
    session = c.session
    session.flood_tokens = 5.0
    waits = [h.world.flood_wait(session) for _ in range(6)]
    assert waits[:5] == [0.0] * 5
    assert waits[5] == 0.5


def test_tokens_refill_with_time_up_to_the_burst() -> None:
    h = Harness(CoreSettings(limits=Limits(flood_burst=3, flood_per_second=1.0)))
    c = h.connect("alice")
    for _ in range(3):
        h.world.flood_wait(c.session)
    assert h.world.flood_wait(c.session) > 0
    h.clock.advance(100)
    assert [h.world.flood_wait(c.session) for _ in range(3)] == [0.0] * 3
    assert h.world.flood_wait(c.session) > 0


def test_operators_are_exempt_from_flood_control() -> None:
    h = Harness(CoreSettings(limits=Limits(flood_burst=1, flood_per_second=1.0)))
    c = h.connect("alice")
    c.session.owner.set_mode("o", True)
    assert all(h.world.flood_wait(c.session) == 0.0 for _ in range(50))


def test_flood_control_can_be_switched_off() -> None:
    h = Harness(CoreSettings(limits=Limits(flood_burst=1, flood_per_second=0)))
    c = h.connect("alice")
    assert all(h.world.flood_wait(c.session) == 0.0 for _ in range(50))


def test_too_many_connections_from_one_address_are_refused() -> None:
    h = Harness(CoreSettings(limits=Limits(connections_per_address=2)))
    h.connect(ip="192.0.2.1")
    h.connect(ip="192.0.2.1")
    third = h.connect(ip="192.0.2.1")
    assert third.closed_reason == "Too many connections from your address"
    assert third.take()[0].command == "ERROR"
    other = h.connect(ip="192.0.2.2")
    assert other.closed_reason is None


def test_a_closed_connection_frees_its_address_slot() -> None:
    h = Harness(CoreSettings(limits=Limits(connections_per_address=1)))
    first = h.connect(ip="192.0.2.1")
    first.drop()
    again = h.connect(ip="192.0.2.1")
    assert again.closed_reason is None


def test_connecting_too_fast_is_refused_for_a_minute() -> None:
    h = Harness(
        CoreSettings(limits=Limits(connections_per_address=100, connects_per_address_per_minute=3))
    )
    for _ in range(3):
        h.connect(ip="192.0.2.9").drop()
    assert h.connect(ip="192.0.2.9").closed_reason == "Connecting too fast; wait a minute"
    h.clock.advance(61)
    assert h.connect(ip="192.0.2.9").closed_reason is None


def test_server_full_refuses_new_connections() -> None:
    h = Harness(CoreSettings(limits=Limits(connections_total=2, connections_per_address=100)))
    h.connect(ip="192.0.2.1")
    h.connect(ip="192.0.2.2")
    assert h.connect(ip="192.0.2.3").closed_reason == "Server is full"


def test_held_http_connections_fill_the_same_per_address_quota_as_irc() -> None:
    """An address holding its quota of web connections gets no IRC connection either."""
    h = Harness(CoreSettings(limits=Limits(connections_per_address=2)))
    now = h.clock()
    assert admission.hold(h.world, "192.0.2.1", now) is None
    assert admission.hold(h.world, "192.0.2.1", now) is None
    assert admission.hold(h.world, "192.0.2.1", now) == "Too many connections from your address"
    assert h.connect(ip="192.0.2.1").closed_reason == "Too many connections from your address"
    assert h.connect("other", ip="192.0.2.2").closed_reason is None
    admission.release(h.world, "192.0.2.1")
    assert h.connect("again", ip="192.0.2.1").closed_reason is None


def test_held_http_connections_count_in_the_total() -> None:
    h = Harness(CoreSettings(limits=Limits(connections_total=3)))
    now = h.clock()
    h.connect("alice", ip="192.0.2.1")
    assert admission.hold(h.world, None, now) is None  # a trusted proxy: total only
    assert admission.hold(h.world, "192.0.2.2", now) is None
    assert admission.hold(h.world, "192.0.2.3", now) == "Server is full"
    assert h.connect("bob", ip="192.0.2.4").closed_reason == "Server is full"
    admission.release(h.world, None)
    admission.release(h.world, "192.0.2.2")
    assert h.world.occupancy.held == 0
    assert "192.0.2.2" not in h.world.per_address


def test_the_file_descriptor_capacity_caps_the_total_and_is_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    h = Harness(CoreSettings(limits=Limits(connections_total=1000)))
    h.world.occupancy.fd_capacity = 2
    h.connect("alice", ip="192.0.2.1")
    assert admission.hold(h.world, "192.0.2.2", h.clock()) is None
    with caplog.at_level(logging.WARNING, logger="chatroom.limits"):
        assert h.connect("bob", ip="192.0.2.3").closed_reason == "Server is full"
        assert admission.hold(h.world, "192.0.2.4", h.clock()) == "Server is full"
    # Logged once a minute, not once per refusal: a flood must not flood the log.
    assert [r.getMessage() for r in caplog.records] == [
        "file descriptor reserve reached; refusing connections"
    ]
