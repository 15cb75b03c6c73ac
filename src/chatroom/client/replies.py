"""Numeric replies turned into state and into sentences a person understands.

Errors name what went wrong in the user's terms: a 482 on KICK says "you need to be a
room operator in #room to kick", not "You're not channel operator".
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from chatroom.client.state import SERVER_BUFFER, Event, LineKind, StateChanged
from chatroom.irc import numerics as n
from chatroom.irc.message import Message

if TYPE_CHECKING:
    from chatroom.client.session import ClientSession

__all__ = ["numeric"]

_ERRORS = {
    n.ERR_NOSUCHNICK: "There is nobody called {0} here.",
    n.ERR_NOSUCHCHANNEL: "There is no room called {0}.",
    n.ERR_CANNOTSENDTOCHAN: "Your message to {0} was not delivered: you are muted or banned "
    "there, or the room is moderated.",
    n.ERR_NICKNAMEINUSE: "The nickname {0} is taken.",
    n.ERR_ERRONEUSNICKNAME: "{0} is not a valid nickname.",
    n.ERR_USERNOTINCHANNEL: "{0} is not in {1}.",
    n.ERR_NOTONCHANNEL: "You are not in {0}.",
    n.ERR_USERONCHANNEL: "{0} is already in {1}.",
    n.ERR_CHANOPRIVSNEEDED: "You need to be a room operator (@) in {0} to do that.",
    n.ERR_NOPRIVILEGES: "Only server operators can do that.",
    "471": "{0} is full.",
    "472": "+{0} is not a room mode this server knows.",
    "473": "{0} is invite-only: ask an operator there to /invite you.",
    "474": "You are banned from {0}.",
    "475": "{0} needs a key: /join {0} KEY",
    "477": "You need to log in to an account to join {0}.",
    n.ERR_UNKNOWNCOMMAND: "{0} is not a command this server knows (/help lists this client's).",
}


def _room_members(s: ClientSession, msg: Message) -> list[Event]:
    """353 ``<me> <symbol> <room> :<names>``: collect, replacing the list on its first line."""
    if len(msg.params) < 4:
        return []
    room = msg.params[2]
    buf = s.buffer(room, create=False)
    names = msg.params[3].split()
    if buf is None or not buf.joined or room.lower() in s._names_asked:
        # Nicks with their room prefix; userhost-in-names' "!user@host" is for clients.
        shown = " ".join(entry.partition("!")[0] for entry in names)
        return [s.info(f"In {room}: {shown}")]
    key = s.key(room)
    if key not in s._names_fresh:
        buf.members.clear()
        s._names_fresh.add(key)
    for entry in names:
        prefixes = ""
        while entry and entry[0] in s.prefix_symbols:
            prefixes, entry = prefixes + entry[0], entry[1:]
        nick = entry.partition("!")[0]
        if nick:
            buf.members[s.key(nick)] = (nick, prefixes)
    return []


def _end_of_names(s: ClientSession, msg: Message) -> list[Event]:
    room = msg.params[1] if len(msg.params) > 1 else ""
    s._names_fresh.discard(s.key(room))
    s._names_asked.discard(room.lower())
    buf = s.buffer(room, False)
    s.away.members_known(room, len(buf.members) if buf is not None else 0)
    return [StateChanged(room)]


def _topic_reply(s: ClientSession, msg: Message) -> list[Event]:
    if len(msg.params) < 3:
        return []
    room, topic = msg.params[1], msg.params[2]
    buf = s.buffer(room, create=False)
    if buf is None or not buf.joined:
        return [s.info(f"Topic of {room}: {topic}")]
    buf.topic = topic
    return [s.show(room, LineKind.TOPIC, f"Topic: {topic}", msg=msg), StateChanged(buf.name)]


def _whois_line(s: ClientSession, msg: Message) -> str | None:
    p = msg.params
    c = msg.command
    if c == n.RPL_WHOISUSER and len(p) >= 6:
        return f"{p[1]} is {p[2]}@{p[3]} ({p[5]})"
    if c == n.RPL_WHOISSERVER and len(p) >= 4:
        return f"{p[1]} is on {p[2]} ({p[3]})"
    if c == n.RPL_WHOISCHANNELS and len(p) >= 3:
        return f"{p[1]} is in {p[2]}"
    if c == n.RPL_WHOISACCOUNT and len(p) >= 3:
        return f"{p[1]} is logged in as {p[2]}"
    if c == n.RPL_WHOISIDLE and len(p) >= 3:
        return f"{p[1]} has been idle for {p[2]} seconds"
    if c == n.RPL_AWAY and len(p) >= 3:
        return f"{p[1]} is away: {p[2]}"
    if c in (n.RPL_WHOISOPERATOR, n.RPL_WHOISSPECIAL, "671", n.RPL_WHOISHOST) and len(p) >= 3:
        return f"{p[1]} {p[-1]}"
    return None


def numeric(s: ClientSession, msg: Message) -> list[Event]:
    c, p = msg.command, msg.params
    for special in (s.away.numeric, s.mode_replies.numeric):  # away.py, modes.py
        events = special(msg)
        if events is not None:
            return events
    if c == n.RPL_NAMREPLY:
        return _room_members(s, msg)
    if c == n.RPL_ENDOFNAMES:
        return _end_of_names(s, msg)
    if c == n.RPL_TOPIC:
        return _topic_reply(s, msg)
    if c == n.RPL_NOTOPIC and len(p) >= 2:
        # Our server sends 331 only when asked (/topic): without it the user sees nothing.
        return [s.info(f"{p[1]} has no topic. /topic TEXT sets one.")]
    if c in (n.RPL_TOPICWHOTIME, n.RPL_CREATIONTIME, n.RPL_ENDOFWHOIS):
        return []
    if c in (n.RPL_MOTD, n.RPL_MOTDSTART, n.RPL_ENDOFMOTD, "002", "003", "004", "251", "252",
             "253", "254", "255", "265", "266", "422"):  # fmt: skip
        if c in (n.RPL_MOTD, "002"):
            return [s.show(SERVER_BUFFER, LineKind.INFO, p[-1], msg=msg, greeting=True)]
        return []
    whois = _whois_line(s, msg)
    if whois is not None:
        return [s.info(whois)]
    if c == n.RPL_LISTSTART:
        return [s.info("Rooms on this server:")]
    if c == n.RPL_LIST and len(p) >= 4:
        return [s.info(f"  {p[1]} ({p[2]} people) {p[3]}")]
    if c == n.RPL_LISTEND:
        return [s.info("End of room list. /join a room to enter it.")]
    if c == n.RPL_KNOCK and len(p) >= 4:  # 710 <me> <#room> <nick!user@host> :text
        who = p[2].split("!", 1)[0]
        room = s.buffer(p[1], False)
        where = room.name if room is not None and room.joined else None
        return [s.info(f"{who} knocks on {p[1]} ({p[3]}): /invite {who} to let them in", where)]
    if c == n.RPL_KNOCKDLVR and len(p) >= 2:
        return [s.info(f"Your knock on {p[1]} was delivered to its operators.")]
    if c == n.RPL_INVITING and len(p) >= 3:
        return [s.info(f"You invited {p[1]} to {p[2]}.")]
    if c in (n.RPL_UNAWAY, n.RPL_NOWAWAY):
        s.marked_away = c == n.RPL_NOWAWAY  # the status line says it while it lasts
        text = "You are back." if c == n.RPL_UNAWAY else "You are marked as away."
        return [s.info(text), StateChanged(None)]
    template = _ERRORS.get(c)
    if c == "477" and len(p) > 2 and not s.is_channel(p[1]):
        template = "{0} takes private messages only from people logged in to an account."
    # An error about a room we are in goes to its window (482 after /mode #room); one about
    # a room we are not in (474 on /join) stays where the user typed.
    room = s.buffer(p[1], False) if len(p) > 2 and s.is_channel(p[1]) else None
    where = room.name if room is not None and room.joined else None
    if template is not None:
        args = [*p[1:-1], "", ""]
        return [s.info(template.format(*args), where, LineKind.ERROR)]
    if c.startswith(("4", "5")) or c == "696":
        detail = p[1] if c == "696" else " ".join(p[1:-1])  # 696 <room> <mode> <arg> :text
        text = f"{detail}: {p[-1]}" if detail else (p[-1] if p else c)
        return [s.info(text, where, LineKind.ERROR)]
    if len(p) >= 2 and c not in ("005", "333", "366", "315", "318"):
        return [s.show(SERVER_BUFFER, LineKind.INFO, " ".join(p[1:]), msg=msg)]
    return []
