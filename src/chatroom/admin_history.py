"""``chatroom admin purge`` and ``chatroom admin export``: a room's history from the shell.

Both open the history store directly (``store.url``: history.db, or PostgreSQL), so they
work whether or not the server runs; a running server notices a purge within seconds
(SQLite: the file's data version; PostgreSQL: a notification) and drops the purged lines
from what it replays on join too.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TextIO

from chatroom.irc.masks import is_channel_name
from chatroom.server.core.history import EventRecord, format_time
from chatroom.server.store.factory import open_history
from chatroom.server.store.url import StoreLocation

__all__ = ["export_room", "purge_room"]

# json.dumps escapes C0 controls but, with ensure_ascii=False, prints DEL and the C1
# controls raw, and a terminal obeys U+009B as CSI. They can occur only inside JSON strings,
# where \u escapes mean the same characters: the export stays exact and is safe to show.
_ESCAPE_C1 = {code: f"\\u{code:04x}" for code in range(0x7F, 0xA0)}


def _room_key(room: str, fold: Callable[[str], str]) -> str:
    if not is_channel_name(room):
        raise ValueError(f"{room!r} is not a room name (rooms start with '#')")
    return fold(room)


def purge_room(
    location: StoreLocation, room: str, fold: Callable[[str], str], before: float | None = None
) -> int:
    """Delete a room's stored lines (those sent before ``before``, if given); the count."""
    key = _room_key(room, fold)
    history = open_history(location)
    try:
        return history.purge(key, None if before is None else int(before * 1000))
    finally:
        history.close()


def export_room(location: StoreLocation, room: str, fold: Callable[[str], str], out: TextIO) -> int:
    """Write a room's lines (messages and events) to ``out`` as JSON lines, oldest first;
    returns the count. Deleted messages are left out; the REDACT that deleted them is in."""
    key = _room_key(room, fold)
    history = open_history(location)
    try:
        records = history.export(key)
    finally:
        history.close()
    for record in records:
        line: dict[str, object] = {
            "msgid": record.msgid,
            "time": format_time(record.at),
            "source": record.source,
            "account": record.account,
            "command": record.command,
            "target": record.target_name,
            "text": record.text,
            "tags": dict(record.tags),
        }
        if isinstance(record, EventRecord):  # JOIN, PART, ..., REDACT: the line's parameters
            line["params"] = list(record.params)
        out.write(json.dumps(line, ensure_ascii=False).translate(_ESCAPE_C1) + "\n")
    return len(records)
