"""The numbers the server reports about itself: counters for /metrics, counts for LUSERS.

Both are plain ints bumped in place, so keeping them costs the hot path nothing more.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True)
class Stats:
    """Counters for /metrics, read at scrape time; plain ints so the hot path stays cheap."""

    lines_in: int = 0
    deliveries: int = 0
    connections_opened: int = 0
    connections_refused: int = 0
    registrations: int = 0
    failed_logins: int = 0
    sendq_drops: int = 0
    flood_drops: int = 0


@dataclass(slots=True)
class Census:
    """How many users are here, kept exact as they change, so LUSERS costs O(1)."""

    registered: int = 0  # registered users: a user once, however many devices it has
    devices: int = 0  # registered connections: LUSERS' unknown ones are the others
    invisible: int = 0  # of them with +i; refreshed by tick, which visits every session
    opers: int = 0  # with +o; kept by opers.grant/revoke and by the user leaving
    most: int = 0  # the most registered users LUSERS has seen at once
