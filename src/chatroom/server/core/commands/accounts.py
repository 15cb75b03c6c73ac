"""Account registration: IRCv3 ``draft/account-registration`` (REGISTER).

NickServ offers the same for clients that only know services (commands/nickserv.py).
A successful REGISTER is answered only after the account is committed to the store, and
logs the client in, as the specification asks.

Settings the capability value announces: ``accounts.registration_before_connect``
("before-connect"; without it REGISTER waits for the welcome) and
``accounts.require_email`` ("email-required"; the address is stored, never mailed).
"""

from __future__ import annotations

from chatroom.irc.message import Message, format_line
from chatroom.server.core.accounts import (
    ACCOUNT_EXISTS,
    create_account,
    email_refusal,
    log_in,
    plaintext_refused,
    registration_refusal,
)
from chatroom.server.core.context import Context
from chatroom.server.core.dispatch import command
from chatroom.server.core.session import Session
from chatroom.server.core.welcome import try_register
from chatroom.server.store.base import Account


def _fail(ctx: Context, session: Session, code: str, account: str, text: str) -> None:
    session.send(format_line(ctx.name, "FAIL", "REGISTER", code, account, text))


@command("REGISTER", min_params=3, before_registration=True)
def register(ctx: Context, session: Session, msg: Message) -> None:
    """REGISTER <account> <email|*> <password>"""
    name, email, password = msg.params[:3]
    if session.account is not None:
        _fail(ctx, session, "ALREADY_AUTHENTICATED", name, "You are already logged in")
        return
    if not session.registered:
        early = _too_early(ctx, session)
        if early is not None:
            session.send(format_line(ctx.name, "FAIL", "REGISTER", *early))
            return
    if name == "*":
        name = session.nick
    if name == "*":
        _fail(ctx, session, "NEED_NICK", name, "Send NICK before REGISTER")
        return
    if ctx.fold(name) != ctx.fold(session.nick):
        _fail(ctx, session, "ACCOUNT_NAME_MUST_BE_NICK", name, "Register your current nick")
        return
    if plaintext_refused(ctx, session):
        _fail(ctx, session, "UNACCEPTABLE_PASSWORD", name, "Use TLS to send a password")
        return
    registered_email = None if email == "*" else email
    refusal = email_refusal(ctx, registered_email) or registration_refusal(
        ctx, name, password, session
    )
    if refusal is not None:
        _fail(ctx, session, refusal[0], name, refusal[1])
        return
    session.auth_pending += 1

    def done(account: Account | None, why: str) -> None:
        session.auth_pending -= 1
        if session.closed:
            return
        if account is None:
            code = "ACCOUNT_EXISTS" if why == ACCOUNT_EXISTS else "TEMPORARILY_UNAVAILABLE"
            _fail(ctx, session, code, name, why)
        else:
            session.send(
                format_line(ctx.name, "REGISTER", "SUCCESS", account.name, "Account created")
            )
            log_in(ctx, session, account)
        try_register(ctx, session)

    create_account(ctx, name, password, registered_email, done, session)


def _too_early(ctx: Context, session: Session) -> tuple[str, ...] | None:
    """Why REGISTER must wait for the welcome, as FAIL parameters; None if it may go on.

    Without "before-connect" the spec's answer is COMPLETE_CONNECTION_REQUIRED. With it, an
    early REGISTER must still not get round the server password, which is checked only
    when registration completes (the spec's "server considerations").
    """
    if not ctx.settings.accounts.registration_before_connect:
        return ("COMPLETE_CONNECTION_REQUIRED", "Register your account after connecting")
    expected = ctx.settings.server_password
    if expected is not None and session.password != expected:
        return ("TEMPORARILY_UNAVAILABLE", "*", "Send the server password (PASS) first")
    return None
