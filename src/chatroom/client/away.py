"""Who else is away, as far as the server has told us, and saying so once.

Three sources, as IRC clients use them:

* ``AWAY`` lines (IRCv3 ``away-notify``) as people leave and come back, and for a
  newcomer already away when they join one of our rooms;
* a ``WHO #room`` sent once we are in a room and its member list is in (with
  ``away-notify`` only, so the marks stay current), whose ``H``/``G`` flags say who was
  away before we came; only for rooms of up to ``WHO_LIMIT`` members, as WeeChat's
  away check, because a WHO of a big room is a line per member for us and the server;
* ``301 RPL_AWAY``, which the server sends after every private message to someone away.

The member list draws the away ones apart (``is_away``). In a private conversation the
away message is told once, not after every line we send: again only when it changes or
after they came back.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from chatroom.client.state import Event, LineKind, StateChanged
from chatroom.irc import numerics as n
from chatroom.irc.message import Message

if TYPE_CHECKING:
    from chatroom.client.session import ClientSession

__all__ = ["WHO_LIMIT", "AwayStatus"]

WHO_LIMIT = 100  # members: a bigger room's away marks come from away-notify alone


class AwayStatus:
    def __init__(self, session: ClientSession) -> None:
        self.s = session
        self.messages: dict[str, str] = {}
        """Folded nick -> away message ("" when only the WHO flag told us)."""
        self._told: dict[str, str] = {}
        """Folded nick -> the away message last shown in their private window."""
        self._whois: set[str] = set()
        self._who_asked: set[str] = set()
        self._who_wanted: set[str] = set()  # joined, waiting for the member list

    def is_away(self, nick: str) -> bool:
        return self.s.key(nick) in self.messages

    def clear(self) -> None:
        """A new connection: what we knew may be stale; the rejoin's WHO tells again."""
        self.messages.clear()
        self._whois.clear()
        self._who_asked.clear()
        self._who_wanted.clear()

    # ------------------------------------------------------------------ changes

    def joined(self, room: str) -> None:
        """We are in ``room``: once its member list is in, ask who there is away already
        (kept current by AWAY from then on)."""
        if "away-notify" in self.s.caps:
            self._who_wanted.add(self.s.key(room))

    def members_known(self, room: str, count: int) -> None:
        """The member list of ``room`` is complete (366): a small room gets its WHO."""
        key = self.s.key(room)
        if key in self._who_wanted:
            self._who_wanted.discard(key)
            if count <= WHO_LIMIT:
                self._who_asked.add(key)
                self.s.send("WHO", room)

    def forget(self, nick: str) -> None:
        """``nick`` quit: gone, not away."""
        self.messages.pop(self.s.key(nick), None)
        self._told.pop(self.s.key(nick), None)

    def renamed(self, old: str, new: str) -> None:
        for known in (self.messages, self._told):
            if self.s.key(old) in known:
                known[self.s.key(new)] = known.pop(self.s.key(old))

    def on_away(self, msg: Message) -> list[Event]:
        """``:nick!u@h AWAY [:message]`` (away-notify): mark or unmark, and tell it in a
        private conversation with them, if one is open."""
        nick = (msg.source or "").partition("!")[0]
        if not nick or self.s.is_me(nick):
            return []
        key, text = self.s.key(nick), msg.params[0] if msg.params else ""
        events: list[Event] = []
        if text:
            changed = self.messages.get(key) != text
            self.messages[key] = text
            if changed and self._private(nick) is not None:
                events += self._tell(nick, text)
        elif self.messages.pop(key, None) is not None:
            told = self._told.pop(key, None) is not None
            if told and self._private(nick) is not None:
                events.append(self.s.info(f"{nick} is back.", self._private(nick)))
        return events + self._rooms_of(key)

    # ------------------------------------------------------------------ replies

    def numeric(self, msg: Message) -> list[Event] | None:
        """301, WHO and WHOIS replies that concern away status; None for the others, and
        for those still to be shown as usual (a WHOIS line, a WHO we did not send)."""
        c, p = msg.command, msg.params
        if c == n.RPL_WHOISUSER and len(p) > 1:
            self._whois.add(self.s.key(p[1]))
        elif c == n.RPL_ENDOFWHOIS and len(p) > 1:
            self._whois.discard(self.s.key(p[1]))
        elif c == n.RPL_AWAY and len(p) >= 3:
            return self._reply_away(p[1], p[2])
        elif c == n.RPL_WHOREPLY and len(p) >= 7 and self.s.key(p[1]) in self._who_asked:
            key = self.s.key(p[5])
            if p[6].startswith("G") and key not in self.messages:
                self.messages[key] = ""
            elif p[6].startswith("H"):
                self.messages.pop(key, None)
            return []
        elif c == n.RPL_ENDOFWHO and len(p) > 1 and self.s.key(p[1]) in self._who_asked:
            self._who_asked.discard(self.s.key(p[1]))
            return [StateChanged(p[1])]
        return None

    def _reply_away(self, nick: str, text: str) -> list[Event]:
        key = self.s.key(nick)
        changed = self.messages.get(key) != text
        self.messages[key] = text
        if key in self._whois:
            return [self.s.info(f"{nick} is away: {text}")]  # asked for: always answered
        return self._tell(nick, text) + (self._rooms_of(key) if changed else [])

    # ------------------------------------------------------------------ helpers

    def _tell(self, nick: str, text: str) -> list[Event]:
        """Say "nick is away: text" once per away message, in our private window with
        them (the active one when there is none, as the reply to a /msg)."""
        key = self.s.key(nick)
        if self._told.get(key) == text:
            return []
        self._told[key] = text
        return [self.s.info(f"{nick} is away: {text}", self._private(nick), LineKind.INFO)]

    def _private(self, nick: str) -> str | None:
        buf = self.s.buffer(nick, create=False)
        return buf.name if buf is not None and not buf.is_room else None

    def _rooms_of(self, key: str) -> list[Event]:
        return [
            StateChanged(buf.name)
            for buf in self.s.buffers.values()
            if buf.is_room and key in buf.members
        ]
