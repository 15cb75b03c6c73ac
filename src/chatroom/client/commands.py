"""Slash commands: what the user types, turned into IRC lines.

One table drives execution, ``/help`` and Tab completion, so they cannot disagree.
Moderation commands are sent whatever our prefix looks like here: the server decides,
and its refusal comes back as a plain sentence (see ``replies``). When we can already tell
the user lacks the rights, we say so at once instead of waiting for the refusal.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from chatroom.client.blocks import MULTILINE, BlockRefused, block_lines, trimmed
from chatroom.client.modes import run_mode
from chatroom.client.session import ClientSession
from chatroom.client.state import SERVER_BUFFER, Event, LineKind, StateChanged
from chatroom.irc.splitting import split_text, text_budget

__all__ = ["COMMANDS", "execute"]

Handler = Callable[[ClientSession, str, list[str], str], list[Event]]


@dataclass(frozen=True, slots=True)
class Command:
    usage: str
    help: str
    run: Handler
    min_args: int = 0


class QuitRequested(Exception):  # noqa: N818 (a signal, not an error)
    """Raised by /quit so the UI can close the connection and exit."""


def _room_or_arg(s: ClientSession, buffer: str, args: list[str]) -> tuple[str, list[str]]:
    """Commands act on the current room unless the first argument names one."""
    if args and s.is_channel(args[0]):
        return args[0], args[1:]
    return buffer, args


def _need_room(s: ClientSession, room: str, verb: str) -> list[Event] | None:
    if not s.is_channel(room):
        return [s.info(f"/{verb} works in a room: switch to one, or name it first.", None,
                       LineKind.ERROR)]  # fmt: skip
    return None


def _say(s: ClientSession, target: str, text: str, action: bool = False) -> list[Event]:
    if target == SERVER_BUFFER:
        return [s.info("This is the server window: /join a room or /msg someone.",
                       kind=LineKind.ERROR)]  # fmt: skip
    if "\n" in text and not action:
        return _say_block(s, target, text)
    # A text too long for one line goes as several (the server would cut it).
    wrapper = len("\x01ACTION \x01") if action else 0
    pieces = split_text(text, text_budget(s.nick, "PRIVMSG", target) - wrapper)
    for piece in pieces:
        s.send("PRIVMSG", target, f"\x01ACTION {piece}\x01" if action else piece)
    if "echo-message" in s.caps:
        return []  # the server echoes it back, with its own timestamp
    kind = LineKind.ACTION if action else LineKind.MESSAGE
    return [s.show(target, kind, piece, s.nick) for piece in pieces]


def _say_block(s: ClientSession, target: str, text: str) -> list[Event]:
    """Several lines (a paste) as one message: see ``client/blocks.py``."""
    lines = trimmed(text)
    if len(lines) < 2:
        return _say(s, target, lines[0]) if lines else []
    offered = s.login.available.get(MULTILINE)
    try:
        out = block_lines(s.nick, target, lines, s.caps, offered)
    except BlockRefused as refused:
        return [s.info(str(refused), target, LineKind.ERROR)]
    s.send_lines(out)
    if "echo-message" in s.caps:
        return []
    if MULTILINE in s.caps:
        return [s.show(target, LineKind.MESSAGE, "\n".join(lines), s.nick)]
    return [s.show(target, LineKind.MESSAGE, line, s.nick) for line in lines if line.strip()]


def _has_left(s: ClientSession, room: str) -> bool:
    """A room's window stays after /part or a kick, but we are no longer in the room."""
    buf = s.buffer(room, create=False)
    return s.registered and buf is not None and buf.is_room and not buf.joined


def _left_room(s: ClientSession, buffer: str) -> list[Event] | None:
    """Typing in a room after /part (or a kick) would only earn the server's "no such
    room" or "not delivered": say why instead, and how to go back or close it."""
    if not _has_left(s, buffer):
        return None
    return [s.info(f"You are not in {buffer} any more: /join {buffer} to go back, "
                   "or /part to close it.", buffer, LineKind.ERROR)]  # fmt: skip


def say(s: ClientSession, buffer: str, text: str) -> list[Event]:
    """A plain line typed in a buffer."""
    return _left_room(s, buffer) or _say(s, buffer, text)


def _join(s: ClientSession, buffer: str, args: list[str], rest: str) -> list[Event]:
    """Join the rooms named; a room one is already in is shown (the server would answer
    nothing, and the user asked to go there), as WeeChat and Irssi do."""
    rooms = [r if s.is_channel(r) else f"#{r}" for r in args[0].split(",")]
    joined = [r for r in rooms if (b := s.buffer(r, create=False)) is not None and b.joined]
    wanted = [r for r in rooms if r not in joined]
    if wanted:
        s.send("JOIN", ",".join(wanted), *args[1:2])
    if joined and rooms[0] in joined:
        s.set_active(rooms[0])
        return [StateChanged(None)]
    return []


def _part(s: ClientSession, buffer: str, args: list[str], rest: str) -> list[Event]:
    room, more = _room_or_arg(s, buffer, args)
    if not s.is_channel(room) or _has_left(s, room):
        s.close_buffer(room)  # a private chat, or a room already left: its window closes
        return [StateChanged(None)]
    s.send("PART", room, *([" ".join(more)] if more else []))
    return []


def _msg(s: ClientSession, buffer: str, args: list[str], rest: str) -> list[Event]:
    return _say(s, args[0], rest.partition(" ")[2])


def _query(s: ClientSession, buffer: str, args: list[str], rest: str) -> list[Event]:
    s.buffer(args[0])
    s.set_active(args[0])
    events: list[Event] = [StateChanged(None)]
    if len(args) > 1:
        events += _say(s, args[0], rest.partition(" ")[2])
    return events


def _me(s: ClientSession, buffer: str, args: list[str], rest: str) -> list[Event]:
    return _left_room(s, buffer) or _say(s, buffer, rest, action=True)


def _nick(s: ClientSession, buffer: str, args: list[str], rest: str) -> list[Event]:
    if len(args) > 1:  # IRC would take the first word only, silently
        return [s.info("A nickname is one word, without spaces: /nick NEWNICK", None,
                       LineKind.ERROR)]  # fmt: skip
    s.send("NICK", args[0])
    return []


def _topic(s: ClientSession, buffer: str, args: list[str], rest: str) -> list[Event]:
    room, more = _room_or_arg(s, buffer, args)
    if (err := _need_room(s, room, "topic")) is not None:
        return err
    s.send("TOPIC", room, *([" ".join(more)] if more else []))
    return []


def _away(s: ClientSession, buffer: str, args: list[str], rest: str) -> list[Event]:
    s.send("AWAY", *([rest] if rest else []))
    return []


def _simple(verb: str) -> Handler:
    def run(s: ClientSession, buffer: str, args: list[str], rest: str) -> list[Event]:
        s.send(verb, *args)
        return []

    return run


def _names(s: ClientSession, buffer: str, args: list[str], rest: str) -> list[Event]:
    room, _ = _room_or_arg(s, buffer, args)
    if (err := _need_room(s, room, "names")) is not None:
        return err
    s._names_asked.add(room.lower())
    s.send("NAMES", room)
    return []


def _invite(s: ClientSession, buffer: str, args: list[str], rest: str) -> list[Event]:
    room = args[1] if len(args) > 1 else buffer
    if (err := _need_room(s, room, "invite")) is not None:
        return err
    s.send("INVITE", args[0], room)
    return []


def _lacks_op(s: ClientSession, room: str, verb: str) -> list[Event] | None:
    """Say at once when our own prefix shows we cannot moderate; the server still decides."""
    buf = s.buffer(room, create=False)
    if buf is None or not buf.joined:
        return [s.info(f"You are not in {room}.", kind=LineKind.ERROR)]
    me = buf.members.get(s.key(s.nick))
    ops = s.prefix_symbols[: max(1, s.prefix_symbols.find("@") + 1)]
    if me is not None and not set(me[1]) & set(ops):
        text = f"You need to be a room operator (@) in {room} to {verb}. Ask an operator there."
        return [s.info(text, kind=LineKind.ERROR)]
    return None


def _mask(target: str) -> str:
    return target if any(c in target for c in "!@*:") else f"{target}!*@*"


def _moderate(verb: str, mode: str, mask: bool) -> Handler:
    def run(s: ClientSession, buffer: str, args: list[str], rest: str) -> list[Event]:
        room, targets = _room_or_arg(s, buffer, args)
        if (err := _need_room(s, room, verb)) is not None:
            return err
        if not targets:
            return [s.info(f"Usage: {COMMANDS[verb].usage}", kind=LineKind.ERROR)]
        if (err := _lacks_op(s, room, verb)) is not None:
            return err
        params = [_mask(t) if mask else t for t in targets]
        s.send("MODE", room, mode[0] + mode[1] * len(params), *params)
        return []

    return run


def _kick(s: ClientSession, buffer: str, args: list[str], rest: str) -> list[Event]:
    room, more = _room_or_arg(s, buffer, args)
    if (err := _need_room(s, room, "kick")) is not None:
        return err
    if not more:
        return [s.info(f"Usage: {COMMANDS['kick'].usage}", kind=LineKind.ERROR)]
    if (err := _lacks_op(s, room, "kick")) is not None:
        return err
    s.send("KICK", room, more[0], " ".join(more[1:]) or "Kicked")
    return []


_CHAT = (LineKind.MESSAGE, LineKind.ACTION, LineKind.NOTICE)


def _delete(s: ClientSession, buffer: str, args: list[str], rest: str) -> list[Event]:
    """Delete (IRCv3 REDACT) the last message here of ours, or of NICK for operators.

    The first word names whose message only if that nick said something here; otherwise
    the whole text is the reason, given to the server as is (no default reason, as the
    spec asks).
    """
    if "draft/message-redaction" not in s.caps:
        return [s.info("This server cannot delete messages.", kind=LineKind.ERROR)]
    if buffer == SERVER_BUFFER:
        return [s.info("/delete works in a room or a private chat.", kind=LineKind.ERROR)]
    log = [line for line in s.logs.get(s.key(buffer), []) if line.kind in _CHAT]
    who, reason = s.nick, rest
    if args and any(s.key(line.nick) == s.key(args[0]) for line in log):
        who, reason = args[0], rest.partition(" ")[2].strip()
    mine = s.is_me(who)
    if not mine and not s.is_channel(buffer):
        return [s.info("In a private chat you can delete only your own messages.",
                       kind=LineKind.ERROR)]  # fmt: skip
    if not mine and (err := _lacks_op(s, buffer, "delete their messages")) is not None:
        return err
    line = next(
        (x for x in reversed(log) if s.key(x.nick) == s.key(who) and x.msgid and not x.deleted),
        None,
    )
    if line is None:
        whose = "yours" if mine else f"{who}'s"
        return [s.info(f"There is no message of {whose} here to delete.", kind=LineKind.ERROR)]
    s.send("REDACT", buffer, line.msgid, *([reason] if reason else []))
    return []


def _help(s: ClientSession, buffer: str, args: list[str], rest: str) -> list[Event]:
    """One line per command, ``usage — what it does``: no padded columns, which a narrow
    terminal would break apart; a wrapped line goes on under its own text."""
    if args and args[0].lstrip("/").lower() in COMMANDS:
        cmd = COMMANDS[args[0].lstrip("/").lower()]
        return [s.info(f"{cmd.usage} — {cmd.help}")]
    lines = [s.info("Commands (Tab completes nicks and commands; /help COMMAND for one):")]
    lines += [s.info(f"{c.usage} — {c.help}") for c in COMMANDS.values()]
    return list(lines)


def _knock(s: ClientSession, buffer: str, args: list[str], rest: str) -> list[Event]:
    text = rest[len(args[0]) :].strip().removeprefix(":")  # "/knock #r :text" works too
    s.send("KNOCK", args[0], *([text] if text else []))
    return []


def _quote(s: ClientSession, buffer: str, args: list[str], rest: str) -> list[Event]:
    try:
        s.send_raw(rest)
    except ValueError as err:
        return [s.info(f"Not sent: {err}.", kind=LineKind.ERROR)]
    return []


def _quit(s: ClientSession, buffer: str, args: list[str], rest: str) -> list[Event]:
    s.send("QUIT", rest or "Leaving")
    raise QuitRequested(rest)


COMMANDS: dict[str, Command] = {
    "join": Command("/join #room [key]", "enter a room (made if it does not exist)", _join, 1),
    "part": Command(
        "/part [#room] [reason]",
        "leave this room; in a room left or a private chat, close it",
        _part,
    ),
    "msg": Command("/msg NICK|#room TEXT", "send a message without switching window", _msg, 2),
    "query": Command("/query NICK [TEXT]", "open a private chat with NICK", _query, 1),
    "me": Command("/me ACTION", "say what you are doing (* you waves)", _me, 1),
    "nick": Command("/nick NEWNICK", "change your nickname", _nick, 1),
    "topic": Command("/topic [#room] [TEXT]", "show or set the room's topic", _topic),
    "away": Command("/away [MESSAGE]", "mark yourself away; without a message, back", _away),
    "whois": Command("/whois NICK", "who is NICK: account, rooms, idle time", _simple("WHOIS"), 1),
    "names": Command("/names [#room]", "list who is in the room", _names),
    "list": Command("/list", "list the rooms on this server", _simple("LIST")),
    "invite": Command("/invite NICK [#room]", "invite NICK to this room", _invite, 1),
    "kick": Command("/kick NICK [reason]", "remove NICK from this room (operators)", _kick, 1),
    "ban": Command(
        "/ban NICK|MASK", "ban from this room (operators)", _moderate("ban", "+b", True)
    ),
    "unban": Command("/unban NICK|MASK", "lift a ban", _moderate("unban", "-b", True)),
    "mute": Command("/mute NICK|MASK", "stop NICK talking here", _moderate("mute", "+q", True)),
    "unmute": Command("/unmute NICK|MASK", "let NICK talk again", _moderate("unmute", "-q", True)),
    "op": Command("/op NICK", "make NICK a room operator", _moderate("op", "+o", False)),
    "deop": Command("/deop NICK", "take operator status away", _moderate("deop", "-o", False)),
    "voice": Command(
        "/voice NICK", "let NICK talk in a moderated room", _moderate("voice", "+v", False)
    ),
    "mode": Command(
        "/mode [#room|NICK] [MODES]",
        "show or change modes: /mode +m, /mode #room +b MASK",
        run_mode,
    ),
    "delete": Command(
        "/delete [NICK] [reason]", "delete your last message here (operators: NICK's)", _delete
    ),
    "redact": Command("/redact [NICK] [reason]", "the same as /delete", _delete),
    "knock": Command(
        "/knock #room [TEXT]", "ask the operators of a closed room to invite you", _knock, 1
    ),
    "silence": Command(
        "/silence [+MASK|-MASK]",
        "your block list: no private messages or invites from them",
        lambda s, buffer, args, rest: _quote(s, buffer, args, f"SILENCE {rest}".strip()),
    ),
    "quote": Command(
        "/quote LINE",
        "send a line of IRC as it is (/raw too; so does any other /command)",
        _quote,
        1,
    ),
    "help": Command("/help [command]", "this list", _help),
    "quit": Command("/quit [message]", "leave the server and exit", _quit),
}


ALIASES = {"raw": "quote", "j": "join", "leave": "part", "close": "part"}
"""Other names typed for a command, as in WeeChat and Irssi (and the web client); not in
/help nor offered by Tab, where "/j" would come before "/join"."""


def execute(s: ClientSession, buffer: str, text: str) -> list[Event]:
    """Run what the user typed in ``buffer``: a /command, or a message (``//`` escapes)."""
    if "\n" in text:
        return say(s, buffer, text)  # a block of lines is a message, whatever it starts with
    if not text.startswith("/") or text.startswith("//"):
        return say(s, buffer, text[1:] if text.startswith("//") else text)
    name, _, rest = text[1:].partition(" ")
    rest = rest.strip()
    cmd = COMMANDS.get(ALIASES.get(name.lower(), name.lower()))
    if cmd is None:
        # As other IRC clients do: a command this client does not know goes to the server
        # (/knock, /silence, /whowas, /oper...), which answers 421 to one it does not know.
        return _quote(s, buffer, [], f"{name.upper()} {rest}".strip())
    args = rest.split()
    if len(args) < cmd.min_args:
        return [s.info(f"Usage: {cmd.usage}", kind=LineKind.ERROR)]
    return cmd.run(s, buffer, args, rest)
