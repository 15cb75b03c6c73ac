"""MODE for rooms and for users.

Rules (modern.ircdocs.horse "MODE", with InspIRCd where the docs leave a choice):
- ``MODE #room`` answers 324 (the key only to members) and 329;
- a list letter without an argument (``MODE #room +b`` or ``b``) asks for the list, which
  anyone may do; every other change needs ops (one 482 per command);
- at most ``limits.modes_per_command`` parameter-taking changes apply, the rest are
  ignored; a bad or missing parameter is answered with 696 (525 for a bad key) and the
  other changes still apply;
- only changes that changed something are announced, in one MODE line to every member.
"""

from __future__ import annotations

from chatroom.irc import numerics as n
from chatroom.irc.masks import normalize_mask
from chatroom.irc.message import Message
from chatroom.irc.modes import (
    ModeChange,
    format_mode_changes,
    parse_channel_modes,
    parse_user_modes,
)
from chatroom.server.core import chanreg, events, opers, sanctions, snotices
from chatroom.server.core.channel import LIST_MODES, Channel, ListEntry
from chatroom.server.core.context import Context
from chatroom.server.core.dispatch import CommandError, command
from chatroom.server.core.replies import CHANNEL_MODES, USER_MODES
from chatroom.server.core.session import Session
from chatroom.server.core.settings import Limits

KEY_LENGTH = Limits().key_length  # advertised as KEYLEN; longer keys are cut, like InspIRCd

# letter -> (entry numeric, end numeric, end text); +q replies carry an extra "q" param.
_LIST_REPLIES = {
    "b": (n.RPL_BANLIST, n.RPL_ENDOFBANLIST, "End of channel ban list"),
    "e": (n.RPL_EXCEPTLIST, n.RPL_ENDOFEXCEPTLIST, "End of channel exception list"),
    "I": (n.RPL_INVEXLIST, n.RPL_ENDOFINVEXLIST, "End of channel invite list"),
    "q": (n.RPL_QUIETLIST, n.RPL_ENDOFQUIETLIST, "End of channel quiet list"),
}
_MODE_NAMES = {"k": "key", "l": "limit", "o": "op", "v": "voice"}


@command("MODE", min_params=1)
def mode(ctx: Context, session: Session, msg: Message) -> None:
    """MODE <target> [<modestring> [<mode arguments>...]]"""
    if msg.params[0][:1] == "#":
        channel_mode(ctx, session, msg)
    else:
        user_mode(ctx, session, msg)


# ----------------------------------------------------------------------------- rooms


def channel_mode(ctx: Context, session: Session, msg: Message) -> None:
    name = msg.params[0]
    channel = ctx.rooms.find(name)
    if channel is None:
        raise CommandError(n.ERR_NOSUCHCHANNEL, name, "No such channel")
    if len(msg.params) == 1 or not msg.params[1]:
        modestring, args = channel.mode_string(show_key=session.owner in channel.members)
        ctx.reply(session, n.RPL_CHANNELMODEIS, channel.name, modestring, *args)
        ctx.reply(session, n.RPL_CREATIONTIME, channel.name, str(int(channel.created_at)))
        return
    given = msg.params[2:]
    if given and not given[-1]:
        given = given[:-1]  # "MODE #c +l :": an empty argument is a missing one (696 ... l *)
    changes, unknown = parse_channel_modes(msg.params[1], given, CHANNEL_MODES)
    for letter in unknown:
        ctx.reply(session, n.ERR_UNKNOWNMODE, letter, "is unknown mode char to me")
    is_op = channel.is_op(session.owner) or opers.may(ctx, session, "channels")
    budget = ctx.settings.limits.modes_per_command
    applied: list[ModeChange] = []
    listed: set[str] = set()
    denied = False
    for change in changes:
        letter = change.letter
        if letter in LIST_MODES and change.arg is None:
            if letter not in listed:
                listed.add(letter)
                send_list(ctx, session, channel, letter)
            continue
        if not is_op:
            denied = True
            continue
        if _takes_param(change):
            budget -= 1
            if budget < 0:
                continue
        try:
            done = _apply(ctx, session, channel, change)
        except CommandError as err:
            ctx.reply(session, err.numeric, *err.params)
            continue
        if done is not None:
            applied.append(done)
    if denied:
        ctx.reply(session, n.ERR_CHANOPRIVSNEEDED, channel.name, "You're not channel operator")
    if applied:
        modestring, args = format_mode_changes(applied)
        sanctions.audit_mode_changes(ctx, session, channel.name, applied)

        def announce() -> None:
            events.announce(
                ctx, channel, session.prefix, "MODE", modestring, *args, account=session.account
            )

        chanreg.announce_when_saved(ctx, session, channel, announce)


def _takes_param(change: ModeChange) -> bool:
    letter = change.letter
    spec = CHANNEL_MODES
    if letter in spec.lists or letter in spec.always_arg or letter in spec.prefixes:
        return True
    return change.adding and letter in spec.set_arg


def send_list(ctx: Context, session: Session, channel: Channel, letter: str) -> None:
    """367/368, 348/349, 346/347 or 728/729 (with the Solanum/InspIRCd "q" parameter)."""
    entry_numeric, end_numeric, end_text = _LIST_REPLIES[letter]
    extra = ("q",) if letter == "q" else ()
    for entry in channel.lists[letter]:
        ctx.reply(
            session,
            entry_numeric,
            channel.name,
            *extra,
            entry.mask,
            entry.set_by,
            str(int(entry.set_at)),
        )
    ctx.reply(session, end_numeric, channel.name, *extra, end_text)


def _missing(channel: Channel, letter: str) -> CommandError:
    what = _MODE_NAMES.get(letter, "list")
    return CommandError(
        n.ERR_INVALIDMODEPARAM,
        channel.name,
        letter,
        "*",
        f"You must specify a parameter for the {what} mode",
    )


def _apply(
    ctx: Context, session: Session, channel: Channel, change: ModeChange
) -> ModeChange | None:
    """Make one change; return what to announce, or None if nothing changed."""
    letter, adding, arg = change.letter, change.adding, change.arg
    if letter in CHANNEL_MODES.flags:
        if adding == (letter in channel.flags):
            return None
        if adding:
            channel.flags.add(letter)
        else:
            channel.flags.discard(letter)
        return change
    if letter == "k":
        return _apply_key(channel, adding, arg)
    if letter == "l":
        return _apply_limit(channel, adding, arg)
    if arg is None:
        raise _missing(channel, letter)
    if letter in CHANNEL_MODES.prefixes:
        return _apply_status(ctx, channel, letter, adding, arg)
    return _apply_list(ctx, session, channel, letter, adding, arg)


def _apply_key(channel: Channel, adding: bool, arg: str | None) -> ModeChange | None:
    if not adding:
        # Lenient like Ergo: "-k" needs no argument, and any argument removes the key.
        if channel.key is None:
            return None
        channel.key = None
        return ModeChange(False, "k", "*")
    if arg is None:
        raise _missing(channel, "k")
    if not arg or " " in arg or "," in arg or arg[0] == ":":
        raise CommandError(n.ERR_INVALIDKEY, channel.name, "Key is not well-formed")
    key = arg[:KEY_LENGTH]
    if key == channel.key:
        return None
    channel.key = key
    return ModeChange(True, "k", key)


def _apply_limit(channel: Channel, adding: bool, arg: str | None) -> ModeChange | None:
    if not adding:
        if channel.limit is None:
            return None
        channel.limit = None
        return ModeChange(False, "l")
    if arg is None:
        raise _missing(channel, "l")
    if not arg.isdigit() or int(arg) <= 0:
        raise CommandError(
            n.ERR_INVALIDMODEPARAM,
            channel.name,
            "l",
            arg,
            "Invalid limit mode parameter, a positive number is needed",
        )
    limit = int(arg)
    if limit == channel.limit:
        return None
    channel.limit = limit
    return ModeChange(True, "l", str(limit))


def _apply_status(
    ctx: Context, channel: Channel, letter: str, adding: bool, nick: str
) -> ModeChange | None:
    target = ctx.nicks.find(nick)
    if target is None:
        raise CommandError(n.ERR_NOSUCHNICK, nick, "No such nick/channel")
    if target not in channel.members:
        raise CommandError(
            n.ERR_USERNOTINCHANNEL, target.nick, channel.name, "They aren't on that channel"
        )
    if adding == (letter in channel.members[target]):
        return None
    channel.set_status(target, letter, adding)
    return ModeChange(adding, letter, target.nick)


def _apply_list(
    ctx: Context, session: Session, channel: Channel, letter: str, adding: bool, arg: str
) -> ModeChange | None:
    mask = normalize_mask(arg)
    entry = channel.find_entry(letter, mask, ctx.fold)
    entries = channel.lists[letter]
    if not adding:
        if entry is None:
            return None
        entries.remove(entry)
        return ModeChange(False, letter, entry.mask)
    if entry is not None:
        return None
    if len(entries) >= ctx.settings.limits.list_entries:
        raise CommandError(n.ERR_BANLISTFULL, channel.name, letter, "Channel list is full")
    entries.append(ListEntry(mask, set_by=session.prefix, set_at=ctx.clock()))
    return ModeChange(True, letter, mask)


# ----------------------------------------------------------------------------- users


def user_mode(ctx: Context, session: Session, msg: Message) -> None:
    nick = msg.params[0]
    target = ctx.nicks.find(nick)
    if target is None:
        raise CommandError(n.ERR_NOSUCHNICK, nick, "No such nick/channel")
    if target is not session.owner:
        raise CommandError(n.ERR_USERSDONTMATCH, "Can't change mode for other users")
    if len(msg.params) == 1:
        ctx.reply(session, n.RPL_UMODEIS, "+" + "".join(sorted(session.modes)))
        return
    changes, unknown = parse_user_modes(msg.params[1], USER_MODES)
    applied: list[ModeChange] = []
    for change in changes:
        letter = change.letter
        if letter == "s":
            _server_notices(ctx, session, change.adding, msg.params[2:3], applied)
            continue
        if change.adding:
            if letter == "o" or letter in session.modes:
                continue  # +o comes only from OPER
            session.owner.set_mode(letter, True)
        else:
            if letter not in session.modes:
                continue
            if letter == "o":
                opers.revoke(ctx, session)  # the role goes with +o, until the next OPER
            else:
                session.owner.set_mode(letter, False)
        applied.append(change)
    if unknown:
        ctx.reply(session, n.ERR_UMODEUNKNOWNFLAG, "Unknown MODE flag")
    if applied:
        modestring, _ = format_mode_changes(applied)
        ctx.fanout(  # every device of the user: the modes are the user's
            session.owner.conns,
            session.prefix,
            "MODE",
            session.nick,
            modestring,
            account=session.account,
        )


def _server_notices(
    ctx: Context,
    session: Session,
    adding: bool,
    mask: tuple[str, ...],
    applied: list[ModeChange],
) -> None:
    """``+s [<mask>]`` / ``-s``: which server notices an operator hears (core/snotices.py)."""
    user = session.owner
    if adding and "o" not in session.modes:
        return  # for operators only, like +o: ignored for anyone else
    before = ctx.snotices.mask_of(user)
    after = snotices.changed_mask(before, mask[0] if mask else None) if adding else ""
    ctx.snotices.set_mask(user, after)
    if bool(before) != bool(after):
        user.set_mode("s", bool(after))
        applied.append(ModeChange(bool(after), "s"))
    if after:
        ctx.reply(session, n.RPL_SNOMASKIS, "+" + after, "Server notice mask")
