"""Finishing registration: the moment a connection becomes (or joins) a user.

NICK, USER, CAP END, PASS, SASL and REGISTER can each supply the last missing piece, so
the check they all end with lives here rather than in any one command module. Rules:
- registration waits for NICK and USER, the end of CAP negotiation and the answer of any
  login in flight; the server password, ``PASS account:password`` (which may create the
  account), the guests setting and server bans are checked in that order;
- a connection logged in to an account whose user is online attaches to that user
  (core/presence.py); otherwise it takes its nick and gets the welcome;
- an account's first device rejoins the rooms it was in last time and gets the private
  messages it missed.
"""

from __future__ import annotations

import contextlib

from chatroom.irc import numerics as n
from chatroom.server.core import metadata, missed, opers, presence, sanctions, snotices
from chatroom.server.core.accounts import (
    create_account,
    email_refusal,
    guard_nick,
    log_in,
    password_login,
    plaintext_refused,
    registration_refusal,
)
from chatroom.server.core.context import Context
from chatroom.server.core.dispatch import CommandError
from chatroom.server.core.joining import join_channel
from chatroom.server.core.monitor import came_online
from chatroom.server.core.replies import send_welcome
from chatroom.server.core.session import Session
from chatroom.server.core.users import User
from chatroom.server.store.base import Account


def try_register(ctx: Context, session: Session) -> None:
    """Finish registration once NICK and USER are in, CAP negotiation is over and any
    login in flight has its answer."""
    if session.registered or session.closed or session.auth_pending:
        return
    if session.nick == "*" or not session.user or session.cap_negotiating:
        return
    if session.sasl is not None:
        # SASL 3.1: registration completed mid-exchange aborts it (906) and the client
        # registers as it is (it may authenticate later with a new exchange).
        session.sasl = None
        ctx.reply(session, n.ERR_SASLABORTED, "SASL authentication aborted")
    expected = ctx.settings.server_password
    if expected is not None:
        if session.password != expected:
            ctx.reply(session, n.ERR_PASSWDMISMATCH, "Password incorrect")
            ctx.close(session, "Bad password")
            return
        session.password = None
    elif session.password is not None and session.account is None:
        _pass_login(ctx, session, session.password)
        return
    if session.account is None and not ctx.settings.accounts.guests:
        ctx.close(
            session,
            "This server needs an account: log in with SASL or PASS account:password, "
            "or create one with REGISTER",
        )
        return
    if not sanctions.check_session(ctx, session):
        return  # a server ban on the nick mask, account or address: 465 and ERROR sent
    user = presence.attachable(ctx, session)
    if user is not None:
        _attach(ctx, session, user)
        return
    holder = ctx.nicks.find(session.nick)
    if holder is not None and holder is not session.owner:
        wanted, session.nick = session.nick, "*"  # never accepted: addressed as at NICK
        ctx.reply(session, n.ERR_NICKNAMEINUSE, wanted, "Nickname is already in use")
        return
    ctx.nicks.claim(session.owner, session.nick)
    session.registered = True
    session.password = None
    session.owner.signed_on = session.connected_at
    ctx.stats.registrations += 1
    ctx.census.registered += 1
    ctx.census.devices += 1
    opers.count_before_welcome(ctx, session)
    send_welcome(ctx, session)
    snotices.connected(ctx, session)
    opers.announce_after_welcome(ctx, session)
    metadata.send_own(ctx, session)
    guard_nick(ctx, session)
    came_online(ctx, session)
    if session.account is not None:
        _account_online(ctx, session)


def _attach(ctx: Context, session: Session, user: User) -> None:
    """Another device of an online user: same nick and rooms; nobody else sees it come."""
    session.password = None
    missing_since = presence.attach(ctx, session, user)
    ctx.stats.registrations += 1
    ctx.census.devices += 1
    send_welcome(ctx, session)
    snotices.connected(ctx, session)
    metadata.send_own(ctx, session)
    presence.burst(ctx, session)
    if missing_since is not None:
        waiting = _take_mailbox(ctx, session)  # kept before the user came back: replay too
        if waiting is not None:
            missing_since = min(missing_since, waiting)
        missed.replay_missed(ctx, session, missing_since, rooms=True)
    presence.note_connected(ctx, user)


def _account_online(ctx: Context, session: Session) -> None:
    """The first device of an account: it rejoins the rooms it was in last time and gets
    the private messages it missed (if it will not ask for them itself)."""
    key = ctx.fold(session.account or "")
    ctx.accounts.set_online(key, session.owner)
    if ctx.accounts.online(key) is not session.owner:
        # The account's user is online (always-on, say) and this one asked for another
        # nick: a separate user of the account (a bot, a client left on its login name).
        # The account's rooms, replay and always-on are its own user's, not this one's.
        return
    session.owner.always_on = presence.option(ctx, key, presence.ALWAYS_ON)
    waiting = _take_mailbox(ctx, session)  # its mailbox starts again
    kept = ctx.accounts.kept(key)
    if kept is not None:
        for name in kept.channels[: ctx.settings.limits.channels_per_user]:
            with contextlib.suppress(CommandError):  # banned, +i or keyed since: stays out
                join_channel(ctx, session, name)
    presence.note_connected(ctx, session.owner)
    if waiting is not None:
        # With no user online, a private message to the account is kept in its mailbox,
        # so what it missed starts at the mailbox's first message. Not at ``kept`` nor at
        # the account's creation: it received everything before that live, including
        # in a session that ended in a crash or a KILL, and must not get it twice.
        missed.replay_missed(ctx, session, waiting, rooms=False)


def _take_mailbox(ctx: Context, session: Session) -> float | None:
    """Empty the account's mailbox of offline messages; just before its first message
    (unix seconds, for ``replay_missed``, which replays what came after), if any."""
    since, change = ctx.accounts.take_waiting(ctx.fold(session.account or ""))
    if change is not None:
        ctx.persist([change])
    return None if since is None else (since - 1) / 1000


def _pass_login(ctx: Context, session: Session, secret: str) -> None:
    """``PASS account:password`` (or ``PASS password`` for the nick's own account).

    With open registration a new nickname plus a password creates the account, as in the
    original chat room. Registration resumes when the check (or the commit) is done.
    """
    session.password = None
    name, sep, password = secret.partition(":")
    if not sep:
        name, password = session.nick, secret
    if plaintext_refused(ctx, session):
        ctx.reply(session, n.ERR_PASSWDMISMATCH, "Use TLS to send a password")
        ctx.close(session, "Password sent without TLS")
        return

    def done(account: Account | None, why: str) -> None:
        session.auth_pending -= 1
        if session.closed:
            return
        if account is None:
            ctx.reply(session, n.ERR_PASSWDMISMATCH, why)
            ctx.close(session, why)
            return
        log_in(ctx, session, account)
        try_register(ctx, session)

    session.auth_pending += 1
    new_account = ctx.fold(name) not in ctx.accounts and ctx.fold(name) == ctx.fold(session.nick)
    creatable = email_refusal(ctx, None) or registration_refusal(
        ctx, name, password, session if new_account else None
    )
    if new_account and creatable is None:
        create_account(ctx, name, password, None, done, session)
    else:
        password_login(ctx, session, name, password, done)
