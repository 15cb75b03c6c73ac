"""Deleting a stored message (IRCv3 draft/message-redaction): the rule both stores apply.

Pure, like ``core/history.py``: the REDACT handler decides who may delete what in general
(an author their own lines, a room operator anything in the room) and the store, which
alone knows who sent a line, applies that decision to the line with ``judge``. Both
history stores call this one function, so they cannot disagree.

A deleted message keeps its row (its place, msgid and time, so references to it still
work and ``chatroom admin export`` still shows the REDACT that removed it) but loses its
text and tags, and no query returns it again.
"""

from __future__ import annotations

from dataclasses import dataclass

from chatroom.server.core.history import MESSAGE_COMMANDS

__all__ = ["FORBIDDEN", "REDACTED", "UNKNOWN", "Redaction", "judge"]

REDACTED = "redacted"
UNKNOWN = "unknown"  # no such message here (never kept, pruned, already deleted, an event)
FORBIDDEN = "forbidden"  # someone else's message, and the requester is no operator there


@dataclass(frozen=True, slots=True)
class Redaction:
    """One REDACT for the store: which line, and whose lines the requester may delete."""

    target: str  # conversation key (see core/history.py)
    msgid: str
    author: str | None  # the sender identity the line must have; None: anyone's (room ops)
    at: int  # when it is deleted (milliseconds)
    since: int = 0  # only lines sent from then on (a guest: from its own connection)


def judge(redaction: Redaction, command: str, sender: str, at: int, deleted: bool) -> str:
    """What happens to the stored line a REDACT names: REDACTED, UNKNOWN or FORBIDDEN."""
    if deleted or command not in MESSAGE_COMMANDS:
        return UNKNOWN
    if redaction.author is not None and (sender != redaction.author or at < redaction.since):
        return FORBIDDEN
    return REDACTED
