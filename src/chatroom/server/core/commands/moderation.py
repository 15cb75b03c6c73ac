"""Server moderation: OPER, KILL, BAN/UNBAN/BANS, and TBAN for rooms (mutes: mutes.py).

Rules (docs/commands.md "Moderation" is the user's version):
- every verb but OPER and TBAN needs an IRC operator whose role holds the matching
  capability (``kill``, ``ban``, ``mute``); without it the answer is 481 naming the
  capability (``core/opers.py``);
- a target is read by ``bans.classify_target``; a bare word means the user online with
  that nick (their account if logged in, else their address), else the account of that
  name, else the nick mask ``word!*@*``;
- a ban that would match the operator setting it is refused, so nobody locks themself out;
- a new ban disconnects whoever it matches at once; a new mute applies at once;
- each action is persisted together with its audit entry, and confirmed by a NOTICE only
  after the commit (``core/acks.py``); if the store refuses it, nothing changes.
"""

from __future__ import annotations

from chatroom.irc import numerics as n
from chatroom.irc.masks import is_channel_name, normalize_mask
from chatroom.irc.message import Message
from chatroom.server.core import acks, chanreg, events, opers, sanctions
from chatroom.server.core.accounts import log_in, password_login, plaintext_refused
from chatroom.server.core.bans import (
    BanList,
    classify_target,
    duration_and_reason,
    format_time,
    parse_duration,
    until_text,
)
from chatroom.server.core.channel import Channel, ListEntry
from chatroom.server.core.context import Context
from chatroom.server.core.dispatch import CommandError, command
from chatroom.server.core.session import Session
from chatroom.server.store.base import (
    Account,
    BanKind,
    DeleteBanTarget,
    PutBan,
    ServerBan,
)

# ----------------------------------------------------------------------------- OPER


@command("OPER", min_params=2)
def oper(ctx: Context, session: Session, msg: Message) -> None:
    """OPER <account> <password>  (the account must have an operator role)"""
    name, password = msg.params[0], msg.params[1]
    if plaintext_refused(ctx, session):
        raise CommandError(n.ERR_PASSWDMISMATCH, "Use TLS to send a password")
    if session.account is not None and ctx.fold(session.account) != ctx.fold(name):
        raise CommandError(n.ERR_NOOPERHOST, "You are logged in as another account")

    def done(account: Account | None, why: str) -> None:
        if session.closed:
            return
        if account is None:
            ctx.reply(session, n.ERR_PASSWDMISMATCH, why)
            return
        if account.oper_role is None:
            ctx.reply(session, n.ERR_NOOPERHOST, "Your account is not a server operator")
            return
        if opers.configured_role(ctx, account) is None:
            ctx.reply(
                session,
                n.ERR_NOOPERHOST,
                f"Your operator role ({account.oper_role}) is not configured on this server",
            )
            return
        had = "o" in session.modes
        if session.account is None:
            log_in(ctx, session, account)  # grants the role, +o and 381
        else:
            opers.grant(ctx, session, account)
        if "o" in session.modes and not had:
            sanctions.audit(ctx, account.name, "oper.up", session.nick, session.oper_role or "")

    password_login(ctx, session, name, password, done)


# ----------------------------------------------------------------------------- KILL


@command("KILL", min_params=1)
def kill(ctx: Context, session: Session, msg: Message) -> None:
    """KILL <nick> [:<reason>]"""
    opers.require(ctx, session, "kill")
    nick = msg.params[0]
    if ctx.fold(nick) == ctx.fold(ctx.name):
        raise CommandError(n.ERR_CANTKILLSERVER, "You cannot kill a server")
    target = ctx.nicks.find(nick)
    if target is None or not target.registered:
        raise CommandError(n.ERR_NOSUCHNICK, nick, "No such nick/channel")
    reason = msg.params[1] if len(msg.params) > 1 and msg.params[1] else "No reason given"
    ctx.close_user(target, f"Killed ({session.nick} ({reason}))")  # every device
    sanctions.audit(ctx, sanctions.actor_name(session), "kill", target.nick, reason)
    ctx.notice(session, f"Killed {target.nick}: {reason}")
    sanctions.announce_to_opers(ctx, f"{session.nick} killed {target.nick}: {reason}")


# ----------------------------------------------------------------------------- server bans


def resolve(ctx: Context, text: str, verb: str = "BAN") -> tuple[BanKind, str]:
    """The ``(kind, mask)`` a BAN/UNBAN target means (see the module rules); ``verb``
    names the command in the error."""
    try:
        classified = classify_target(text)
    except ValueError as err:
        raise CommandError(n.ERR_NEEDMOREPARAMS, verb, str(err)) from None
    if classified is not None:
        kind, mask = classified
    else:
        online = ctx.nicks.find(text)
        if online is not None and online.registered and online.account:
            kind, mask = "account", online.account
        elif online is not None and online.registered and online.conns:
            ip = online.conns[0].ip
            kind, mask = classify_target(ip) or ("address", ip)
        elif ctx.fold(text) in ctx.accounts:
            kind, mask = "account", text
        else:
            kind, mask = "nick", normalize_mask(text)
    return kind, ctx.fold(mask) if kind in ("account", "nick") else mask


@command("BAN", min_params=1)
def ban(ctx: Context, session: Session, msg: Message) -> None:
    """BAN <target> [<duration>] [:<reason>]  (server-wide; target: nick, a:account,
    nick!user@host, IP, or CIDR)"""
    opers.require(ctx, session, "ban")
    kind, mask = resolve(ctx, msg.params[0])
    seconds, reason = duration_and_reason(list(msg.params[1:]))
    now = ctx.clock()
    expires = now + seconds if seconds is not None else None
    new = ServerBan(None, kind, mask, reason, sanctions.actor_name(session), now, expires)
    if BanList([new]).find(sanctions.who_of(session), ctx.fold, now) is not None:
        ctx.notice(session, f"Not banned: {kind}:{mask} matches you too. Use a narrower mask.")
        return
    previous = ctx.sanctions.bans.by_target(kind, mask, ctx.fold)
    sanctions.add_ban(ctx, new)
    dropped = sanctions.enforce(ctx)
    when = until_text(expires, now)

    def saved() -> None:
        ctx.notice(
            session,
            f"Banned {kind}:{mask} ({when}); {dropped} connection(s) closed.{_because(reason)}",
        )
        sanctions.announce_to_opers(
            ctx, f"{session.nick} banned {kind}:{mask} ({when}){_because(reason)}"
        )

    def failed() -> None:
        if ctx.sanctions.bans.by_target(kind, mask, ctx.fold) is new:
            if previous is None:
                sanctions.remove_ban(ctx, new)
            else:
                sanctions.add_ban(ctx, previous)
        ctx.notice(
            session,
            f"Not banned: the ban on {kind}:{mask} could not be saved ({acks.NOT_SAVED}), "
            "so it is not in force. Try again.",
        )

    acks.audit_then_answer(
        ctx,
        session,
        "ban.add",
        f"{kind}:{mask}",
        [PutBan(new)],
        reason=f"{reason} ({when})" if reason else when,
        saved=saved,
        failed=failed,
    )


def _find_ban(ctx: Context, text: str) -> ServerBan | None:
    bans = ctx.sanctions.bans
    kind, mask = resolve(ctx, text, "UNBAN")
    found = bans.by_target(kind, mask, ctx.fold)
    if found is None and classify_target(text) is None:
        # A bare word: it may name an account ban or a nick ban whichever way it was set.
        found = bans.by_target("account", text, ctx.fold) or bans.by_target(
            "nick", normalize_mask(text), ctx.fold
        )
    return found


@command("UNBAN", min_params=1)
def unban(ctx: Context, session: Session, msg: Message) -> None:
    """UNBAN <target>  (as shown by BANS, or as given to BAN)"""
    opers.require(ctx, session, "ban")
    found = _find_ban(ctx, msg.params[0])
    if found is None:
        ctx.notice(session, f"No server ban on {msg.params[0]}; see BANS.")
        return
    target = f"{found.kind}:{found.mask}"

    def saved() -> None:
        sanctions.remove_ban(ctx, found)  # by identity: a newer ban on it stays
        ctx.notice(session, f"Lifted the server ban on {target}.")
        sanctions.announce_to_opers(ctx, f"{session.nick} lifted the server ban on {target}")

    def failed() -> None:
        ctx.notice(
            session,
            f"The ban on {target} is still in force: lifting it could not be saved "
            f"({acks.NOT_SAVED}). Try again.",
        )

    acks.audit_then_answer(
        ctx,
        session,
        "ban.remove",
        target,
        [DeleteBanTarget(found.kind, found.mask)],
        reason=found.reason,
        saved=saved,
        failed=failed,
    )


@command("BANS")
def bans(ctx: Context, session: Session, msg: Message) -> None:
    """BANS  (list the server bans)"""
    opers.require(ctx, session, "ban")
    now = ctx.clock()
    current = ctx.sanctions.bans.bans
    for item in current:
        ctx.notice(
            session,
            f"{item.kind}:{item.mask} - {item.reason or 'no reason'} - set by {item.set_by} "
            f"{format_time(item.set_at)} - {until_text(item.expires_at, now)}",
        )
    ctx.notice(session, f"End of server ban list ({len(current)}).")


# ----------------------------------------------------------------------------- timed room bans


@command("TBAN", min_params=3)
def tban(ctx: Context, session: Session, msg: Message) -> None:
    """TBAN <#room> <duration> <mask>  (InspIRCd's timed ban: +b that lifts itself)"""
    name, duration, raw_mask = msg.params[0], msg.params[1], msg.params[2]
    channel = ctx.rooms.find(name) if is_channel_name(name) else None
    if channel is None:
        raise CommandError(n.ERR_NOSUCHCHANNEL, name, "No such channel")
    if not channel.is_op(session.owner) and not opers.may(ctx, session, "channels"):
        raise CommandError(n.ERR_CHANOPRIVSNEEDED, channel.name, "You're not channel operator")
    seconds = parse_duration(duration)
    if seconds is None:
        raise CommandError(
            n.ERR_INVALIDMODEPARAM,
            channel.name,
            "b",
            duration,
            "Invalid duration (try 10m, 2h, 1d)",
        )
    mask = normalize_mask(raw_mask)
    now = ctx.clock()
    expires = now + seconds
    found = channel.find_entry("b", mask, ctx.fold)
    if found is None:
        if len(channel.lists["b"]) >= ctx.settings.limits.list_entries:
            raise CommandError(n.ERR_BANLISTFULL, channel.name, "b", "Channel list is full")
        entry = ListEntry(mask, session.prefix, now, expires)
        channel.lists["b"].append(entry)
        events.announce(ctx, channel, session.prefix, "MODE", "+b", mask, account=session.account)
    else:
        entry = found
    before = entry.expires_at
    entry.expires_at = expires
    chanreg.schedule(ctx, expires)
    when = until_text(expires, now)

    def saved() -> None:
        ctx.notice(session, f"Timed ban on {mask} in {channel.name} ({when}).")

    def failed() -> None:
        _untimed(ctx, channel, entry, expires, before, created=found is None)
        ctx.notice(
            session,
            f"No timed ban on {mask} in {channel.name}: it could not be saved "
            f"({acks.NOT_SAVED}). Try again.",
        )

    acks.audit_then_answer(
        ctx,
        session,
        "channel.tban",
        f"{channel.name} {mask}",
        chanreg.current_state(channel),
        reason=when,
        saved=saved,
        failed=failed,
    )


def _untimed(
    ctx: Context,
    channel: Channel,
    entry: ListEntry,
    expires: float,
    before: float | None,
    *,
    created: bool,
) -> None:
    """Take back a timed ban the store refused, unless the entry changed again since: an
    entry TBAN ``created`` is removed (and ``-b`` announced), one that was there already
    gets back the expiry it had ``before``."""
    if entry.expires_at != expires or not any(e is entry for e in channel.lists["b"]):
        return
    if not created:
        entry.expires_at = before
        return
    channel.lists["b"].remove(entry)
    ctx.fanout(channel.sessions, ctx.name, "MODE", channel.name, "-b", entry.mask)


def _because(reason: str) -> str:
    """ " Reason: ..." for a notice, or nothing when the operator gave none."""
    return f" Reason: {reason}" if reason else ""
