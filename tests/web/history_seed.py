"""Lines said on earlier days, written into a data directory's history before the server
starts: the only way to have a conversation span several days in a test.
"""

from __future__ import annotations

import datetime
from pathlib import Path

from chatroom.server.core.history import HistoryRecord
from chatroom.server.store.history_sqlite import SqliteHistory, history_db_path


def noon(days_ago: int) -> datetime.datetime:
    """Local noon ``days_ago`` days back: far from midnight in the browser's time zone too
    (the browser runs on this machine, with its time zone)."""
    today = datetime.datetime.now().astimezone()
    return (today - datetime.timedelta(days=days_ago)).replace(
        hour=12, minute=0, second=0, microsecond=0
    )


def seed_history(
    data_dir: Path, room: str, lines: list[tuple[datetime.datetime, str, str]]
) -> None:
    """Store ``(when, nick, text)`` lines of ``room`` as if they had been said then."""
    data_dir.mkdir(parents=True, exist_ok=True)
    history = SqliteHistory(history_db_path(data_dir))
    records = [
        HistoryRecord(
            target=room.lower(),
            msgid=f"seed{n}",
            at=int(when.timestamp() * 1000),
            sender=f"n:{nick}",
            recipient="",
            source=f"{nick}!~{nick}@127.0.0.1",
            command="PRIVMSG",
            target_name=room,
            text=text,
        )
        for n, (when, nick, text) in enumerate(lines)
    ]
    history.append(records)
    history.close()
