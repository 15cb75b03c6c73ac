"""ChanServ: registering rooms to their founders (``/msg ChanServ ...``, ``/CS``).

A service, not a verb, because ``REGISTER`` already means account registration (IRCv3
``draft/account-registration``); ``REGISTER #room`` there would be ambiguous. Like
NickServ, ChanServ is a ``Service`` (core/services.py): messages to it are diverted by
messaging.py, and this module holds only its subcommands. Rules every subcommand keeps:

- every answer is a NOTICE from ``ChanServ!ChanServ@services.``;
- registering needs a logged-in account that is op in the room; the account becomes the
  founder, who (with the accounts on the room's op list) gets +o on every join;
- a founder manages the room's op list and may drop the registration; an operator with
  the ``channels`` capability may do whatever a founder may;
- every change is saved and written to the audit log in one transaction, and confirmed
  only after the commit (``core/acks.py``); a refused write changes nothing.
"""

from __future__ import annotations

from dataclasses import replace

from chatroom.irc.packing import pack_words
from chatroom.server.core import acks, chanreg, events, opers
from chatroom.server.core.bans import format_time
from chatroom.server.core.channel import Channel
from chatroom.server.core.context import Context
from chatroom.server.core.services import Service
from chatroom.server.core.session import Session
from chatroom.server.store.base import (
    DeleteChannel,
    RegisterChannel,
    RegisteredChannel,
    UpdateChannel,
)

CHANSERV = "ChanServ"
SERVICE = Service(CHANSERV, about=f"{CHANSERV} keeps rooms registered to their founders.")
SERVICE.aliases("CHANSERV", "CS")
SOURCE = SERVICE.source
subcommand = SERVICE.subcommand
_notice = SERVICE.notice
NOT_SAVED = f"the change could not be saved ({acks.NOT_SAVED}). Try again."


def _room(ctx: Context, session: Session, args: list[str], name: str) -> Channel | None:
    """The room named by the first argument, after checking the argument count."""
    if not args or not args[0].startswith("#"):
        SERVICE.usage(ctx, session, name)
        return None
    channel = ctx.rooms.find(args[0])
    if channel is None:
        _notice(ctx, session, f"{args[0]} does not exist.")
    return channel


def _registered(ctx: Context, session: Session, channel: Channel) -> RegisteredChannel | None:
    if channel.registration is None:
        _notice(ctx, session, f"{channel.name} is not registered.")
    return channel.registration


# A registered room is permanent (kept in memory and in the store with nobody in it):
# without a bound, one account could register room after room for as long as it likes.
ROOMS_PER_FOUNDER = 100
# ACCESS LIST's account names per NOTICE line, in bytes: room for the prefix and room name.
_OPS_BUDGET = 300


def _founded_by(ctx: Context, account: str) -> int:
    """How many rooms ``account`` is the founder of (a rare command: one walk is fine)."""
    key = ctx.fold(account)
    return sum(
        1
        for channel in ctx.rooms
        if channel.registration is not None and ctx.fold(channel.registration.founder) == key
    )


def _may_manage(ctx: Context, session: Session, channel: Channel) -> bool:
    if chanreg.is_founder(ctx, channel, session) or opers.may(ctx, session, "channels"):
        return True
    _notice(ctx, session, f"Only the founder of {channel.name} may do that.")
    return False


# --------------------------------------------------------------------------- subcommands


@subcommand("REGISTER", "REGISTER <#room>", "Register a room you are op in to your account.")
def _register(ctx: Context, session: Session, args: list[str]) -> None:
    channel = _room(ctx, session, args, "REGISTER")
    if channel is None:
        return
    if session.account is None:
        _notice(ctx, session, "Log in to your account first (SASL, or /msg NickServ IDENTIFY).")
        return
    if channel.registration is not None:
        founder = chanreg.founder_text(channel.registration.founder)
        _notice(ctx, session, f"{channel.name} is already registered to {founder}.")
        return
    if not channel.is_op(session.owner) and not opers.may(ctx, session, "channels"):
        _notice(ctx, session, f"You must be an op in {channel.name} to register it.")
        return
    if _founded_by(ctx, session.account) >= ROOMS_PER_FOUNDER and not opers.may(
        ctx, session, "channels"
    ):
        _notice(ctx, session, f"An account may register at most {ROOMS_PER_FOUNDER} rooms.")
        return
    now = ctx.clock()
    blank = RegisteredChannel(ctx.fold(channel.name), channel.name, session.account, now)
    record = chanreg.record_of(channel, blank)
    chanreg.set_registration(ctx, channel, record)
    founder = session.account

    def saved() -> None:
        _notice(
            ctx,
            session,
            f"{channel.name} is now registered to {founder}: its topic, modes and lists "
            "are kept, and you get ops when you join logged in.",
        )

    def take_back() -> None:
        current = channel.registration
        if (
            current is not None
            and current.registered_at == record.registered_at
            and ctx.fold(current.founder) == ctx.fold(record.founder)
        ):
            chanreg.set_registration(ctx, channel, None)

    def failed() -> None:
        take_back()
        _notice(ctx, session, f"{channel.name} is not registered: {NOT_SAVED}")

    def exists() -> None:
        # Registered meanwhile by another server sharing the database: its registration
        # stands (it reaches this one as an outside change), never overwritten by ours.
        take_back()
        _notice(ctx, session, f"{channel.name} is already registered.")

    acks.audit_then_answer(
        ctx,
        session,
        "channel.register",
        channel.name,
        [RegisterChannel(record)],
        saved=saved,
        failed=failed,
        exists=exists,
    )


@subcommand("DROP", "DROP <#room>", "Unregister a room (founder or operator).")
def _drop(ctx: Context, session: Session, args: list[str]) -> None:
    channel = _room(ctx, session, args, "DROP")
    record = None if channel is None else _registered(ctx, session, channel)
    if channel is None or record is None or not _may_manage(ctx, session, channel):
        return
    key = ctx.fold(channel.name)
    name = channel.name

    def saved() -> None:
        current = ctx.rooms.get(key)
        # The same registration (not one made after another DROP was saved meanwhile).
        if (
            current is not None
            and current.registration is not None
            and current.registration.registered_at == record.registered_at
        ):
            chanreg.set_registration(ctx, current, None)
        _notice(ctx, session, f"{name} is no longer registered.")

    def failed() -> None:
        _notice(ctx, session, f"{name} is still registered: {NOT_SAVED}")

    acks.audit_then_answer(
        ctx, session, "channel.drop", name, [DeleteChannel(key)], saved=saved, failed=failed
    )


@subcommand("INFO", "INFO <#room>", "Who founded a room, when, and its op list.")
def _info(ctx: Context, session: Session, args: list[str]) -> None:
    channel = _room(ctx, session, args, "INFO")
    if channel is None:
        return
    record = _registered(ctx, session, channel)
    if record is None:
        return
    _notice(
        ctx, session, f"{channel.name} is registered to {chanreg.founder_text(record.founder)}."
    )
    _notice(ctx, session, f"Registered: {format_time(record.registered_at)}")
    _notice(ctx, session, f"Ops by account: {', '.join(record.ops) or '(none)'}")


@subcommand(
    "ACCESS",
    "ACCESS <#room> LIST | ADD <account> | DEL <account>",
    "Show or change the accounts that get ops in a registered room.",
)
def _access(ctx: Context, session: Session, args: list[str]) -> None:
    channel = _room(ctx, session, args, "ACCESS")
    if channel is None:
        return
    record = _registered(ctx, session, channel)
    if record is None:
        return
    action = args[1].upper() if len(args) > 1 else "LIST"
    if action == "LIST":
        _notice(ctx, session, f"Founder of {channel.name}: {chanreg.founder_text(record.founder)}")
        for names in pack_words(record.ops, _OPS_BUDGET, ", ") or ["(none)"]:
            _notice(ctx, session, f"Ops by account: {names}")
        return
    if action not in ("ADD", "DEL") or len(args) != 3:
        SERVICE.usage(ctx, session, "ACCESS")
        return
    if not _may_manage(ctx, session, channel):
        return
    account = ctx.accounts.get(ctx.fold(args[2]))
    name = account.name if account is not None else args[2]
    others = tuple(op for op in record.ops if ctx.fold(op) != ctx.fold(name))
    if action == "ADD":
        if account is None:
            _notice(ctx, session, f"There is no account named {args[2]}.")
            return
        most = ctx.settings.limits.list_entries
        if len(others) == len(record.ops) and len(others) >= most:
            _notice(ctx, session, f"The op list of {channel.name} is full: at most {most}.")
            return
        ops = (*others, name)
    else:
        if len(others) == len(record.ops):
            _notice(ctx, session, f"{name} is not on the op list of {channel.name}.")
            return
        ops = others
    updated = chanreg.record_of(channel, replace(record, ops=ops))
    channel.registration = updated
    verb = "added to" if action == "ADD" else "removed from"

    def saved() -> None:
        _notice(ctx, session, f"{name} {verb} the op list of {channel.name}.")

    def failed() -> None:
        _undo_access(ctx, channel, name, added=action == "ADD")
        _notice(ctx, session, f"The op list of {channel.name} is unchanged: {NOT_SAVED}")

    acks.audit_then_answer(
        ctx,
        session,
        f"channel.access.{action.lower()}",
        f"{channel.name} {name}",
        [UpdateChannel(updated)],
        saved=saved,
        failed=failed,
    )


def _undo_access(ctx: Context, channel: Channel, name: str, *, added: bool) -> None:
    """Take back one op list change the store refused, keeping any made since."""
    current = channel.registration
    if current is None:
        return  # dropped meanwhile: no list left to correct
    folded = ctx.fold(name)
    listed = any(ctx.fold(op) == folded for op in current.ops)
    if added and listed:
        ops = tuple(op for op in current.ops if ctx.fold(op) != folded)
    elif not added and not listed:
        ops = (*current.ops, name)
    else:
        return
    channel.registration = replace(current, ops=ops)


@subcommand("OP", "OP <#room>", "Get the ops your account is entitled to, now.")
def _op(ctx: Context, session: Session, args: list[str]) -> None:
    channel = _room(ctx, session, args, "OP")
    if channel is None or _registered(ctx, session, channel) is None:
        return
    if session.owner not in channel.members:
        _notice(ctx, session, f"Join {channel.name} first.")
        return
    if not chanreg.join_status(ctx, channel, session):
        _notice(ctx, session, f"Your account has no ops in {channel.name}.")
        return
    if not channel.is_op(session.owner):
        channel.set_status(session.owner, "o", True)
        events.announce(ctx, channel, SOURCE, "MODE", "+o", session.nick)


@subcommand("HELP", "HELP", "This list.")
def _help(ctx: Context, session: Session, args: list[str]) -> None:
    """ChanServ's list keeps its registration order and shows every syntax in full."""
    _notice(ctx, session, f"{SERVICE.about} Commands:")
    for sub in SERVICE.subcommands.values():
        _notice(ctx, session, f"  {sub.syntax} - {sub.summary}")
