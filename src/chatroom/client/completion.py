"""What Tab may offer in a conversation, in the order a chatter wants it.

Nicks come first, those who spoke last first: the one answered is usually the one who
just spoke (WeeChat's "smart" completion, Irssi's, and the web client's). Then the other
members alphabetically; in a private chat, the other person. Oneself is never offered.
Then the rooms, then the /commands.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from chatroom.client.commands import COMMANDS
from chatroom.client.state import SERVER_BUFFER, LineKind

if TYPE_CHECKING:
    from chatroom.client.session import ClientSession

__all__ = ["completions"]

SPEAKERS_LOOKED_AT = 300
"""How far back the log is read for recent speakers: enough for a busy room's last few."""

_SAID = (LineKind.MESSAGE, LineKind.ACTION, LineKind.NOTICE)


def completions(s: ClientSession, buffer: str) -> list[str]:
    """Candidates for Tab in ``buffer``: nicks (latest speaker first), rooms, commands."""
    buf = s.buffer(buffer, create=False)
    present: dict[str, str] = {}
    if buf is not None:
        present = {key: nick for key, (nick, _) in buf.members.items()}
        if not buf.is_room and buf.name != SERVER_BUFFER:
            present[s.fold(buf.name)] = buf.name
    nicks: list[str] = []
    seen: set[str] = set()
    for line in reversed(s.logs.get(s.key(buffer), [])[-SPEAKERS_LOOKED_AT:]):
        key = s.fold(line.nick)
        if line.kind in _SAID and key in present and key not in seen:
            seen.add(key)
            nicks.append(present[key])
    nicks += sorted((n for k, n in present.items() if k not in seen), key=str.lower)
    rooms = [b.name for b in s.buffers.values() if b.is_room]
    return [
        *(nick for nick in nicks if not s.is_me(nick)),
        *rooms,
        *(f"/{c}" for c in COMMANDS),
    ]
