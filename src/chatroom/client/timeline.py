"""What a conversation's log shows between its lines: day separators, the "new messages"
line, and a heading over lines said before we were there.

Pure, like the session: a UI feeds the lines of one buffer, in order, and draws what
comes out. The same rules then hold whether the log is drawn whole (switching buffer,
history arriving) or line by line as people talk:

* a day separator goes before the first line of each day (local time), and before the
  first line of the log unless it is from today, so scrollback always says its date;
* the "new messages" line goes once, before the first line by someone else said after
  ``new_since`` (``Buffer.new_since``: where the user had read up to);
* a run of ``earlier`` lines (scrollback, a replay on join) gets a heading, so lines
  said before the user came are never mistaken for what is being said now.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, tzinfo

from chatroom.client.state import LineKind, Show

__all__ = ["DayBreak", "EarlierLines", "Entry", "NewMessages", "Timeline"]

_CHAT_KINDS = (LineKind.MESSAGE, LineKind.ACTION, LineKind.NOTICE)


@dataclass(frozen=True, slots=True)
class DayBreak:
    """The lines below were said on ``day``."""

    day: date

    @property
    def label(self) -> str:
        return f"{self.day:%A}, {self.day.day} {self.day:%B %Y}"


@dataclass(frozen=True, slots=True)
class NewMessages:
    """Everything below was said since the user last read this conversation."""

    label: str = "new messages"


@dataclass(frozen=True, slots=True)
class EarlierLines:
    """The lines below were said before this session saw the room."""

    label: str = "earlier messages"


Entry = Show | DayBreak | NewMessages | EarlierLines


class Timeline:
    """Turns one buffer's lines, fed in order, into the entries to draw."""

    def __init__(self, new_since: datetime | None, today: date, tz: tzinfo | None = None) -> None:
        self.new_since = new_since
        self.today = today
        self.tz = tz
        self._last: Show | None = None
        self._marked = new_since is None

    def day_of(self, line: Show) -> date:
        return line.time.astimezone(self.tz).date()

    def feed(self, line: Show) -> list[Entry]:
        """The entries that ``line`` brings, itself last."""
        out: list[Entry] = []
        day, last = self.day_of(line), self._last
        if (last is None and day != self.today) or (last is not None and day != self.day_of(last)):
            out.append(DayBreak(day))
        if line.earlier and (last is None or not last.earlier):
            out.append(EarlierLines())
        if not self._marked and self._is_news(line):
            self._marked = True
            out.append(NewMessages())
        out.append(line)
        self._last = line
        return out

    def entries(self, lines: list[Show]) -> list[Entry]:
        return [entry for line in lines for entry in self.feed(line)]

    def _is_news(self, line: Show) -> bool:
        assert self.new_since is not None
        return line.kind in _CHAT_KINDS and not line.own and line.time > self.new_since
