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
    throttled_reason,
)
from chatroom.server.core.dispatch import CommandError, command
from chatroom.server.core.session import Session
from chatroom.server.core.welcome import try_register
from chatroom.server.core.world import World
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
def authenticate(world: World, session: Session, msg: Message) -> None:
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
        _start(world, session, arg.upper())
        return
    if state.busy:
        return  # a password check is in flight; its answer ends the exchange
    state.buffer += "" if arg == "+" else arg
    if len(state.buffer) > MAX_SASL_BYTES:
        _fail(world, session)
        return
    if len(arg) == CHUNK:
        return  # more chunks follow
    try:
        data = base64.b64decode(state.buffer, validate=True)
    except (ValueError, binascii.Error):
        _fail(world, session)
        return
    state.buffer = ""
    if state.mechanism == "PLAIN":
        _plain(world, session, state, data)
    elif state.mechanism == "EXTERNAL":
        _external(world, session, data)
    else:
        _scram(world, session, state, data)


def _start(world: World, session: Session, mechanism: str) -> None:
    if mechanism not in MECHANISMS:
        world.reply(session, n.RPL_SASLMECHS, ",".join(MECHANISMS), "are available SASL mechanisms")
        raise CommandError(n.ERR_SASLFAIL, "SASL authentication failed")
    if mechanism == "PLAIN" and plaintext_refused(world, session):
        raise CommandError(
            n.ERR_SASLFAIL,
            "SASL authentication failed: use TLS to send a password (or SCRAM-SHA-256)",
        )
    session.sasl = SaslExchange(mechanism)
    session.send(format_line(None, "AUTHENTICATE", "+"))


def _succeed(world: World, session: Session, account: Account) -> None:
    session.sasl = None
    log_in(world, session, account)
    if session.closed:
        return  # the login itself ended the connection (a banned account)
    world.reply(session, n.RPL_SASLSUCCESS, "SASL authentication successful")


def _fail(world: World, session: Session, why: str = "") -> None:
    session.sasl = None
    text = "SASL authentication failed" + (f": {why}" if why else "")
    world.reply(session, n.ERR_SASLFAIL, text)


def _plain(world: World, session: Session, state: SaslExchange, data: bytes) -> None:
    parts = data.split(b"\0")
    if len(parts) != 3:
        _fail(world, session)
        return
    try:
        authzid, authcid, password = (p.decode("utf-8") for p in parts)
    except UnicodeDecodeError:
        _fail(world, session)
        return
    if authzid and world.fold(authzid) != world.fold(authcid):
        _fail(world, session)
        return
    state.busy = True

    def done(account: Account | None, why: str) -> None:
        if session.closed:
            return
        if account is None:
            _fail(world, session, "" if why.startswith("Invalid") else why)
        else:
            _succeed(world, session, account)
        try_register(world, session)

    password_login(world, session, authcid, password, done)


def _external(world: World, session: Session, data: bytes) -> None:
    """The TLS client certificate's fingerprint must be registered to the account."""
    fingerprint = session.certfp
    wanted = data.decode("utf-8", "replace")
    if fingerprint is not None:
        for account in world.accounts.values():
            if fingerprint in account.certfps and (not wanted or world.fold(wanted) == account.key):
                _succeed(world, session, account)
                return
    world.stats.failed_logins += 1
    _fail(world, session)


def _scram(world: World, session: Session, state: SaslExchange, data: bytes) -> None:
    if state.scram_account is not None:
        _succeed(world, session, state.scram_account)  # the client acknowledged server-final
        return
    if state.scram is None:
        _scram_first(world, session, state, data)
        return
    state.busy = True
    session.auth_pending += 1  # registration waits for the answer, as for PLAIN

    def decided(attempt: LoginAttempt | None, wait: float) -> None:
        session.auth_pending -= 1
        _prove(world, session, state, data, attempt, wait)
        try_register(world, session)

    key = world.fold(state.scram.username)
    answer = world.expect_answer(session, decided, on_timeout=(None, 1.0))
    world.throttle.request(key, admission.address_group(world, session.ip), answer)


def _prove(
    world: World,
    session: Session,
    state: SaslExchange,
    data: bytes,
    attempt: LoginAttempt | None,
    wait: float,
) -> None:
    """client-final: the proof is the guess, checked only with a try reserved for it."""
    if session.closed or session.sasl is not state or state.scram is None:
        if attempt is not None:
            world.throttle.cancel(attempt)  # aborted or gone while held: nothing was guessed
        return
    state.busy = False
    if attempt is None:
        _fail(world, session, throttled_reason(wait))
        return
    step = state.scram.step(data)
    account = world.accounts.get(attempt.account_key)
    if isinstance(step, ScramSuccess) and account is not None:
        world.throttle.succeeded(attempt)
        state.scram_account = account
        _send_chunked(session, step.server_final)
        return
    world.throttle.failed(attempt)
    world.stats.failed_logins += 1
    _fail(world, session)


def _scram_first(world: World, session: Session, state: SaslExchange, data: bytes) -> None:
    """client-first: answer with the salt, unless this name and address are throttled now."""
    exchange = state.scram = ScramServerExchange(
        _scram_lookup(world), world.nonce_factory, secret=world.scram_secret
    )
    step = exchange.step(data)
    if not isinstance(step, ScramChallenge):
        _fail(world, session)
        return
    key = world.fold(exchange.username)
    wait = world.throttle.retry_after(key, admission.address_group(world, session.ip))
    if wait > 0:
        _fail(world, session, throttled_reason(wait))
        return
    _send_chunked(session, step.data)


def _scram_lookup(world: World) -> Callable[[str], str | None]:
    def lookup(username: str) -> str | None:
        account = world.accounts.get(world.fold(username))
        return account.scram if account is not None else None

    return lookup


def _send_chunked(session: Session, data: bytes) -> None:
    encoded = base64.b64encode(data).decode("ascii")
    for i in range(0, len(encoded), CHUNK):
        session.send(format_line(None, "AUTHENTICATE", encoded[i : i + CHUNK]))
    if not encoded or len(encoded) % CHUNK == 0:
        session.send(format_line(None, "AUTHENTICATE", "+"))
