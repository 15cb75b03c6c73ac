"""Abuse limits decided by the core: flood control and connection limits."""

from __future__ import annotations

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
    c.session.modes.add("o")
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
