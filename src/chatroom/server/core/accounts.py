"""Accounts in the core: logging in, creating accounts, and guarding registered nicknames.

Passwords never get checked here: the core asks the shell (``VerifyPassword`` and
``HashPassword`` effects, run in a worker process) and continues when the answer comes
back. Every login path (SASL PLAIN, PASS, NickServ IDENTIFY) goes through
``password_login`` so the throttle, the logging and the single answer for "no such
account" and "wrong password" are the same everywhere.
"""

from __future__ import annotations

import ipaddress
import logging
import math
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from chatroom.irc import numerics as n
from chatroom.irc.masks import is_valid_nick
from chatroom.irc.message import format_line
from chatroom.server.core import metadata, opers, sanctions
from chatroom.server.core.monitor import interested
from chatroom.server.core.nicks import change_nick
from chatroom.server.store.base import Account, PutAccount

if TYPE_CHECKING:
    from chatroom.server.core.session import Session
    from chatroom.server.core.world import World

log = logging.getLogger("chatroom.auth")

LoginDone = Callable[[Account | None, str], None]
BAD_LOGIN = "Invalid account name or password"
NICKSERV = "NickServ"
SERVICE_HOST = "services."


def is_loopback(ip: str) -> bool:
    try:
        return ipaddress.ip_address(ip).is_loopback
    except ValueError:
        return False


def plaintext_refused(world: World, session: Session) -> bool:
    """A password must not cross an unencrypted link from off this machine (unless allowed)."""
    if session.secure or is_loopback(session.ip):
        return False
    return not world.settings.accounts.allow_plaintext_login


def password_login(
    world: World, session: Session, name: str, password: str, done: LoginDone
) -> None:
    """Check ``name``/``password`` off the loop; ``done(account, "")`` or ``done(None, why)``."""
    key = world.fold(name)
    wait = world.throttle.retry_after(key, session.ip)
    if wait > 0:
        done(None, f"Too many failed logins; try again in {math.ceil(wait)} seconds")
        return
    if world.busy_checking_passwords():
        done(None, "The server is busy; try again in a moment")
        return
    account = world.accounts.get(key)
    password_hash = account.password_hash if account is not None else world.dummy_password_hash
    if password_hash is None:
        done(None, BAD_LOGIN)
        return
    session.auth_pending += 1

    def checked(ok: bool, rehashed: tuple[str, str] | None) -> None:
        session.auth_pending -= 1
        current = world.accounts.get(key)
        if ok and account is not None and current is not None:
            world.throttle.succeeded(key, session.ip)
            if rehashed is not None:
                current = replace(current, password_hash=rehashed[0], scram=rehashed[1])
                world.accounts[key] = current
                world.persist([PutAccount(current)])
            done(current, "")
            return
        world.throttle.failed(key, session.ip)
        world.stats.failed_logins += 1
        log.warning("login failed", extra={"account": name, "ip": session.ip})
        done(None, BAD_LOGIN)

    world.verify_password(password_hash, password, checked)


def registration_refusal(world: World, name: str, password: str) -> tuple[str, str] | None:
    """(IRCv3 FAIL code, text) if ``name``/``password`` cannot become an account."""
    policy = world.settings.accounts
    if policy.registration != "open":
        return ("TEMPORARILY_UNAVAILABLE", "Registration is closed; ask an administrator")
    if not is_valid_nick(name, world.settings.limits.nick_length) or world.fold(name) == "nickserv":
        return ("BAD_ACCOUNT_NAME", "That is not a valid account name")
    key = world.fold(name)
    if key in world.accounts or key in world.reserved_accounts:
        return ("ACCOUNT_EXISTS", "That account already exists")
    if len(password) < policy.min_password_length:
        return (
            "WEAK_PASSWORD",
            f"Use a password of at least {policy.min_password_length} characters",
        )
    return None


def create_account(
    world: World, name: str, password: str, email: str | None, done: LoginDone
) -> None:
    """Hash, then persist; ``done`` runs only after the commit (the reply promises it is saved)."""
    key = world.fold(name)
    world.reserved_accounts.add(key)

    def hashed(password_hash: str, scram: str) -> None:
        if not password_hash:
            world.reserved_accounts.discard(key)
            done(None, "The account could not be saved; try again later")
            return
        now = world.clock()
        account = Account(name, key, password_hash, scram, email, now)

        def committed(error: str | None) -> None:
            world.reserved_accounts.discard(key)
            if error is not None:
                log.error("account not saved", extra={"account": name, "error": error})
                done(None, "The account could not be saved; try again later")
                return
            world.accounts[key] = account
            done(account, "")

        changes = [PutAccount(account)]
        sanctions.audit(world, name, "account.register", name, "", changes, committed)

    world.hash_password(password, hashed)


def change_password(
    world: World, account: Account, password: str, done: Callable[[str | None], None]
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
        current = world.accounts.get(account.key)
        if current is None:
            done("the account no longer exists")
            return
        updated = replace(current, password_hash=password_hash, scram=scram)
        world.accounts[account.key] = updated

        def committed(error: str | None) -> None:
            latest = world.accounts.get(account.key)
            if error is not None and latest is not None and latest.password_hash == password_hash:
                world.accounts[account.key] = replace(
                    latest, password_hash=current.password_hash, scram=current.scram
                )
            done(error)

        changes = [PutAccount(updated)]
        sanctions.audit(
            world, account.name, "account.password", account.name, "", changes, committed
        )

    world.hash_password(password, hashed)


def log_in(world: World, session: Session, account: Account) -> None:
    """Mark the session as ``account``: 900, account-notify, and oper powers if granted.

    A server-banned account is refused here (465, ERROR), whatever the login path.
    """
    if not sanctions.admit_account(world, session, account.key, account.name):
        return
    session.account = account.name
    metadata.logged_in(world, session)
    mask = session.prefix if session.nick != "*" else "*"
    world.reply(
        session, n.RPL_LOGGEDIN, mask, account.name, f"You are now logged in as {account.name}"
    )
    if session.registered:
        _notify_account(world, session, account.name)
    if world.fold(session.nick) == account.key:
        session.nick_deadline = None
    opers.grant(world, session, account)


def log_out(world: World, session: Session) -> None:
    if session.account is None:
        return
    metadata.logged_out(world, session)
    session.account = None
    session.muted = None
    opers.revoke(session)
    world.reply(session, n.RPL_LOGGEDOUT, session.prefix, "You are now logged out")
    _notify_account(world, session, "*")


def _notify_account(world: World, session: Session, name: str) -> None:
    """IRCv3 account-notify: peers (and the session) with the cap see the change."""
    watchers = interested(world, session, "account-notify")  # room peers, extended-monitor
    if "account-notify" in session.caps:
        watchers.add(session)
    world.fanout(watchers, session.prefix, "ACCOUNT", name)


def service_notice(world: World, session: Session, text: str) -> None:
    source = f"{NICKSERV}!{NICKSERV}@{SERVICE_HOST}"
    session.send(format_line(source, "NOTICE", session.nick, text))


def guard_nick(world: World, session: Session) -> None:
    """After a nick change: someone else's registered nick must be identified for in time."""
    key = world.fold(session.nick)
    account = world.accounts.get(key)
    if account is None or (session.account is not None and world.fold(session.account) == key):
        session.nick_deadline = None
        return
    grace = world.settings.accounts.nick_grace_seconds
    session.nick_deadline = world.clock() + grace
    service_notice(
        world,
        session,
        f"This nickname is registered. Identify with /msg {NICKSERV} IDENTIFY <password> "
        f"within {int(grace)} seconds, or you will be renamed.",
    )


def expire_nick_grace(world: World) -> None:
    """Called by tick: rename sessions that kept a registered nick without identifying."""
    now = world.clock()
    for session in list(world.sessions.values()):
        deadline = session.nick_deadline
        if deadline is None or now < deadline or session.closed:
            continue
        session.nick_deadline = None
        guest = guest_nick(world)
        service_notice(world, session, f"You did not identify in time; your nick is now {guest}.")
        change_nick(world, session, guest)


def guest_nick(world: World) -> str:
    """A free ``Guest`` nick; deterministic (the session counter) so tests are repeatable."""
    number = len(world.sessions)
    while True:
        number += 1
        nick = f"Guest{number}"
        if world.find_nick(nick) is None:
            return nick


def reconcile_sessions(world: World) -> None:
    """After a reload: sessions of deleted accounts are logged out, oper roles follow."""
    for session in world.sessions.values():
        if session.account is None:
            continue
        account = world.accounts.get(world.fold(session.account))
        if account is None:
            log_out(world, session)
        else:
            opers.follow_account(world, session, account)
