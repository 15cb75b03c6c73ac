"""ChanServ: registering rooms to their founders (``/msg ChanServ ...``, ``/CS``).

A service, not a verb, because ``REGISTER`` already means account registration (IRCv3
``draft/account-registration``); ``REGISTER #room`` there would be ambiguous. Like
NickServ, ChanServ is not a session: messages to it are diverted by messaging.py.
Rules every subcommand keeps:

- every answer is a NOTICE from ``ChanServ!ChanServ@services.``;
- registering needs a logged-in account that is op in the room; the account becomes the
  founder, who (with the accounts on the room's op list) gets +o on every join;
- a founder manages the room's op list and may drop the registration; an operator with
  the ``channels`` capability may do whatever a founder may;
- every change is saved and written to the audit log in one transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from chatroom.irc.message import Message, format_line
from chatroom.server.core import chanreg, sanctions
from chatroom.server.core.accounts import SERVICE_HOST
from chatroom.server.core.bans import format_time
from chatroom.server.core.channel import Channel
from chatroom.server.core.dispatch import command
from chatroom.server.core.session import Session
from chatroom.server.core.world import World
from chatroom.server.store.base import DeleteChannel, PutChannel, RegisteredChannel

CHANSERV = "ChanServ"
SOURCE = f"{CHANSERV}!{CHANSERV}@{SERVICE_HOST}"
SubHandler = Callable[[World, Session, list[str]], None]


@dataclass(frozen=True, slots=True)
class SubCommand:
    handler: SubHandler
    syntax: str
    summary: str


SUBCOMMANDS: dict[str, SubCommand] = {}


def subcommand(name: str, syntax: str, summary: str) -> Callable[[SubHandler], SubHandler]:
    def register(handler: SubHandler) -> SubHandler:
        SUBCOMMANDS[name] = SubCommand(handler, syntax, summary)
        return handler

    return register


def is_chanserv(world: World, target: str) -> bool:
    """``ChanServ`` or ``ChanServ@services.``; the first-letter test keeps the hot path cheap."""
    if target[:1] not in ("C", "c"):
        return False
    name, _, host = world.fold(target).partition("@")
    return name == world.fold(CHANSERV) and host in ("", SERVICE_HOST, SERVICE_HOST[:-1])


def _notice(world: World, session: Session, text: str) -> None:
    if not session.closed:
        session.send(format_line(SOURCE, "NOTICE", session.nick, text))


def message(world: World, session: Session, text: str, *, quiet: bool = False) -> None:
    """A PRIVMSG (or a NOTICE, which gets no complaint back) sent to ChanServ."""
    words = text.split()
    sub = SUBCOMMANDS.get(words[0].upper()) if words else None
    if sub is None:
        if not quiet:
            _notice(world, session, f"Unknown command. Send /msg {CHANSERV} HELP for a list.")
        return
    sub.handler(world, session, words[1:])


@command("CHANSERV")
def chanserv(world: World, session: Session, msg: Message) -> None:
    """CHANSERV <command> [arguments]  (the same as /msg ChanServ <command> [arguments])"""
    message(world, session, " ".join(msg.params))


@command("CS")
def cs(world: World, session: Session, msg: Message) -> None:
    """CS <command> [arguments]  (short for CHANSERV)"""
    message(world, session, " ".join(msg.params))


def _room(world: World, session: Session, args: list[str], name: str) -> Channel | None:
    """The room named by the first argument, after checking the argument count."""
    if not args or not args[0].startswith("#"):
        _notice(world, session, f"Syntax: {SUBCOMMANDS[name].syntax}")
        return None
    channel = world.find_channel(args[0])
    if channel is None:
        _notice(world, session, f"{args[0]} does not exist.")
    return channel


def _registered(world: World, session: Session, channel: Channel) -> RegisteredChannel | None:
    if channel.registration is None:
        _notice(world, session, f"{channel.name} is not registered.")
    return channel.registration


def _may_manage(world: World, session: Session, channel: Channel) -> bool:
    if chanreg.is_founder(world, channel, session) or sanctions.may(world, session, "channels"):
        return True
    _notice(world, session, f"Only the founder of {channel.name} may do that.")
    return False


# --------------------------------------------------------------------------- subcommands


@subcommand("REGISTER", "REGISTER <#room>", "Register a room you are op in to your account.")
def _register(world: World, session: Session, args: list[str]) -> None:
    channel = _room(world, session, args, "REGISTER")
    if channel is None:
        return
    if session.account is None:
        _notice(world, session, "Log in to your account first (SASL, or /msg NickServ IDENTIFY).")
        return
    if channel.registration is not None:
        founder = channel.registration.founder
        _notice(world, session, f"{channel.name} is already registered to {founder}.")
        return
    if not channel.is_op(session) and not sanctions.may(world, session, "channels"):
        _notice(world, session, f"You must be an op in {channel.name} to register it.")
        return
    now = world.clock()
    blank = RegisteredChannel(world.fold(channel.name), channel.name, session.account, now)
    record = chanreg.record_of(channel, blank)
    chanreg.set_registration(world, channel, record)
    sanctions.audit(
        world,
        sanctions.actor_name(session),
        "channel.register",
        channel.name,
        changes=[PutChannel(record)],
    )
    _notice(
        world,
        session,
        f"{channel.name} is now registered to {session.account}: its topic, modes and lists "
        "are kept, and you get ops when you join logged in.",
    )


@subcommand("DROP", "DROP <#room>", "Unregister a room (founder or operator).")
def _drop(world: World, session: Session, args: list[str]) -> None:
    channel = _room(world, session, args, "DROP")
    if channel is None or _registered(world, session, channel) is None:
        return
    if not _may_manage(world, session, channel):
        return
    key = world.fold(channel.name)
    name = channel.name
    chanreg.set_registration(world, channel, None)
    sanctions.audit(
        world, sanctions.actor_name(session), "channel.drop", name, changes=[DeleteChannel(key)]
    )
    _notice(world, session, f"{name} is no longer registered.")


@subcommand("INFO", "INFO <#room>", "Who founded a room, when, and its op list.")
def _info(world: World, session: Session, args: list[str]) -> None:
    channel = _room(world, session, args, "INFO")
    if channel is None:
        return
    record = _registered(world, session, channel)
    if record is None:
        return
    _notice(world, session, f"{channel.name} is registered to {record.founder}.")
    _notice(world, session, f"Registered: {format_time(record.registered_at)}")
    _notice(world, session, f"Ops by account: {', '.join(record.ops) or '(none)'}")


@subcommand(
    "ACCESS",
    "ACCESS <#room> LIST | ADD <account> | DEL <account>",
    "Show or change the accounts that get ops in a registered room.",
)
def _access(world: World, session: Session, args: list[str]) -> None:
    channel = _room(world, session, args, "ACCESS")
    if channel is None:
        return
    record = _registered(world, session, channel)
    if record is None:
        return
    action = args[1].upper() if len(args) > 1 else "LIST"
    if action == "LIST":
        _notice(world, session, f"Founder of {channel.name}: {record.founder}")
        _notice(world, session, f"Ops by account: {', '.join(record.ops) or '(none)'}")
        return
    if action not in ("ADD", "DEL") or len(args) != 3:
        _notice(world, session, f"Syntax: {SUBCOMMANDS['ACCESS'].syntax}")
        return
    if not _may_manage(world, session, channel):
        return
    account = world.accounts.get(world.fold(args[2]))
    name = account.name if account is not None else args[2]
    others = tuple(op for op in record.ops if world.fold(op) != world.fold(name))
    if action == "ADD":
        if account is None:
            _notice(world, session, f"There is no account named {args[2]}.")
            return
        ops = (*others, name)
    else:
        if len(others) == len(record.ops):
            _notice(world, session, f"{name} is not on the op list of {channel.name}.")
            return
        ops = others
    updated = chanreg.record_of(channel, replace(record, ops=ops))
    channel.registration = updated
    verb = "added to" if action == "ADD" else "removed from"
    sanctions.audit(
        world,
        sanctions.actor_name(session),
        f"channel.access.{action.lower()}",
        f"{channel.name} {name}",
        changes=[PutChannel(updated)],
    )
    _notice(world, session, f"{name} {verb} the op list of {channel.name}.")


@subcommand("OP", "OP <#room>", "Get the ops your account is entitled to, now.")
def _op(world: World, session: Session, args: list[str]) -> None:
    channel = _room(world, session, args, "OP")
    if channel is None or _registered(world, session, channel) is None:
        return
    if session not in channel.members:
        _notice(world, session, f"Join {channel.name} first.")
        return
    if not chanreg.join_status(world, channel, session):
        _notice(world, session, f"Your account has no ops in {channel.name}.")
        return
    if not channel.is_op(session):
        channel.set_status(session, "o", True)
        world.fanout(channel.members, SOURCE, "MODE", channel.name, "+o", session.nick)


@subcommand("HELP", "HELP", "This list.")
def _help(world: World, session: Session, args: list[str]) -> None:
    _notice(world, session, f"{CHANSERV} keeps rooms registered to their founders. Commands:")
    for sub in SUBCOMMANDS.values():
        _notice(world, session, f"  {sub.syntax} - {sub.summary}")
