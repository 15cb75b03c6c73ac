"""Accounts in the core: logging in, creating accounts, and guarding registered nicknames.

Passwords never get checked here: the core asks the shell (``VerifyPassword`` and
``HashPassword`` effects, run in a worker process) and continues when the answer comes
back. Every password login path (SASL PLAIN, PASS, NickServ IDENTIFY, OPER, over TCP and
WebSocket alike) goes through ``password_login`` so the throttle, the logging and the
single answer for "no such account" and "wrong password" are the same everywhere; SASL
SCRAM-SHA-256 checks its proof inline through the same throttle (commands/sasl.py).
"""

from __future__ import annotations

import ipaddress
import logging
import math
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING

from chatroom.irc import numerics as n
from chatroom.irc.masks import is_valid_nick
from chatroom.irc.message import format_line
from chatroom.server.auth.throttle import LoginAttempt
from chatroom.server.core import admission, metadata, opers, presence, sanctions
from chatroom.server.core.monitor import interested
from chatroom.server.core.nicks import change_nick
from chatroom.server.store.base import (
    Account,
    AlreadyExistsText,
    CreateAccount,
    SetAccountPassword,
)

if TYPE_CHECKING:
    from chatroom.server.core.context import Context
    from chatroom.server.core.session import Session
    from chatroom.server.core.users import User

log = logging.getLogger("chatroom.auth")

LoginDone = Callable[[Account | None, str], None]
BAD_LOGIN = "Invalid account name or password"
BUSY = "The server is busy; try again in a moment"
ACCOUNT_EXISTS = "That account already exists"
NICKSERV = "NickServ"
SERVICE_HOST = "services."
MAX_EMAIL_LENGTH = 254


def is_loopback(ip: str) -> bool:
    try:
        return ipaddress.ip_address(ip).is_loopback
    except ValueError:
        return False


def plaintext_refused(ctx: Context, session: Session) -> bool:
    """A password must not cross an unencrypted link from off this machine (unless allowed)."""
    if session.secure or is_loopback(session.ip):
        return False
    return not ctx.settings.accounts.allow_plaintext_login


def throttled_reason(wait: float) -> str:
    """The one answer to a try the throttle refused, whatever the login path."""
    return f"Too many failed logins; try again in {max(1, math.ceil(wait))} seconds"


def password_login(
    ctx: Context, session: Session, name: str, password: str, done: LoginDone
) -> None:
    """Check ``name``/``password`` off the loop; ``done(account, "")`` or ``done(None, why)``.

    The throttle reserves the try before the check starts (``LoginThrottle.request``), so
    checks in flight at once count as failures until they succeed; it may also hold the
    try until earlier ones end. ``session.auth_pending`` covers the whole wait.
    """
    if ctx.busy_checking_passwords():
        done(None, BUSY)
        return
    key = ctx.fold(name)
    session.auth_pending += 1

    def finish(account: Account | None, why: str) -> None:
        session.auth_pending -= 1
        done(account, why)

    def decided(attempt: LoginAttempt | None, wait: float) -> None:
        if attempt is None:
            finish(None, throttled_reason(wait))
            return
        # A connection that hung up meanwhile (``hangup``) gets no check it waited for:
        # nobody is there to use the login, and a guess left behind costs nothing.
        if session.closed or session.hangup is not None or ctx.busy_checking_passwords():
            ctx.throttle.cancel(attempt)  # never checked: not a guess
            finish(None, BUSY)
            return
        account = ctx.accounts.get(key)
        password_hash = account.password_hash if account is not None else ctx.dummy_password_hash
        if password_hash is None:
            ctx.throttle.failed(attempt)  # no password to guess: answered as a wrong one
            finish(None, BAD_LOGIN)
            return

        def checked(ok: bool, rehashed: tuple[str, str] | None) -> None:
            current = ctx.accounts.get(key)
            if ok and account is not None and current is not None:
                ctx.throttle.succeeded(attempt)
                if rehashed is not None:
                    current = replace(current, password_hash=rehashed[0], scram=rehashed[1])
                    ctx.accounts.put(current)
                    ctx.persist([SetAccountPassword(key, *rehashed)])
                finish(current, "")
                return
            ctx.throttle.failed(attempt)
            ctx.stats.failed_logins += 1
            log.warning("login failed", extra={"account": name, "ip": session.ip})
            finish(None, BAD_LOGIN)

        ctx.verify_password(password_hash, password, checked)

    request_try(ctx, session, key, decided)


def request_try(
    ctx: Context,
    session: Session,
    key: str,
    decided: Callable[[LoginAttempt | None, float], None],
) -> None:
    """Ask the throttle for a try at ``key`` from ``session``'s address group.

    The throttle may hold the try until earlier checks end: the connection waits for it as
    for the check itself (replies in order), up to the answer deadline, when ``decided``
    gets ``(None, 1.0)``. A try the throttle grants after that deadline is released at
    once: nobody will check it, and a reservation never ended would count as a try in
    flight for good (three of them, and the account's logins wait forever).
    """
    answered = False

    def on_answer(attempt: LoginAttempt | None, wait: float) -> None:
        nonlocal answered
        answered = True
        decided(attempt, wait)

    answer = ctx.expect_answer(session, on_answer, on_timeout=(None, 1.0))

    def from_throttle(attempt: LoginAttempt | None, wait: float) -> None:
        if not answered:
            answer(attempt, wait)
        elif attempt is not None:
            ctx.throttle.cancel(attempt)  # answered at its deadline: never checked

    ctx.throttle.request(key, admission.address_group(ctx, session.ip), from_throttle)


def registration_refusal(
    ctx: Context, name: str, password: str, session: Session | None = None
) -> tuple[str, str] | None:
    """(IRCv3 FAIL code, text) if ``name``/``password`` cannot become an account; with the
    ``session`` about to create it, its address's hourly budget is checked too (a slot
    taken by ``create_account`` when it starts, given back if it fails)."""
    policy = ctx.settings.accounts
    if policy.registration != "open":
        return ("TEMPORARILY_UNAVAILABLE", "Registration is closed; ask an administrator")
    if not is_valid_nick(name, ctx.settings.limits.nick_length) or ctx.fold(name) == "nickserv":
        return ("BAD_ACCOUNT_NAME", "That is not a valid account name")
    key = ctx.fold(name)
    if ctx.accounts.taken(key):
        return ("ACCOUNT_EXISTS", ACCOUNT_EXISTS)
    if len(password) < policy.min_password_length:
        return (
            "WEAK_PASSWORD",
            f"Use a password of at least {policy.min_password_length} characters",
        )
    if session is not None:
        group, now = admission.address_group(ctx, session.ip), ctx.clock()
        if not ctx.signups.allowed(group, policy.registrations_per_hour, now):
            return ("TEMPORARILY_UNAVAILABLE", "Too many accounts created from your address lately")
    return None


def valid_email(email: str) -> bool:
    """Only a sanity check: the address is stored for the owner, never mailed to."""
    local, at, domain = email.rpartition("@")
    return bool(at and local and domain) and len(email) <= MAX_EMAIL_LENGTH and " " not in email


def email_refusal(ctx: Context, email: str | None) -> tuple[str, str] | None:
    """(IRCv3 FAIL code, text) if ``email`` (None: none given) cannot go with a new account."""
    if email is None:
        if ctx.settings.accounts.require_email:
            return ("NEED_EMAIL", "This server needs an email address to register an account")
        return None
    if not valid_email(email):
        return ("INVALID_EMAIL", "That is not a valid email address")
    return None


def create_account(
    ctx: Context,
    name: str,
    password: str,
    email: str | None,
    done: LoginDone,
    session: Session | None = None,
) -> None:
    """Hash, then persist; ``done`` runs only after the commit (the reply promises it is saved).

    The write is an insert (``CreateAccount``): if another process (``chatroom admin
    create``, another server) took the name since ``registration_refusal`` looked, the
    database refuses it and ``done(None, ACCOUNT_EXISTS)`` says so; nothing is overwritten.
    """
    key = ctx.fold(name)
    ctx.accounts.reserve(key)
    # The address's slot (accounts.registrations_per_hour) is taken now, in the same step
    # as ``registration_refusal``'s check, so registrations in flight count too.
    group = "" if session is None else admission.address_group(ctx, session.ip)
    started = ctx.clock()
    if session is not None:
        ctx.signups.record(group, ctx.settings.accounts.registrations_per_hour, started)

    def failed(why: str) -> None:
        ctx.accounts.unreserve(key)
        if session is not None:
            ctx.signups.release(group, started)
        done(None, why)

    def hashed(password_hash: str, scram: str) -> None:
        if not password_hash:
            failed("The account could not be saved; try again later")
            return
        now = ctx.clock()
        account = Account(name, key, password_hash, scram, email, now)

        def committed(error: str | None) -> None:
            if isinstance(error, AlreadyExistsText):
                log.info("account taken meanwhile", extra={"account": name})
                failed(ACCOUNT_EXISTS)
                return
            if error is not None:
                log.error("account not saved", extra={"account": name, "error": error})
                failed("The account could not be saved; try again later")
                return
            ctx.accounts.unreserve(key)
            ctx.accounts.put(account)
            done(account, "")

        changes = [CreateAccount(account)]
        sanctions.audit(ctx, name, "account.register", name, "", changes, committed)

    ctx.hash_password(password, hashed)


def change_password(
    ctx: Context, account: Account, password: str, done: Callable[[str | None], None]
) -> None:
    """Hash, then apply and persist; ``done(error)`` after the commit.

    The new hash is applied to the record as it is when the hash is ready, not as it was
    when asked: other changes to the account (NickServ CERT) may have happened meanwhile,
    and they are written through the same ordered writer, so each must build on the last.
    A failed commit puts the old password back.
    """

    def hashed(password_hash: str, scram: str) -> None:
        if not password_hash:
            done("the password could not be hashed")
            return
        current = ctx.accounts.get(account.key)
        if current is None:
            done("the account no longer exists")
            return
        updated = replace(current, password_hash=password_hash, scram=scram)
        ctx.accounts.put(updated)

        def committed(error: str | None) -> None:
            latest = ctx.accounts.get(account.key)
            if error is not None and latest is not None and latest.password_hash == password_hash:
                ctx.accounts.put(
                    replace(latest, password_hash=current.password_hash, scram=current.scram)
                )
            done(error)

        changes = [SetAccountPassword(account.key, password_hash, scram)]
        sanctions.audit(ctx, account.name, "account.password", account.name, "", changes, committed)

    ctx.hash_password(password, hashed)


def log_in(ctx: Context, session: Session, account: Account) -> None:
    """Mark the session as ``account``: 900, account-notify, and oper powers if granted.

    A server-banned account is refused here (465, ERROR), whatever the login path.
    """
    if not sanctions.admit_account(ctx, session, account.key, account.name):
        return
    session.account = account.name
    metadata.logged_in(ctx, session)
    # Before USER the user name is unknown: ``nick!*@host``, never an empty field.
    owner = session.owner
    mask = f"{owner.nick}!{owner.user or '*'}@{owner.host}" if owner.nick != "*" else "*"
    ctx.reply(
        session, n.RPL_LOGGEDIN, mask, account.name, f"You are now logged in as {account.name}"
    )
    if session.registered:
        _notify_account(ctx, session, account.name)
        ctx.accounts.set_online(account.key, session.owner)
    if ctx.fold(session.nick) == account.key:
        session.nick_deadline = None
    opers.grant(ctx, session, account)


def log_out(ctx: Context, session: Session) -> None:
    """Log the session's user out (its account dropped or deleted, NickServ LOGOUT). A
    guest has one connection: the user's other devices are closed first."""
    if session.account is None:
        return
    for other in [conn for conn in session.owner.conns if conn is not session]:
        ctx.close(other, f"Logged out of {session.account}")
    metadata.logged_out(ctx, session)
    ctx.accounts.set_offline(ctx.fold(session.account), session.owner)
    session.owner.always_on = False  # only an account stays without a device
    session.account = None
    session.muted = None
    opers.revoke(ctx, session)
    ctx.reply(session, n.RPL_LOGGEDOUT, session.prefix, "You are now logged out")
    _notify_account(ctx, session, "*")


def _notify_account(ctx: Context, session: Session, name: str) -> None:
    """IRCv3 account-notify: peers (and the session) with the cap see the change."""
    watchers = interested(ctx, session, "account-notify")  # room peers, extended-monitor
    if "account-notify" in session.caps:
        watchers.add(session)
    account = None if name == "*" else name  # account-tag: a login is the account's own line
    ctx.fanout(watchers, session.prefix, "ACCOUNT", name, account=account)


def service_notice(ctx: Context, session: Session, text: str) -> None:
    source = f"{NICKSERV}!{NICKSERV}@{SERVICE_HOST}"
    session.send(format_line(source, "NOTICE", session.nick, text))


def guard_nick(ctx: Context, session: Session) -> None:
    """After a nick change: someone else's registered nick must be identified for in time."""
    key = ctx.fold(session.nick)
    account = ctx.accounts.get(key)
    if account is None or (session.account is not None and ctx.fold(session.account) == key):
        session.nick_deadline = None
        return
    grace = ctx.settings.accounts.nick_grace_seconds
    session.nick_deadline = ctx.clock() + grace
    service_notice(
        ctx,
        session,
        f"This nickname is registered. Identify with /msg {NICKSERV} IDENTIFY <password> "
        f"within {int(grace)} seconds, or you will be renamed.",
    )


def expire_nick_grace(ctx: Context) -> None:
    """Called by tick: rename sessions that kept a registered nick without identifying."""
    now = ctx.clock()
    for session in list(ctx.sessions.values()):
        deadline = session.nick_deadline
        if deadline is None or now < deadline or session.closed:
            continue
        take_back_nick(ctx, session.owner)


def take_back_nick(ctx: Context, user: User) -> None:
    """The user kept someone else's registered nick past its grace, or its last device
    left during it (nobody is left to identify, and an always-on user would keep the nick
    for good): it gets a guest nick, saved as the always-on user's own."""
    user.nick_deadline = None
    guest = guest_nick(ctx)
    for conn in user.conns:
        service_notice(ctx, conn, f"You did not identify in time; your nick is now {guest}.")
    change_nick(ctx, user, guest)
    presence.note_change(ctx, user)


def guest_nick(ctx: Context) -> str:
    """A free ``Guest`` nick; deterministic (the session counter) so tests are repeatable."""
    number = len(ctx.sessions)
    while True:
        number += 1
        nick = f"Guest{number}"
        if ctx.nicks.find(nick) is None:
            return nick


def online_oper_roles(ctx: Context) -> dict[str, str | None]:
    """The stored operator role of every account logged in here, before a reload, so that
    ``reconcile_sessions`` can tell a role just granted from one that was there."""
    roles: dict[str, str | None] = {}
    for session in ctx.sessions.values():
        if session.account is not None:
            key = ctx.fold(session.account)
            account = ctx.accounts.get(key)
            roles[key] = None if account is None else account.oper_role
    return roles


def reconcile_sessions(ctx: Context, roles_before: Mapping[str, str | None]) -> None:
    """After a reload: sessions of deleted accounts are logged out, oper roles follow,
    and an always-on user with no device whose account is gone leaves.

    An account granted a role while logged in (``chatroom admin oper NAME on``) becomes
    an operator at once, on every device, each told with 381 and ``MODE +o``; one that
    had its role already and dropped ``+o`` itself is left as it chose.
    """
    for user in ctx.accounts.online_users():
        if ctx.fold(user.account or "") not in ctx.accounts and not user.conns:
            ctx.close_user(user, "Account deleted")
    granted: set[User] = set()
    for session in ctx.sessions.values():
        if session.account is None:
            continue
        key = ctx.fold(session.account)
        account = ctx.accounts.get(key)
        if account is None:
            log_out(ctx, session)
            continue
        opers.follow_account(ctx, session, account)
        if account.oper_role is None or roles_before.get(key, account.oper_role) is not None:
            continue
        if opers.grant(ctx, session, account):
            granted.add(session.owner)
        elif session.owner in granted and session.registered:
            opers.tell(ctx, session)  # another device of the user just made operator
