"""``/mode`` and the server's answers to it, in words, in the window they concern.

``/mode +m`` acts on the room shown, ``/mode #room +b mask`` on the room named,
``/mode NICK +i`` on a nick (ours: the server refuses others'); ``/mode`` alone shows the
room's modes, or ours outside a room. The server decides what is allowed; a refusal
(482 and the like) comes back as a sentence through ``replies``.

Replies: ``324`` (a room's modes) and the ban, mute and exception lists go to the room's
window when we have one; ``221`` (our modes) and changes of our own modes go to the
window the user is in.
"""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from chatroom.client.state import Event
from chatroom.irc import numerics as n
from chatroom.irc.message import Message

if TYPE_CHECKING:
    from chatroom.client.session import ClientSession

__all__ = ["ModeReplies", "describe_user_modes", "run_mode"]

_ROOM_MODES = {
    "C": "no CTCP",
    "i": "invite only",
    "m": "moderated: only voiced people and operators talk",
    "M": "only people logged in to an account talk",
    "n": "no messages from outside",
    "R": "only people logged in to an account join",
    "s": "secret",
    "t": "only operators change the topic",
}
_USER_MODES = {
    "i": "invisible",
    "w": "receives WALLOPS",
    "o": "server operator",
    "B": "bot",
    "s": "server notices",
    "R": "private messages from accounts only",
    "r": "registered",
    "Z": "secure connection",
}
# entry numeric -> (list letter, end numeric, what an entry is, the list's name)
_LISTS = {
    n.RPL_BANLIST: ("b", n.RPL_ENDOFBANLIST, "banned", "ban"),
    n.RPL_QUIETLIST: ("q", n.RPL_ENDOFQUIETLIST, "muted", "mute"),
    n.RPL_EXCEPTLIST: ("e", n.RPL_ENDOFEXCEPTLIST, "exempt from bans", "ban exception"),
    n.RPL_INVEXLIST: (
        "I",
        n.RPL_ENDOFINVEXLIST,
        "may join without an invitation",
        "invite exception",
    ),
}
_LIST_ENDS = {end: name for _, end, _, name in _LISTS.values()}


def run_mode(s: ClientSession, buffer: str, args: list[str], rest: str) -> list[Event]:
    """``/mode [#room|NICK] [MODES [ARGS...]]``: without a target, the room shown (or we,
    outside a room)."""
    if args and (s.is_channel(args[0]) or not args[0].startswith(("+", "-"))):
        target, modes = args[0], args[1:]
    else:
        target, modes = (buffer if s.is_channel(buffer) else s.nick), args
    s.send("MODE", target, *modes)
    return []


def _describe(modes: str, args: list[str], names: dict[str, str]) -> str:
    """``+ntl 10`` -> ``no messages from outside, only operators..., at most 10 people``."""
    words: list[str] = []
    queue = list(args)
    adding = True
    for letter in modes:
        if letter in "+-":
            adding = letter == "+"
        elif not adding:
            words.append(f"no longer {names.get(letter, letter)}")
        elif letter == "l" and queue:
            words.append(f"at most {queue.pop(0)} people")
        elif letter == "k":
            words.append(f"key {queue.pop(0)}" if queue else "needs a key")
        elif letter in names:
            words.append(names[letter])
    return ", ".join(words)


def describe_user_modes(modes: str) -> str:
    words = _describe(modes, [], _USER_MODES)
    return f"{modes} ({words})" if words else modes


class ModeReplies:
    """Turns mode replies into lines; counts list entries so an empty list says so."""

    def __init__(self, session: ClientSession) -> None:
        self.s = session
        self._counts: dict[tuple[str, str], int] = {}

    def _room_window(self, room: str) -> str | None:
        """The room's window when we have one, else (None) the window the user is in."""
        return room if self.s.buffer(room, create=False) is not None else None

    def numeric(self, msg: Message) -> list[Event] | None:
        """Lines for a mode reply; None for any other numeric."""
        c, p = msg.command, msg.params
        s = self.s
        if c == n.RPL_CHANNELMODEIS and len(p) >= 3:
            room, modes = p[1], p[2]
            if modes.strip("+") == "":
                return [s.info(f"{room} has no modes set.", self._room_window(room))]
            words = _describe(modes, list(p[3:]), _ROOM_MODES)
            text = f"Modes of {room}: {' '.join(p[2:])}" + (f" ({words})" if words else "")
            return [s.info(text, self._room_window(room))]
        if c == n.RPL_UMODEIS and len(p) >= 2:
            if p[1].strip("+") == "":
                return [s.info("You have no user modes set.")]
            return [s.info(f"Your modes: {describe_user_modes(p[1])}")]
        if c in _LISTS and len(p) >= 3:
            letter, _, what, _ = _LISTS[c]
            room = p[1]
            entry = list(p[3:] if c == n.RPL_QUIETLIST else p[2:])
            key = (s.key(room), letter)
            self._counts[key] = self._counts.get(key, 0) + 1
            text = f"{room}: {entry[0] if entry else '?'} is {what}" + _set_by(entry[1:])
            return [s.info(text, self._room_window(room))]
        if c in _LIST_ENDS and len(p) >= 2:
            room, name = p[1], _LIST_ENDS[c]
            letter = next(lt for lt, end, _, _ in _LISTS.values() if end == c)
            count = self._counts.pop((s.key(room), letter), 0)
            text = (
                f"End of the {name} list of {room} ({count})."
                if count
                else f"The {name} list of {room} is empty."
            )
            return [s.info(text, self._room_window(room))]
        return None


def _set_by(rest: list[str]) -> str:
    """`` (set by alice, 2026-12-05 08:40)`` from the optional ``setter [time]``."""
    if not rest:
        return ""
    when = ""
    if len(rest) > 1 and rest[1].isdigit():
        with contextlib.suppress(OverflowError, OSError, ValueError):  # no calendar holds it
            stamp = datetime.fromtimestamp(int(rest[1]), UTC).astimezone()
            when = stamp.strftime(", %Y-%m-%d %H:%M")
    return f" (set by {rest[0].partition('!')[0]}{when})"
