"""NickServ: accounts for clients that only know services (``/msg NickServ ...``, ``/NS``).

The machinery (dispatch, aliases, HELP, answering as a NOTICE) is the shared ``Service``
in core/services.py; the NickServ object is in core/nickserv_service.py, so that this
module and nickserv_cert.py both add subcommands to it. This module holds the account
subcommands. Rules every subcommand keeps:

- every answer is a NOTICE from ``NickServ!NickServ@services.``, and no answer quotes a
  word that could be a password (not even an unknown command, which may be a password
  sent on its own by mistake);
- logins go through ``password_login`` (throttle, one answer for "no such account" and
  "wrong password"); a password crossing a plaintext non-loopback link is refused;
- replies that promise something is saved wait for the store's commit.
"""

from __future__ import annotations

import time

from chatroom.server.core import presence, sanctions
from chatroom.server.core.access import nick_change_refused
from chatroom.server.core.accounts import (
    change_password,
    create_account,
    email_refusal,
    guard_nick,
    guest_nick,
    log_in,
    log_out,
    password_login,
    plaintext_refused,
    registration_refusal,
)
from chatroom.server.core.context import Context
from chatroom.server.core.nicks import change_nick
from chatroom.server.core.nickserv_service import SERVICE, own_account
from chatroom.server.core.session import Session
from chatroom.server.store.base import Account, DeleteAccount

PLAINTEXT = "Use a TLS connection to send a password (your password was not used)."

subcommand = SERVICE.subcommand
_notice = SERVICE.notice
_usage = SERVICE.usage


# --------------------------------------------------------------------------- subcommands


def _cannot_log_in(ctx: Context, session: Session, args: list[str], name: str) -> bool:
    """The checks REGISTER and IDENTIFY share; True (after saying why) if they refuse."""
    if not args or len(args) > 2:
        _usage(ctx, session, name)
    elif session.account is not None:
        _notice(ctx, session, f"You are already logged in as {session.account}.")
    elif plaintext_refused(ctx, session):
        _notice(ctx, session, PLAINTEXT)
    else:
        return False
    return True


@subcommand(
    "REGISTER",
    "REGISTER <password> [email]",
    "Register your current nickname as an account.",
    "Your current nickname becomes the account name, and you are logged in at once.",
    "Later, log in with IDENTIFY <password> or with SASL.",
)
def _register(ctx: Context, session: Session, args: list[str]) -> None:
    if _cannot_log_in(ctx, session, args, "REGISTER"):
        return
    name, password = session.nick, args[0]
    email = args[1] if len(args) > 1 else None
    refusal = email_refusal(ctx, email) or registration_refusal(ctx, name, password, session)
    if refusal is not None:
        _notice(ctx, session, f"{refusal[1]}.")
        return

    def done(account: Account | None, why: str) -> None:
        if session.closed:
            return
        if account is None:
            _notice(ctx, session, f"{why}.")
            return
        _notice(ctx, session, f"Nickname {account.name} is now registered to you.")
        if session.account is None:
            log_in(ctx, session, account)

    create_account(ctx, name, password, email, done, session)


@subcommand(
    "IDENTIFY",
    "IDENTIFY [account] <password>",
    "Log in to your account.",
    "Without an account name, the account of your current nickname is used.",
)
def _identify(ctx: Context, session: Session, args: list[str]) -> None:
    if _cannot_log_in(ctx, session, args, "IDENTIFY"):
        return
    name, password = (session.nick, args[0]) if len(args) == 1 else (args[0], args[1])

    def done(account: Account | None, why: str) -> None:
        if session.closed:
            return
        if account is None:
            _notice(ctx, session, f"{why}.")
            return
        if session.account is not None:
            return  # another login finished first; keep it
        _notice(ctx, session, f"You are now identified for {account.name}.")
        log_in(ctx, session, account)

    password_login(ctx, session, name, password, done)


@subcommand(
    "SET",
    "SET PASSWORD <new password> | SET MULTICLIENT ON|OFF | SET ALWAYS-ON ON|OFF",
    "Change a setting of your account.",
    "SET PASSWORD <new password> replaces your password; you must be logged in.",
    "SET MULTICLIENT ON|OFF: whether your devices share one nick and your rooms.",
    "SET ALWAYS-ON ON|OFF: whether you stay in your rooms, away, with no device connected;",
    "what you miss is kept for your next login.",
)
def _set(ctx: Context, session: Session, args: list[str]) -> None:
    name = args[0].upper() if args else ""
    if len(args) == 2 and name in ("MULTICLIENT", "ALWAYS-ON"):
        _set_option(ctx, session, name, args[1].upper())
        return
    if len(args) != 2 or name != "PASSWORD":
        _usage(ctx, session, "SET")
        return
    account = own_account(ctx, session)
    if account is None:
        return
    if plaintext_refused(ctx, session):
        _notice(ctx, session, PLAINTEXT)
        return
    minimum = ctx.settings.accounts.min_password_length
    if len(args[1]) < minimum:
        _notice(ctx, session, f"Use a password of at least {minimum} characters.")
        return

    def done(error: str | None) -> None:
        if error is not None:
            _notice(ctx, session, "The password could not be saved; try again later.")
        else:
            _notice(ctx, session, "Your password has been changed.")

    change_password(ctx, account, args[1], done)


def _set_option(ctx: Context, session: Session, name: str, value: str) -> None:
    """SET MULTICLIENT / ALWAYS-ON: answered once the choice is saved."""
    if value not in ("ON", "OFF"):
        _usage(ctx, session, "SET")
        return
    account = own_account(ctx, session)
    if account is None:
        return
    option = name.lower()
    if option == presence.ALWAYS_ON and ctx.settings.accounts.always_on == "disabled":
        _notice(ctx, session, "Always-on is disabled on this server.")
        return
    if option == presence.MULTICLIENT and not ctx.settings.accounts.multiclient:
        _notice(ctx, session, "Multiclient is disabled on this server.")
        return
    change = presence.set_option(ctx, account.key, option, value == "ON")

    def saved(error: str | None) -> None:
        if error is not None:
            _notice(ctx, session, f"{name} could not be saved; try again later.")
        else:
            _notice(ctx, session, f"{name} is now {value} for your account.")

    ctx.persist([change], saved)


@subcommand(
    "DROP",
    "DROP <account>",
    "Delete your account for good.",
    "Name your account to confirm; every connection logged in to it is logged out.",
)
def _drop(ctx: Context, session: Session, args: list[str]) -> None:
    if len(args) != 1:
        _usage(ctx, session, "DROP")
        return
    account = own_account(ctx, session)
    if account is None:
        return
    if ctx.fold(args[0]) != account.key:
        _notice(ctx, session, f"To confirm, name your own account: DROP {account.name}")
        return
    founded = sorted(
        channel.name
        for channel in ctx.rooms
        if channel.registration is not None
        and channel.registration.founder is not None
        and ctx.fold(channel.registration.founder) == account.key
    )
    if founded:
        # A founder is kept by name: the rooms would pass to whoever registers it next.
        _notice(
            ctx,
            session,
            f"You found {', '.join(founded)}: drop each first (ChanServ DROP <#room>),"
            " or ask a server operator to give it to another account.",
        )
        return

    def committed(error: str | None) -> None:
        if error is not None:
            _notice(ctx, session, "The account could not be dropped; try again later.")
            return
        deviceless = ctx.accounts.online(account.key)  # always-on, asked by another user
        ctx.accounts.drop(account.key)
        ctx.read_markers.forget(account.key)
        if deviceless is not None and not deviceless.conns:
            ctx.close_user(deviceless, "Account dropped")
        _notice(ctx, session, f"Account {account.name} has been dropped.")
        if session.account is not None and ctx.fold(session.account) == account.key:
            log_out(ctx, session)  # this device stays; the user's others are closed
        for other in ctx.sessions.values():
            if other.account is not None and ctx.fold(other.account) == account.key:
                log_out(ctx, other)
            if ctx.fold(other.nick) == account.key:
                other.nick_deadline = None  # nobody owns the nick any more

    changes = [DeleteAccount(account.key)]
    sanctions.audit(ctx, account.name, "account.drop", account.name, "", changes, committed)


@subcommand(
    "INFO",
    "INFO [account]",
    "Show when an account was registered.",
    "Without a name, your own account (or your nickname's) is shown.",
    "The email address is shown only to the account's owner.",
)
def _info(ctx: Context, session: Session, args: list[str]) -> None:
    if len(args) > 1:
        _usage(ctx, session, "INFO")
        return
    name = args[0] if args else (session.account or session.nick)
    account = ctx.accounts.get(ctx.fold(name))
    if account is None:
        _notice(ctx, session, f"{name} is not a registered account.")
        return
    registered = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(account.created_at))
    _notice(ctx, session, f"Information on {account.name}:")
    _notice(ctx, session, f"Registered: {registered}")
    role = f"yes ({account.oper_role})" if account.oper_role else "no"
    _notice(ctx, session, f"Operator account: {role}")
    owner = session.account is not None and ctx.fold(session.account) == account.key
    if owner:
        _notice(ctx, session, f"Email: {account.email or '(none)'}")
        for label, option in (
            ("Multiclient", presence.MULTICLIENT),
            ("Always-on", presence.ALWAYS_ON),
        ):
            on = presence.option(ctx, account.key, option)  # the account's choice, or the server's
            _notice(ctx, session, f"{label}: {'on' if on else 'off'}")


@subcommand("LOGOUT", "LOGOUT", "Log out of your account.")
def _logout(ctx: Context, session: Session, args: list[str]) -> None:
    if session.account is None:
        _notice(ctx, session, "You are not logged in.")
        return
    name = session.account
    others = len(session.owner.conns) - 1
    if others > 0:
        # The account belongs to the user, not to this device: logging out here would
        # log out the others too, or leave them as guests sharing one nick.
        _notice(
            ctx,
            session,
            f"You are connected as {session.nick} on {others} other device(s); "
            "disconnect them first, or just disconnect this one.",
        )
        return
    log_out(ctx, session)
    _notice(ctx, session, f"You are no longer identified for {name}.")


@subcommand(
    "GHOST",
    "GHOST [nick]",
    "Free your account's nickname from a connection that is not logged in to it.",
    "That connection is renamed to a guest nickname. The nick defaults to your account's.",
)
def _ghost(ctx: Context, session: Session, args: list[str]) -> None:
    _reclaim(ctx, session, args, "GHOST", take=False)


@subcommand(
    "REGAIN",
    "REGAIN [nick]",
    "Take back your account's nickname.",
    "Like GHOST, and then your nickname is changed to it.",
)
def _regain(ctx: Context, session: Session, args: list[str]) -> None:
    _reclaim(ctx, session, args, "REGAIN", take=True)


def _reclaim(ctx: Context, session: Session, args: list[str], name: str, *, take: bool) -> None:
    """GHOST and REGAIN: only the account's own nick, only from a session not logged in to it."""
    if len(args) > 1:
        _usage(ctx, session, name)
        return
    account = own_account(ctx, session)
    if account is None:
        return
    nick = args[0] if args else account.name
    if ctx.fold(nick) != account.key:
        _notice(ctx, session, f"You can only reclaim your account's nickname, {account.name}.")
        return
    holder = ctx.nicks.find(nick)
    if holder is session.owner:
        _notice(ctx, session, f"You already have the nickname {session.nick}.")
        return
    if take:
        banned = sanctions.nick_ban(ctx, session, account.name)
        if banned is not None:
            _notice(ctx, session, f"{sanctions.nick_ban_text(banned)}.")
            return
        refused = nick_change_refused(ctx, session, account.name)
        if refused is not None:
            _notice(ctx, session, f"{refused[1]}.")
            return
    if holder is not None:
        if holder.account is not None and ctx.fold(holder.account) == account.key:
            _notice(ctx, session, f"{holder.nick} is logged in to your account; it stays.")
            return
        guest = guest_nick(ctx)
        for device in holder.conns:
            _notice(ctx, device, f"Your nickname was reclaimed by its owner; now {guest}.")
        holder.nick_deadline = None
        change_nick(ctx, holder, guest)
        presence.note_change(ctx, holder)  # an always-on holder keeps the guest nick
        if not take:
            _notice(ctx, session, f"{nick} has been freed.")
    elif not take:
        _notice(ctx, session, f"{nick} is not in use.")
        return
    if take:
        change_nick(ctx, session, account.name)
        guard_nick(ctx, session)
        _notice(ctx, session, f"You have regained the nickname {account.name}.")


subcommand("HELP", "HELP [command]", "Show this list, or how to use one command.")(SERVICE.help)
