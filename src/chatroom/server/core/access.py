"""Who may do what in a room: bans, exceptions, invites, quiets, moderation.

Pure functions of a channel and a session, shared by JOIN, PRIVMSG/NOTICE and NICK.

Rules (as InspIRCd and Ergo apply them):
- a mask matches ``nick!user@host`` or ``nick!user@ip``, case-folded with the server's
  casemapping; the extban ``a:<account-glob>`` matches the session's account instead;
- the extban ``m:<mask>`` in the ban list mutes (like +q) instead of keeping out;
- +e excepts from +b and +q; the mute exception ``+e m:<mask>`` excepts from +q and the
  ``m:`` mute only (InspIRCd's muteban exception), not from a ban; +I lets a user past +i
  without an invite;
- an INVITE lets its holder past +i, +k, +l and +b (InspIRCd's default "invite bypass");
- voiced and opped members are never silenced by +m, +b or +q;
- +C refuses CTCP (a text starting with byte 0x01) other than ACTION to everyone, ops
  included: it is about what the room receives, not about who sends it;
- user mode +R: only people logged in to an account (and operators) may send private
  messages or invites to that user;
- +R lets only people logged in to an account join (an invite still lets anyone in), +M
  lets only them speak (voice and ops still may): the rooms' answer to a wave of
  throwaway guests, as Ergo's and InspIRCd's +R and +M. Members already inside stay.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from chatroom.irc import numerics as n
from chatroom.irc.masks import match_mask, normalize_mask
from chatroom.server.core.accountbook import SILENCE_OPTION
from chatroom.server.core.channel import Channel, ListEntry
from chatroom.server.core.session import Session

if TYPE_CHECKING:
    from chatroom.server.core.context import Context
    from chatroom.server.core.users import User

# Not (yet) in chatroom.irc.numerics; InspIRCd's numbers.


def mask_matches(ctx: Context, mask: str, session: Session) -> bool:
    """True if one stored mask (or extban) designates ``session``."""
    if len(mask) >= 2 and mask[1] == ":":
        if mask[0] == "a":
            return session.account is not None and match_mask(mask[2:], session.account, ctx.fold)
        return False  # an extban type we do not know matches nobody
    fold = ctx.fold
    ident = f"{session.nick}!{session.user}@"
    if match_mask(mask, ident + session.host, fold):
        return True
    return session.ip != session.host and match_mask(mask, ident + session.ip, fold)


def any_matches(ctx: Context, entries: Iterable[ListEntry], session: Session) -> bool:
    return any(mask_matches(ctx, entry.mask, session) for entry in entries)


def is_banned(ctx: Context, channel: Channel, session: Session) -> bool:
    """Matches a +b mask and no +e mask."""
    bans = channel.lists["b"]
    if not bans:
        return False  # most rooms: no generator made for every message sent there
    return any_matches(ctx, bans, session) and not any_matches(ctx, channel.lists["e"], session)


def _mutes(ctx: Context, entries: Iterable[ListEntry], session: Session) -> bool:
    """True if an ``m:<mask>`` entry of the list designates ``session``."""
    return any(
        entry.mask[:2] == "m:" and mask_matches(ctx, normalize_mask(entry.mask[2:]), session)
        for entry in entries
    )


def is_quieted(ctx: Context, channel: Channel, session: Session) -> bool:
    """Matches a +q mask (or a +b ``m:`` mute extban) and no +e or ``+e m:`` mask."""
    lists = channel.lists
    quiets, bans = lists["q"], lists["b"]
    if not quiets and not bans:
        return False
    quieted = any_matches(ctx, quiets, session) or _mutes(ctx, bans, session)
    if not quieted:
        return False
    exceptions = lists["e"]
    return not (any_matches(ctx, exceptions, session) or _mutes(ctx, exceptions, session))


def join_refusal(
    ctx: Context, channel: Channel, session: Session, key: str | None
) -> tuple[str, str] | None:
    """Why ``session`` may not join ``channel`` as ``(numeric, text)``, or None if it may.

    Checked in InspIRCd's order: key, invite-only, limit, bans.
    """
    if ctx.fold(channel.name) in session.invited:
        return None
    if channel.key is not None and key != channel.key:
        return n.ERR_BADCHANNELKEY, "Cannot join channel (+k)"
    if "i" in channel.flags and not any_matches(ctx, channel.lists["I"], session):
        return n.ERR_INVITEONLYCHAN, "Cannot join channel (+i)"
    if "R" in channel.flags and session.account is None:
        return n.ERR_NEEDREGGEDNICK, "Cannot join channel (+R) - log in to an account first"
    if channel.limit is not None and len(channel.members) >= channel.limit:
        return n.ERR_CHANNELISFULL, "Cannot join channel (+l)"
    if is_banned(ctx, channel, session):
        return n.ERR_BANNEDFROMCHAN, "Cannot join channel (+b)"
    return None


def cannot_speak(ctx: Context, channel: Channel, session: Session) -> str | None:
    """Why ``session`` may not send to ``channel`` (text for 404), or None if it may."""
    status = channel.members.get(session.owner)
    if status is None and "n" in channel.flags:
        return "Cannot send to channel (no external messages)"
    if status:
        return None  # voice or ops: above +m, +b and +q
    if "m" in channel.flags:
        return "Cannot send to channel (+m)"
    if "M" in channel.flags and session.account is None:
        return "Cannot send to channel (+M) - log in to an account to speak here"
    if is_banned(ctx, channel, session):
        return "Cannot send to channel (you're banned)"
    if is_quieted(ctx, channel, session):
        return "Cannot send to channel (+q)"
    return None


GUESTS_REFUSED = "This user (+R) takes private messages only from people logged in to an account"


def refuses_guests(sender: Session, recipient: User) -> bool:
    """User mode +R: only accounts (and operators) may message or invite ``recipient``."""
    return (
        "R" in recipient.modes
        and sender.account is None
        and "o" not in sender.modes
        and recipient is not sender.owner
    )


def silences(ctx: Context, sender: Session, recipient: User) -> bool:
    """SILENCE: ``recipient`` does not want private messages or invites from ``sender``
    (operators always get through, so moderation can still talk to everyone)."""
    if sender.owner is recipient:
        return False
    return _silenced_by(ctx, recipient.silenced, sender)


def account_silences(ctx: Context, sender: Session, account_key: str) -> bool:
    """SILENCE for an account with nobody online: its kept list (the account option)."""
    kept = ctx.accounts.option(account_key, SILENCE_OPTION)
    return kept is not None and _silenced_by(ctx, kept.split(), sender)


def _silenced_by(ctx: Context, masks: Iterable[str], sender: Session) -> bool:
    """One of ``masks`` designates ``sender``; operators always get through."""
    return "o" not in sender.modes and any(mask_matches(ctx, m, sender) for m in masks)


def ctcp_refusal(channel: Channel, text: tuple[str, ...]) -> str | None:
    """Text for 404 if ``text`` is a CTCP other than ACTION and the room is +C."""
    if not text or "C" not in channel.flags or not text[0].startswith("\x01"):
        return None
    verb = text[0][1:].rstrip("\x01").split(" ", 1)[0]
    if verb.upper() == "ACTION":
        return None
    return "Cannot send CTCP to channel (+C)"


def room_to_speak_in(
    ctx: Context,
    session: Session,
    channel: Channel | None,
    shown: str,
    text: tuple[str, ...],
    quiet: bool,
) -> Channel | None:
    """``channel`` if ``session`` may send ``text`` there; else None, after saying why
    (403 no such room, 404 and the reason), except to a NOTICE (``quiet``), which never
    provokes an error reply."""
    if channel is None:
        if not quiet:
            ctx.reply(session, n.ERR_NOSUCHCHANNEL, shown, "No such channel")
        return None
    reason = cannot_speak(ctx, channel, session) or ctcp_refusal(channel, text)
    if reason is not None:
        if not quiet:
            ctx.reply(session, n.ERR_CANNOTSENDTOCHAN, channel.name, reason)
        return None
    return channel


def nick_change_refused(ctx: Context, session: Session, new_nick: str) -> tuple[str, str] | None:
    """``(channel name, text)`` for 435 ERR_BANONCHAN if a ban pins the current nick.

    InspIRCd refuses a nick change to a member who is banned (and not excepted, voiced or
    opped) in a room, so a ban cannot be dodged by renaming. The caller replies
    ``435 <nick> <new_nick> <channel> :<text>``.
    """
    for channel in session.channels.values():
        if channel.members.get(session.owner):
            continue
        if is_banned(ctx, channel, session) or is_quieted(ctx, channel, session):
            return channel.name, f"Cannot change nickname while on {channel.name} (you're banned)"
    return None
