"""Effects: what the core asks the outside world to do, besides sending lines.

Lines to send are not effects objects: they sit in each ``Session.out`` (see session.py), so
the hot fan-out path allocates nothing per recipient. Everything else the core wants done,
closing a connection, hashing a password, writing to the store, is an effect here, collected
in ``World.effects`` and carried out by the shell in order.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Close:
    """Flush what is queued for the connection, then close it."""

    session_id: int
    reason: str


Effect = Close
