"""Server-wide mutes: MUTE, UNMUTE, MUTES (by account; the account may still read).

The rules of moderation.py hold here too: the ``mute`` capability, an audit entry with
each change, and a NOTICE only after the commit (``core/acks.py``). A mute takes effect
at once and is taken back if the store refuses it; UNMUTE lifts it once it is saved.
"""

from __future__ import annotations

from chatroom.irc import numerics as n
from chatroom.irc.message import Message
from chatroom.server.core import acks, opers, sanctions
from chatroom.server.core.bans import duration_and_reason, format_time, until_text
from chatroom.server.core.context import Context
from chatroom.server.core.dispatch import CommandError, command
from chatroom.server.core.session import Session
from chatroom.server.store.base import Account, AccountMute, DeleteMute, PutMute


def _account_of(ctx: Context, text: str) -> Account:
    """The account a MUTE target names: an online nick's account, or an account name."""
    online = ctx.nicks.find(text)
    name = online.account if online is not None and online.account else text
    account = ctx.accounts.get(ctx.fold(name))
    if account is None:
        raise CommandError(
            n.ERR_NOSUCHNICK, text, "No such account (quiet guests in rooms with +q instead)"
        )
    return account


@command("MUTE", min_params=1)
def mute(ctx: Context, session: Session, msg: Message) -> None:
    """MUTE <nick|account> [<duration>] [:<reason>]  (server-wide, by account)"""
    opers.require(ctx, session, "mute")
    account = _account_of(ctx, msg.params[0])
    seconds, reason = duration_and_reason(list(msg.params[1:]))
    now = ctx.clock()
    expires = now + seconds if seconds is not None else None
    actor = sanctions.actor_name(session)
    record = AccountMute(account.key, account.name, reason, actor, now, expires)
    previous = ctx.sanctions.mutes.get(account.key)
    sanctions.apply_mute(ctx, account.key, record)
    when = until_text(expires, now)

    def saved() -> None:
        for target in ctx.sessions.values():
            if target.muted is record:
                why = f": {reason}" if reason else ""
                ctx.notice(target, f"You have been muted on this server{why} ({when}).")
        because = f" Reason: {reason}" if reason else ""
        ctx.notice(session, f"Muted {account.name} ({when}).{because}")

    def failed() -> None:
        if ctx.sanctions.mutes.get(account.key) is record:
            sanctions.apply_mute(ctx, account.key, previous)
        ctx.notice(
            session,
            f"Not muted: muting {account.name} could not be saved ({acks.NOT_SAVED}). Try again.",
        )

    acks.audit_then_answer(
        ctx,
        session,
        "mute.add",
        account.name,
        [PutMute(record)],
        reason=f"{reason} ({when})" if reason else when,  # as for BAN
        saved=saved,
        failed=failed,
    )


@command("UNMUTE", min_params=1)
def unmute(ctx: Context, session: Session, msg: Message) -> None:
    """UNMUTE <nick|account>"""
    opers.require(ctx, session, "mute")
    account = _account_of(ctx, msg.params[0])
    if account.key not in ctx.sanctions.mutes:
        ctx.notice(session, f"{account.name} is not muted.")
        return
    lifted = ctx.sanctions.mutes[account.key]

    def saved() -> None:
        if ctx.sanctions.mutes.get(account.key) is lifted:  # not replaced meanwhile
            sanctions.apply_mute(ctx, account.key, None)
            for target in ctx.sessions.values():
                if target.account is not None and ctx.fold(target.account) == account.key:
                    ctx.notice(target, "Your server-wide mute was lifted; you may talk again.")
        ctx.notice(session, f"Unmuted {account.name}.")

    def failed() -> None:
        ctx.notice(
            session,
            f"{account.name} is still muted: lifting the mute could not be saved "
            f"({acks.NOT_SAVED}). Try again.",
        )

    acks.audit_then_answer(
        ctx,
        session,
        "mute.remove",
        account.name,
        [DeleteMute(account.key)],
        saved=saved,
        failed=failed,
    )


@command("MUTES")
def mutes(ctx: Context, session: Session, msg: Message) -> None:
    """MUTES  (list the server-wide mutes)"""
    opers.require(ctx, session, "mute")
    now = ctx.clock()
    current = sorted(ctx.sanctions.mutes.values(), key=lambda m: m.account_key)
    for item in current:
        ctx.notice(
            session,
            f"{item.account_name} - {item.reason or 'no reason'} - set by {item.set_by} "
            f"{format_time(item.set_at)} - {until_text(item.expires_at, now)}",
        )
    ctx.notice(session, f"End of mute list ({len(current)}).")
