"""SASL (IRCv3 sasl 3.2): AUTHENTICATE with PLAIN, EXTERNAL and SCRAM-SHA-256.

Client data arrives base64-encoded in chunks of at most 400 bytes; a chunk of exactly 400
means more follows, ``+`` stands for an empty chunk, ``*`` aborts. PLAIN waits for the
password check in a worker process; SCRAM needs only HMACs over the stored verifier, so
its proof is checked inline, once the login throttle has reserved a try for it (as it does
for PLAIN). Every failure, whatever its cause, gets the same 904.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from dataclasses import dataclass

from chatroom.irc import numerics as n
from chatroom.irc.message import Message, format_line
from chatroom.server.auth.scram import (
    ScramChallenge,
    ScramServerExchange,
    ScramSuccess,
)
from chatroom.server.auth.throttle import LoginAttempt
from chatroom.server.core import admission
from chatroom.server.core.accounts import (
    log_in,
    password_login,
    plaintext_refused,
    request_try,
    throttled_reason,
)
from chatroom.server.core.context import Context
from chatroom.server.core.dispatch import CommandError, command
from chatroom.server.core.session import Session
from chatroom.server.core.welcome import try_register
from chatroom.server.store.base import Account

MECHANISMS = ("PLAIN", "EXTERNAL", "SCRAM-SHA-256")
CHUNK = 400
MAX_SASL_BYTES = 8192


@dataclass(slots=True)
class SaslExchange:
    mechanism: str
    buffer: str = ""
    busy: bool = False
    scram: ScramServerExchange | None = None
    scram_account: Account | None = None  # server-final sent; waiting for the client's "+"


@command("AUTHENTICATE", min_params=1, before_registration=True)
def authenticate(ctx: Context, session: Session, msg: Message) -> None:
    """AUTHENTICATE <mechanism> | <base64 chunk> | + | *"""
    arg = msg.params[0]
    if "sasl" not in session.caps:
        raise CommandError(n.ERR_SASLFAIL, "SASL authentication failed: request the sasl cap")
    if session.account is not None:
        raise CommandError(n.ERR_SASLALREADY, "You have already authenticated using SASL")
    state = session.sasl
    if arg == "*":
        session.sasl = None
        raise CommandError(n.ERR_SASLABORTED, "SASL authentication aborted")
    if len(arg) > CHUNK:
        session.sasl = None
        raise CommandError(n.ERR_SASLTOOLONG, "SASL message too long")
    if not isinstance(state, SaslExchange):
        _start(ctx, session, arg.upper())
        return
    if state.busy:
        return  # a password check is in flight; its answer ends the exchange
    state.buffer += "" if arg == "+" else arg
    if len(state.buffer) > MAX_SASL_BYTES:
        _fail(ctx, session)
        return
    if len(arg) == CHUNK:
        return  # more chunks follow
    try:
        data = base64.b64decode(state.buffer, validate=True)
    except (ValueError, binascii.Error):
        _fail(ctx, session)
        return
    state.buffer = ""
    if state.mechanism == "PLAIN":
        _plain(ctx, session, state, data)
    elif state.mechanism == "EXTERNAL":
        _external(ctx, session, data)
    else:
        _scram(ctx, session, state, data)


def _start(ctx: Context, session: Session, mechanism: str) -> None:
    if mechanism not in MECHANISMS:
        ctx.reply(session, n.RPL_SASLMECHS, ",".join(MECHANISMS), "are available SASL mechanisms")
        raise CommandError(n.ERR_SASLFAIL, "SASL authentication failed")
    if mechanism == "PLAIN" and plaintext_refused(ctx, session):
        raise CommandError(
            n.ERR_SASLFAIL,
            "SASL authentication failed: use TLS to send a password (or SCRAM-SHA-256)",
        )
    session.sasl = SaslExchange(mechanism)
    session.send(format_line(None, "AUTHENTICATE", "+"))


def _succeed(ctx: Context, session: Session, account: Account) -> None:
    session.sasl = None
    log_in(ctx, session, account)
    if session.closed:
        return  # the login itself ended the connection (a banned account)
    ctx.reply(session, n.RPL_SASLSUCCESS, "SASL authentication successful")


def _fail(ctx: Context, session: Session, why: str = "") -> None:
    session.sasl = None
    text = "SASL authentication failed" + (f": {why}" if why else "")
    ctx.reply(session, n.ERR_SASLFAIL, text)


def _plain(ctx: Context, session: Session, state: SaslExchange, data: bytes) -> None:
    parts = data.split(b"\0")
    if len(parts) != 3:
        _fail(ctx, session)
        return
    try:
        authzid, authcid, password = (p.decode("utf-8") for p in parts)
    except UnicodeDecodeError:
        _fail(ctx, session)
        return
    if authzid and ctx.fold(authzid) != ctx.fold(authcid):
        _fail(ctx, session)
        return
    state.busy = True

    def done(account: Account | None, why: str) -> None:
        if session.closed:
            return
        if account is None:
            _fail(ctx, session, "" if why.startswith("Invalid") else why)
        else:
            _succeed(ctx, session, account)
        try_register(ctx, session)

    password_login(ctx, session, authcid, password, done)


def _external(ctx: Context, session: Session, data: bytes) -> None:
    """The TLS client certificate's fingerprint must be registered to the account."""
    fingerprint = session.certfp
    wanted = data.decode("utf-8", "replace")
    if fingerprint is not None:
        for account in ctx.accounts.values():
            if fingerprint in account.certfps and (not wanted or ctx.fold(wanted) == account.key):
                _succeed(ctx, session, account)
                return
    ctx.stats.failed_logins += 1
    _fail(ctx, session)


def _scram(ctx: Context, session: Session, state: SaslExchange, data: bytes) -> None:
    if state.scram_account is not None:
        _succeed(ctx, session, state.scram_account)  # the client acknowledged server-final
        return
    if state.scram is None:
        _scram_first(ctx, session, state, data)
        return
    state.busy = True
    session.auth_pending += 1  # registration waits for the answer, as for PLAIN

    def decided(attempt: LoginAttempt | None, wait: float) -> None:
        session.auth_pending -= 1
        _prove(ctx, session, state, data, attempt, wait)
        try_register(ctx, session)

    request_try(ctx, session, ctx.fold(state.scram.username), decided)


def _prove(
    ctx: Context,
    session: Session,
    state: SaslExchange,
    data: bytes,
    attempt: LoginAttempt | None,
    wait: float,
) -> None:
    """client-final: the proof is the guess, checked only with a try reserved for it."""
    gone = session.closed or session.hangup is not None
    if gone or session.sasl is not state or state.scram is None:
        if attempt is not None:
            ctx.throttle.cancel(attempt)  # aborted or gone while held: nothing was guessed
        return
    state.busy = False
    if attempt is None:
        _fail(ctx, session, throttled_reason(wait))
        return
    step = state.scram.step(data)
    account = ctx.accounts.get(attempt.account_key)
    if isinstance(step, ScramSuccess) and account is not None:
        ctx.throttle.succeeded(attempt)
        state.scram_account = account
        _send_chunked(session, step.server_final)
        return
    ctx.throttle.failed(attempt)
    ctx.stats.failed_logins += 1
    _fail(ctx, session)


def _scram_first(ctx: Context, session: Session, state: SaslExchange, data: bytes) -> None:
    """client-first: answer with the salt, unless this name and address are throttled now."""
    exchange = state.scram = ScramServerExchange(
        _scram_lookup(ctx), ctx.nonce_factory, secret=ctx.scram_secret, fold=ctx.fold
    )
    step = exchange.step(data)
    if not isinstance(step, ScramChallenge):
        _fail(ctx, session)
        return
    key = ctx.fold(exchange.username)
    wait = ctx.throttle.retry_after(key, admission.address_group(ctx, session.ip))
    if wait > 0:
        _fail(ctx, session, throttled_reason(wait))
        return
    _send_chunked(session, step.data)


def _scram_lookup(ctx: Context) -> Callable[[str], str | None]:
    def lookup(username: str) -> str | None:
        account = ctx.accounts.get(ctx.fold(username))
        return account.scram if account is not None else None

    return lookup


def _send_chunked(session: Session, data: bytes) -> None:
    encoded = base64.b64encode(data).decode("ascii")
    for i in range(0, len(encoded), CHUNK):
        session.send(format_line(None, "AUTHENTICATE", encoded[i : i + CHUNK]))
    if not encoded or len(encoded) % CHUNK == 0:
        session.send(format_line(None, "AUTHENTICATE", "+"))
