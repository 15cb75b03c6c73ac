"""What each server message does to a client session once we are connected.

Rooms are changed only by what the server says (our own JOIN echoed back, a KICK, a
MODE), never by what we asked for, so the display cannot drift from the server's truth.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from chatroom.client import replies
from chatroom.client.modes import describe_user_modes
from chatroom.client.state import SERVER_BUFFER, Deleted, Event, LineKind, StateChanged
from chatroom.irc import numerics as n
from chatroom.irc.message import Message
from chatroom.irc.modes import parse_channel_modes

if TYPE_CHECKING:
    from chatroom.client.session import ClientSession

__all__ = ["HANDLERS", "ROOM_EVENTS", "combine_multiline", "history_event", "numeric"]

# Lines that change a room's state live; inside a chathistory batch they are only told.
ROOM_EVENTS = frozenset({"JOIN", "PART", "QUIT", "KICK", "NICK", "TOPIC", "MODE"})
_CHAT = (LineKind.MESSAGE, LineKind.ACTION, LineKind.NOTICE)
MULTILINE = "draft/multiline"
CONCAT = "draft/multiline-concat"


def source_nick(msg: Message) -> str:
    return (msg.source or "").partition("!")[0]


def _ping(s: ClientSession, msg: Message) -> list[Event]:
    s.send("PONG", *(msg.params[-1:] or ("ping",)))
    return []


def _privmsg(s: ClientSession, msg: Message) -> list[Event]:
    collecting = s.multiline.get(msg.tags.get("batch", ""))
    if collecting is not None:
        collecting[1].append(msg)  # a line of a draft/multiline message: shown when complete
        return []
    if len(msg.params) < 2 or s.seen_msgid(msg):
        return []
    nick = source_nick(msg)
    target, text = msg.params[0], msg.params[1]
    notice = msg.command == "NOTICE"
    kind = LineKind.NOTICE if notice else LineKind.MESSAGE
    if text.startswith("\x01"):
        body = text.strip("\x01")
        verb, _, rest = body.partition(" ")
        if verb.upper() != "ACTION":
            return []  # other CTCPs (VERSION, PING...) are not shown
        kind, text = LineKind.ACTION, rest
    target = target.lstrip(s.prefix_symbols) if s.is_channel(target.lstrip("@+~&%")) else target
    if s.is_channel(target):
        buffer = target
    elif not s.registered or "!" not in (msg.source or "!") or (notice and not s.is_me(nick)):
        buffer = SERVER_BUFFER  # server notices and services (NickServ) replies
        if s.active != SERVER_BUFFER and s.registered:
            buffer = s.buffers[s.active].name
    elif s.is_me(nick):
        buffer = target  # our own message, echoed back
    else:
        buffer = nick
    mention = not s.is_me(nick) and s.is_mention(text)
    return [s.show(buffer, kind, text, nick or (msg.source or ""), msg, mention=mention)]


def _join(s: ClientSession, msg: Message) -> list[Event]:
    if not msg.params:
        return []
    nick, room = source_nick(msg), msg.params[0]
    buf = s.buffer(room)
    assert buf is not None
    if s.is_me(nick):
        buf.joined = True
        buf.members.clear()
        buf.name = room
        s.history.joined(room)
        s.away.joined(room)
        line = s.show(room, LineKind.JOIN, f"You joined {room}", nick, msg)
        return [StateChanged(None), line]
    buf.members[s.key(nick)] = (nick, "")
    if s.came_back(room, nick):
        return [StateChanged(buf.name)]  # back from the same restart as us: not news
    return [s.show(room, LineKind.JOIN, f"{nick} joined", nick, msg), StateChanged(buf.name)]


def _part(s: ClientSession, msg: Message) -> list[Event]:
    if not msg.params:
        return []
    nick, room = source_nick(msg), msg.params[0]
    buf = s.buffer(room, create=False)
    if buf is None:
        return []
    reason = f" ({msg.params[1]})" if len(msg.params) > 1 and msg.params[1] else ""
    if s.is_me(nick):
        buf.joined = False
        buf.members.clear()
        return [
            s.show(room, LineKind.PART, f"You left {room}{reason}", nick, msg),
            StateChanged(None),
        ]
    buf.members.pop(s.key(nick), None)
    return [s.show(room, LineKind.PART, f"{nick} left{reason}", nick, msg), StateChanged(buf.name)]


def _quit(s: ClientSession, msg: Message) -> list[Event]:
    nick = source_nick(msg)
    key = s.key(nick)
    reason = msg.params[0] if msg.params else ""
    s.away.forget(nick)
    events: list[Event] = []
    for buf in list(s.buffers.values()):
        if key in buf.members:
            del buf.members[key]
            text = f"{nick} quit" + (f" ({reason})" if reason else "")
            events += [s.show(buf.name, LineKind.QUIT, text, nick, msg), StateChanged(buf.name)]
    return events


def _kick(s: ClientSession, msg: Message) -> list[Event]:
    if len(msg.params) < 2:
        return []
    by, room, victim = source_nick(msg), msg.params[0], msg.params[1]
    reason = msg.params[2] if len(msg.params) > 2 and msg.params[2] != victim else ""
    why = f": {reason}" if reason else " (no reason given)"
    buf = s.buffer(room, create=False)
    if buf is None:
        return []
    if s.is_me(victim):
        buf.joined = False
        buf.members.clear()
        text = f"You were kicked from {room} by {by}{why}. Type /join {room} to return."
        line = s.show(room, LineKind.KICK, text, by, msg, mention=True)
        return [line, StateChanged(None)]
    buf.members.pop(s.key(victim), None)
    line = s.show(room, LineKind.KICK, f"{victim} was kicked by {by}{why}", by, msg)
    return [line, StateChanged(buf.name)]


def _nick(s: ClientSession, msg: Message) -> list[Event]:
    if not msg.params:
        return []
    old, new = source_nick(msg), msg.params[0]
    old_key, new_key = s.key(old), s.key(new)
    s.away.renamed(old, new)
    events: list[Event] = []
    if s.is_me(old):
        s.nick = new
        s.login.nick = new
        events.append(s.info(f"You are now known as {new}", SERVER_BUFFER, LineKind.NICK))
    for buf in list(s.buffers.values()):
        if old_key in buf.members:
            _, prefixes = buf.members.pop(old_key)
            buf.members[new_key] = (new, prefixes)
            events.append(s.show(buf.name, LineKind.NICK, f"{old} is now {new}", new, msg))
            events.append(StateChanged(buf.name))
    query = s.buffers.get(old_key)
    if query is not None and not query.is_room and old_key != new_key:
        del s.buffers[old_key]
        query.name = new
        s.buffers[new_key] = query
        s.logs[new_key] = s.logs.pop(old_key, [])
        if s.active == old_key:
            s.active = new_key
        events.append(StateChanged(None))
    return events


def _topic(s: ClientSession, msg: Message) -> list[Event]:
    if len(msg.params) < 2:
        return []
    room, topic = msg.params[0], msg.params[1]
    buf = s.buffer(room)
    assert buf is not None
    buf.topic = topic
    nick = source_nick(msg)
    text = f"{nick} changed the topic to: {topic}" if topic else f"{nick} cleared the topic"
    return [s.show(room, LineKind.TOPIC, text, nick, msg), StateChanged(buf.name)]


def _mode(s: ClientSession, msg: Message) -> list[Event]:
    if len(msg.params) >= 2 and s.is_me(msg.params[0]):  # our user modes (/mode NICK +i)
        return [s.info(f"Your modes changed: {describe_user_modes(msg.params[1])}")]
    if len(msg.params) < 2 or not s.is_channel(msg.params[0]):
        return []
    room = msg.params[0]
    buf = s.buffer(room, create=False)
    if buf is None:
        return []
    changes, _ = parse_channel_modes(msg.params[1], msg.params[2:], s.mode_spec)
    for change in changes:
        if change.letter in s.prefix_modes and change.arg is not None:
            key = s.key(change.arg)
            if key in buf.members:
                nick, prefixes = buf.members[key]
                symbol = s.prefix_symbols[s.prefix_modes.index(change.letter)]
                wanted = set(prefixes) | {symbol} if change.adding else set(prefixes) - {symbol}
                ordered = "".join(p for p in s.prefix_symbols if p in wanted)
                buf.members[key] = (nick, ordered)
    by = source_nick(msg)
    text = f"{by} sets mode {' '.join(msg.params[1:])}"
    return [s.show(room, LineKind.MODE, text, by, msg), StateChanged(buf.name)]


def _invite(s: ClientSession, msg: Message) -> list[Event]:
    if len(msg.params) < 2:
        return []
    by, who, room = source_nick(msg), msg.params[0], msg.params[1]
    if s.is_me(who):
        return [s.info(f"{by} invites you to {room}. Type /join {room} to accept.")]
    return [s.show(room, LineKind.INFO, f"{by} invited {who}", by, msg)]


def _silence(s: ClientSession, msg: Message) -> list[Event]:
    """``SILENCE +mask``/``-mask``: the server confirms a change of one's block list."""
    change = msg.params[0] if msg.params else ""
    if change[:1] == "+":
        return [s.info(f"You will not get private messages or invites from {change[1:]}.")]
    if change[:1] == "-":
        return [s.info(f"{change[1:]} may send you private messages again.")]
    return []


def history_event(s: ClientSession, msg: Message) -> list[Event]:
    """A room event replayed from history (draft/event-playback): one line of scrollback,
    in time order, shown once; the room's members and topic stay as they are now."""
    room = s.history.target_of(msg.tags.get("batch", ""))
    if room is None or not s.is_channel(room) or s.seen_msgid(msg):
        return []
    nick, params = source_nick(msg), msg.params
    if msg.command in ("JOIN", "QUIT") and s.came_back(room, nick):
        return []  # the leaving and coming back of a server restart that we went through too
    last = params[-1] if params else ""
    if msg.command == "JOIN":
        kind, text = LineKind.JOIN, f"{nick} joined"
    elif msg.command in ("PART", "QUIT"):
        reason = last if len(params) > (1 if msg.command == "PART" else 0) and last else ""
        verb = "left" if msg.command == "PART" else "quit"
        kind = LineKind.PART if msg.command == "PART" else LineKind.QUIT
        text = f"{nick} {verb}" + (f" ({reason})" if reason else "")
    elif msg.command == "KICK" and len(params) > 1:
        why = f": {params[2]}" if len(params) > 2 and params[2] != params[1] else ""
        kind, text = LineKind.KICK, f"{params[1]} was kicked by {nick}{why}"
    elif msg.command == "NICK" and params:
        kind, text = LineKind.NICK, f"{nick} is now {last}"
    elif msg.command == "TOPIC" and len(params) > 1:
        kind = LineKind.TOPIC
        text = f"{nick} changed the topic to: {last}" if last else f"{nick} cleared the topic"
    elif msg.command == "MODE" and len(params) > 1:
        kind, text = LineKind.MODE, f"{nick} sets mode {' '.join(params[1:])}"
    else:
        return []
    return [s.show(room, kind, text, nick, msg)]


def _redact(s: ClientSession, msg: Message) -> list[Event]:
    """``REDACT <target> <msgid> [:reason]``: a message we may be showing was deleted.

    Its line stays where it was and says who deleted it and why (the spec asks clients to
    keep deletions visible); a msgid we never showed is ignored, as the spec requires.
    """
    if len(msg.params) < 2:
        return []
    by, target, msgid = source_nick(msg), msg.params[0], msg.params[1]
    reason = msg.params[2] if len(msg.params) > 2 else ""
    other = target if s.is_channel(target) or s.is_me(by) else by
    key = s.key(other)
    log = s.logs.get(key, [])
    for i, line in enumerate(log):
        if line.msgid == msgid and line.kind in _CHAT and not line.deleted:
            text = "message deleted" + ("" if s.key(by) == s.key(line.nick) else f" by {by}")
            log[i] = replace(line, text=text + (f": {reason}" if reason else ""), deleted=True)
            return [Deleted(s.buffers[key].name if key in s.buffers else other, log[i])]
    return []


def _batch(s: ClientSession, msg: Message) -> list[Event]:
    if not msg.params:
        return []
    ref = msg.params[0]
    if ref.startswith("+") and len(msg.params) > 1:
        s.batches[ref[1:]] = msg.params[1]
        s.history.batch_started(ref[1:], msg.params[1], msg.params[2:])
        if msg.params[1] == MULTILINE:
            s.multiline[ref[1:]] = (msg, [])
    elif ref.startswith("-"):
        s.batches.pop(ref[1:], None)
        s.history.batch_ended(ref[1:])
        collected = s.multiline.pop(ref[1:], None)
        if collected is not None:
            combined = combine_multiline(*collected)
            return _privmsg(s, combined) if combined is not None else []
    return []


def combine_multiline(opening: Message, lines: list[Message]) -> Message | None:
    """A draft/multiline batch as the one message it is: its lines joined by line feeds,
    or directly where a line continues the one before (``draft/multiline-concat``).

    The message takes the opening line's tags (msgid, time, account, and the outer
    ``batch`` when it came inside a chathistory batch), so it is shown, de-duplicated and
    paged like any other message.
    """
    if not lines or len(opening.params) < 3:
        return None
    text = ""
    for i, line in enumerate(lines):
        if i and CONCAT not in line.tags:
            text += "\n"
        text += line.params[1] if len(line.params) > 1 else ""
    return Message(lines[0].command, (opening.params[2], text), opening.source, dict(opening.tags))


def _standard_reply(s: ClientSession, msg: Message) -> list[Event]:
    """FAIL/WARN/NOTE ``<command> <code> [context...] :<description>``."""
    if msg.command == "FAIL" and msg.params[:1] == ("REGISTER",):
        return s.login.on_register_fail(msg)
    if msg.command == "FAIL" and msg.params[:1] == ("CHATHISTORY",):
        s.history.failed(msg)
        return []  # no scrollback for this room; nothing to trouble the user with
    if msg.command == "FAIL" and msg.params[:1] == ("MARKREAD",):
        return []  # the read place is kept here all the same; nothing for the user to do
    kind = LineKind.ERROR if msg.command == "FAIL" else LineKind.INFO
    return [s.info(msg.params[-1] if msg.params else msg.command, kind=kind)]


def numeric(s: ClientSession, msg: Message) -> list[Event]:
    """Replies by number; pre-welcome nick errors end the login attempt."""
    if not s.registered and msg.command in (n.ERR_NICKNAMEINUSE, n.ERR_ERRONEUSNICKNAME):
        return s.login.nick_rejected(msg)
    if msg.command == n.ERR_YOUREBANNEDCREEP:
        return s.login.fail("banned", f"You are banned from this server: {msg.params[-1]}")
    return replies.numeric(s, msg)


HANDLERS: dict[str, Callable[[ClientSession, Message], list[Event]]] = {
    "PING": _ping,
    "PRIVMSG": _privmsg,
    "NOTICE": _privmsg,
    "JOIN": _join,
    "PART": _part,
    "QUIT": _quit,
    "KICK": _kick,
    "NICK": _nick,
    "TOPIC": _topic,
    "MODE": _mode,
    "INVITE": _invite,
    "SILENCE": _silence,
    "REDACT": _redact,
    "BATCH": _batch,
    "AWAY": lambda s, m: s.away.on_away(m),
    "FAIL": _standard_reply,
    "WARN": _standard_reply,
    "NOTE": _standard_reply,
}
