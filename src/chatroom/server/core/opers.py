"""Operator roles in the core: who is an operator, with which capabilities, and the 481.

Rules (docs/commands.md "Moderation" is the user's version):
- an account is a server operator when it has a role (``Account.oper_role``); what the
  role may do comes from the config (``CoreSettings.role_capabilities``): the default
  role ``oper`` from ``opers.capabilities``, the others from ``opers.roles``;
- a session carries its role in ``Session.oper_role`` next to user mode ``+o``; both are
  set and cleared here, so a command checks one set lookup and no account;
- a role the config does not define grants nothing: its holders do not get ``+o`` until
  the role is defined again or they get another one, so deleting a role from the config
  takes its powers away instead of leaving operators whose powers nobody can see;
- a missing capability is ``481`` naming it, so an operator knows what to ask for.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from chatroom.irc import numerics as n
from chatroom.irc.message import format_line
from chatroom.server.core.dispatch import CommandError

if TYPE_CHECKING:
    from chatroom.server.core.context import Context
    from chatroom.server.core.session import Session
    from chatroom.server.core.users import User
    from chatroom.server.store.base import Account

log = logging.getLogger("chatroom.auth")

NOT_AN_OPERATOR = "Permission Denied- You're not an IRC operator"


def configured_role(ctx: Context, account: Account) -> str | None:
    """The account's role if the config defines it; None for no role or an unknown one."""
    role = account.oper_role
    return role if ctx.settings.role_capabilities(role) is not None else None


def grant(ctx: Context, session: Session, account: Account) -> bool:
    """Give ``session`` the account's role and ``+o``; True if it was not an operator.

    A registered session is told at once (381 and ``MODE +o``); one that logged in before
    its welcome (SASL) is told right after the welcome (``announce_after_welcome``), so an
    operator always learns that it is one, whatever the login path.
    """
    role = configured_role(ctx, account)
    if role is None:
        if account.oper_role is not None:
            # Said once per login, where the server's operator reads logs: the account
            # names a role the config lost, and its holder is wondering where +o went.
            log.warning(
                "operator role not configured",
                extra={"account": account.name, "role": account.oper_role},
            )
        return False
    session.oper_role = role
    if "o" in session.modes:
        return False
    session.owner.set_mode("o", True)
    if session.registered:
        ctx.census.opers += 1
        tell(ctx, session)
    return True


def grant_quietly(ctx: Context, user: User, account: Account) -> None:
    """An operator's always-on user brought back at start: ``+o`` and its role, counted,
    with nobody to tell yet (a device that attaches is told then)."""
    role = configured_role(ctx, account)
    if role is None or "o" in user.modes:
        return
    user.oper_role = role
    user.set_mode("o", True)
    ctx.census.opers += 1


def count_before_welcome(ctx: Context, session: Session) -> None:
    """An operator since its SASL login is counted before the welcome, so the LUSERS in
    that welcome ("1 operator(s) online") already includes the one reading it."""
    if "o" in session.modes:
        ctx.census.opers += 1


def announce_after_welcome(ctx: Context, session: Session) -> None:
    """Registration finished: an operator since its SASL login is told so."""
    if "o" in session.modes:
        tell(ctx, session)


def tell(ctx: Context, session: Session) -> None:
    """381 and ``MODE +o`` to one connection (a newly attached device of an operator too)."""
    ctx.reply(session, n.RPL_YOUREOPER, f"You are now an IRC operator ({session.oper_role})")
    ctx.fanout([session], session.prefix, "MODE", session.nick, "+o", account=session.account)


def revoke(ctx: Context, session: Session) -> None:
    """Take ``+o`` and the role away (logout, a role removed, MODE -o)."""
    if "o" in session.modes:
        session.owner.set_mode("o", False)
        if session.registered:
            ctx.census.opers -= 1
    session.owner.set_mode("s", False)  # server notices are for operators
    ctx.snotices.forget(session.owner)
    session.oper_role = None


def capabilities(ctx: Context, session: Session) -> frozenset[str]:
    """What ``session`` may do as an operator; empty for everyone else."""
    if "o" not in session.modes:
        return frozenset()
    return ctx.settings.role_capabilities(session.oper_role) or frozenset()


def may(ctx: Context, session: Session, capability: str) -> bool:
    """Whether ``session`` is an IRC operator whose role holds ``capability``."""
    return capability in capabilities(ctx, session)


def require(ctx: Context, session: Session, capability: str) -> None:
    """Raise 481 unless ``session`` may use ``capability``; the text says what is missing."""
    if may(ctx, session, capability):
        return
    if "o" not in session.modes:
        raise CommandError(n.ERR_NOPRIVILEGES, NOT_AN_OPERATOR)
    raise CommandError(
        n.ERR_NOPRIVILEGES,
        f"Permission Denied- Your operator role ({session.oper_role}) lacks the "
        f"{capability!r} capability",
    )


def follow_account(ctx: Context, session: Session, account: Account) -> None:
    """After a reload: an operator session follows its account's new role (or loses +o).

    Only sessions that are operators already change here; a role granted from the shell
    to an account without one is ``accounts.reconcile_sessions``'s to give.
    """
    if "o" not in session.modes:
        return
    role = configured_role(ctx, account)
    if role is None:
        revoke(ctx, session)
        if session.registered:
            session.send(format_line(ctx.name, "MODE", session.nick, "-o"))
    else:
        session.oper_role = role
