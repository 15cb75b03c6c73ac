"""How a history record is laid out in a row, for both SQL history stores (SQLite and
PostgreSQL differ in their SQL, not in their columns): one decoder, so a column added
for one backend cannot be read differently by the other."""

from __future__ import annotations

import json
from collections.abc import Sequence

from chatroom.server.core.history import MESSAGE_COMMANDS, EventRecord, HistoryRecord

COLUMNS = (
    "target, msgid, at, sender, recipient, source, command, target_name, text, account, tags,"
    " params"
)
IS_MESSAGE = "command IN ('PRIVMSG', 'NOTICE')"


def listing_record(row: Sequence[object]) -> HistoryRecord:
    """A TARGETS row (target, at, sender, recipient, source, target_name) as a record."""
    return HistoryRecord(
        target=str(row[0]),
        msgid="",
        at=int(str(row[1])),
        sender=str(row[2]),
        recipient=str(row[3]),
        source=str(row[4]),
        command="PRIVMSG",
        target_name=str(row[5]),
        text="",
    )


def record_from_row(row: Sequence[object]) -> HistoryRecord:
    """A row of ``COLUMNS`` as a message, or as an event (draft/event-playback)."""
    if str(row[6]) not in MESSAGE_COMMANDS:
        return EventRecord(
            target=str(row[0]),
            msgid=str(row[1]),
            at=int(str(row[2])),
            sender=str(row[3]),
            recipient=str(row[4]),
            source=str(row[5]),
            command=str(row[6]),
            target_name=str(row[7]),
            text=str(row[8]),
            account=None if row[9] is None else str(row[9]),
            params=tuple(str(p) for p in json.loads(str(row[11]) if row[11] else "[]")),
        )
    tags = json.loads(str(row[10])) if row[10] else {}
    return HistoryRecord(
        target=str(row[0]),
        msgid=str(row[1]),
        at=int(str(row[2])),
        sender=str(row[3]),
        recipient=str(row[4]),
        source=str(row[5]),
        command=str(row[6]),
        target_name=str(row[7]),
        text=str(row[8]),
        account=None if row[9] is None else str(row[9]),
        tags=tuple((str(k), str(v)) for k, v in tags.items()),
    )
