"""Connection registration and keep-alive: CAP, PASS, NICK, USER, PING, PONG, QUIT, SETNAME."""

from __future__ import annotations

import hmac
import logging
import sys

from chatroom.irc import numerics as n
from chatroom.irc.masks import is_valid_nick
from chatroom.irc.message import MAX_BODY, Message, format_line
from chatroom.irc.packing import pack_words
from chatroom.server.auth.throttle import LoginAttempt
from chatroom.server.core import admission, metadata, presence, sanctions, services
from chatroom.server.core.access import nick_change_refused
from chatroom.server.core.accounts import guard_nick, request_try, throttled_reason
from chatroom.server.core.caps import advertised, ls_tokens, offered, refresh_tag_profile
from chatroom.server.core.context import Context
from chatroom.server.core.dispatch import CommandError, command
from chatroom.server.core.monitor import interested
from chatroom.server.core.nicks import change_nick
from chatroom.server.core.session import NO_CAPS, Session
from chatroom.server.core.welcome import try_register

log = logging.getLogger("chatroom.auth")

# CAP LS lines stay well under 512 bytes even with a long nick and server name.
_CAP_LINE_BUDGET = 400


@command("CAP", min_params=1, before_registration=True)
def cap(ctx: Context, session: Session, msg: Message) -> None:
    """CAP <LS [version] | LIST | REQ :<caps> | END>"""
    sub = msg.params[0].upper()
    if sub == "LS":
        if not session.registered:
            session.cap_negotiating = True
        version = 0
        if len(msg.params) > 1 and msg.params[1].isdigit():
            version = int(msg.params[1])
        # A client cannot go back to an older version: a later bare "CAP LS" is still 302.
        session.cap_version = max(session.cap_version, version)
        if session.cap_version >= 302:
            session.caps |= {"cap-notify"}  # implied by CAP LS 302
        tokens = ls_tokens(session.cap_version, advertised(ctx, session))
        _send_cap_list(ctx, session, "LS", tokens)
    elif sub == "LIST":
        _send_cap_list(ctx, session, "LIST", sorted(session.caps))
    elif sub == "REQ":
        if not session.registered:
            session.cap_negotiating = True
        _cap_req(ctx, session, msg.params[1] if len(msg.params) > 1 else "")
    elif sub == "END":
        if not session.registered:
            session.cap_negotiating = False
            try_register(ctx, session)
    else:
        raise CommandError(n.ERR_INVALIDCAPCMD, msg.params[0], "Invalid CAP command")


def _send_cap_list(ctx: Context, session: Session, sub: str, tokens: list[str]) -> None:
    """Split long lists over several lines; '*' marks continuation for CAP 302 clients.

    A client before CAP 302 cannot tell that more lines follow (the ``irc`` library reads
    only the first to look for ``sasl``), so it gets one line whenever the list fits in
    512 bytes."""
    budget = _CAP_LINE_BUDGET
    if session.cap_version < 302:
        head = f":{ctx.name} CAP {session.nick} {sub} :"
        budget = max(budget, MAX_BODY - 2 - len(head.encode()))
    lines = pack_words(tokens, budget) or [""]  # no caps: one empty list
    for i, line in enumerate(lines):
        more = i < len(lines) - 1 and session.cap_version >= 302
        params = (session.nick, sub, "*", line) if more else (session.nick, sub, line)
        session.send(format_line(ctx.name, "CAP", *params))


def _cap_req(ctx: Context, session: Session, requested: str) -> None:
    """All or nothing: ACK every change, or NAK the whole request."""
    changes: list[tuple[str, bool]] = []
    available = offered(ctx)  # what CAP LS offers now (never sts)
    for token in requested.split():
        name = token[1:] if token.startswith("-") else token
        # cap-notify is part of CAP 302 itself: such a client may not turn it off.
        kept_on = name == "cap-notify" and token.startswith("-") and session.cap_version >= 302
        if name not in available or kept_on:
            session.send(format_line(ctx.name, "CAP", session.nick, "NAK", requested))
            return
        changes.append((name, not token.startswith("-")))
    had_metadata = metadata.CAP in session.caps
    caps = set(session.caps)
    for name, enable in changes:
        if enable:
            caps.add(name)
        else:
            caps.discard(name)
    session.caps = frozenset(caps) if caps else NO_CAPS
    refresh_tag_profile(session)
    session.send(format_line(ctx.name, "CAP", session.nick, "ACK", requested))
    if session.registered and not had_metadata:
        metadata.send_own(ctx, session)  # does nothing unless the cap was just enabled


@command("PASS", min_params=1, before_registration=True)
def pass_(ctx: Context, session: Session, msg: Message) -> None:
    """PASS <password>"""
    if session.registered:
        raise CommandError(n.ERR_ALREADYREGISTERED, "You may not reregister")
    if ctx.settings.server_password is None:
        session.password = msg.params[0]  # an account login, checked at registration
        return
    _check_server_password(ctx, session, msg.params[0])


def _check_server_password(ctx: Context, session: Session, given: str) -> None:
    """A guess at ``server.password`` is a password guess like any other: it goes through
    the login throttle, whose address-group counter it shares with account logins. Its
    second counter is that address group's own (a server-wide one would let strangers lock
    everyone out). Before, one connection could try PASS after PASS, each answered by an
    early REGISTER, at the flood limit's pace.

    ``session.password`` then holds the server password if ``given`` was it, else None,
    as registration and an early REGISTER expect.
    """
    expected = ctx.settings.server_password
    assert expected is not None
    session.password = None
    session.auth_pending += 1

    def decided(attempt: LoginAttempt | None, wait: float) -> None:
        session.auth_pending -= 1
        if attempt is None:
            if not session.closed:
                why = throttled_reason(wait)
                ctx.reply(session, n.ERR_PASSWDMISMATCH, why)
                ctx.close(session, why)
            return
        if session.closed:
            ctx.throttle.cancel(attempt)  # gone while held: nothing was guessed
            return
        if hmac.compare_digest(given.encode(), expected.encode()):
            ctx.throttle.succeeded(attempt)
            session.password = expected
        else:
            ctx.throttle.failed(attempt)
            ctx.stats.failed_logins += 1
            log.warning("wrong server password", extra={"ip": session.ip})
        try_register(ctx, session)

    group = admission.address_group(ctx, session.ip)
    request_try(ctx, session, f"\0server-password {group}", decided)


@command("NICK", before_registration=True)
def nick(ctx: Context, session: Session, msg: Message) -> None:
    """NICK <nickname>"""
    if not msg.params or not msg.params[0]:
        raise CommandError(n.ERR_NONICKNAMEGIVEN, "No nickname given")
    new = msg.params[0]
    if not is_valid_nick(new, ctx.settings.limits.nick_length):
        raise CommandError(n.ERR_ERRONEUSNICKNAME, new, "Erroneous nickname")
    if services.is_service_nick(ctx, new):
        raise CommandError(n.ERR_ERRONEUSNICKNAME, new, "Reserved nickname")
    owner = ctx.nicks.find(new)
    if owner is not None and owner is not session.owner:
        pending_login = session.cap_negotiating or session.password is not None
        logged_in = session.account is not None  # SASL done before NICK, then CAP END
        if (pending_login or logged_in) and not session.registered and owner.account is not None:
            # Maybe another device of the same person, logging in or logged in already:
            # decided when registration ends (it attaches, or hears 433 then).
            session.nick = new
            return
        raise CommandError(n.ERR_NICKNAMEINUSE, new, "Nickname is already in use")
    if new == session.nick:
        return
    if session.registered:
        banned = sanctions.nick_ban(ctx, session, new)
        if banned is not None:
            raise CommandError(n.ERR_ERRONEUSNICKNAME, new, sanctions.nick_ban_text(banned))
        refused = nick_change_refused(ctx, session, new)
        if refused is not None:
            raise CommandError(n.ERR_BANONCHAN, new, refused[0], refused[1])
    change_nick(ctx, session, new)
    if session.registered:
        guard_nick(ctx, session)
        presence.note_change(ctx, session.owner)
    else:
        try_register(ctx, session)


@command("USER", min_params=4, before_registration=True)
def user(ctx: Context, session: Session, msg: Message) -> None:
    """USER <username> <mode> <unused> :<realname>

    An empty real name is 461 (modern docs). A user name keeps its letters, digits and
    ``-_.``; one with none of them (only emoji, say) becomes ``user`` rather than
    leaving the client waiting for a welcome that would never come.
    """
    if session.registered or session.user:
        raise CommandError(n.ERR_ALREADYREGISTERED, "You may not reregister")
    if not msg.params[0] or not msg.params[3]:
        raise CommandError(n.ERR_NEEDMOREPARAMS, "USER", "Not enough parameters")
    limits = ctx.settings.limits
    username = "".join(c for c in msg.params[0] if c.isalnum() or c in "-_.") or "user"
    # No ident lookup is done, so the username is marked as unverified with '~'. Both
    # strings are interned: many clients send the same ones (their defaults), and each
    # connected user keeps them for as long as it stays (about 50 bytes each).
    session.user = sys.intern("~" + username[: limits.user_length - 1])
    session.realname = sys.intern(msg.params[3][: limits.realname_length])
    try_register(ctx, session)


@command("PING", before_registration=True)
def ping(ctx: Context, session: Session, msg: Message) -> None:
    """PING <token>"""
    if not msg.params:
        raise CommandError(n.ERR_NOORIGIN, "No origin specified")
    session.send(format_line(ctx.name, "PONG", ctx.name, msg.params[0]))


@command("PONG", before_registration=True)
def pong(ctx: Context, session: Session, msg: Message) -> None:
    """PONG [server] <token>"""
    session.ping_sent_at = None


@command("QUIT", before_registration=True)
def quit_(ctx: Context, session: Session, msg: Message) -> None:
    """QUIT [:<reason>]"""
    reason = msg.params[0] if msg.params else ""
    ctx.close(session, f"Quit: {reason}" if reason else "Quit")


@command("SETNAME", min_params=1)
def setname(ctx: Context, session: Session, msg: Message) -> None:
    """SETNAME :<realname>  (IRCv3 setname: peers with the cap see the change)"""
    realname = msg.params[0]
    if len(realname) > ctx.settings.limits.realname_length:
        session.send(
            format_line(ctx.name, "FAIL", "SETNAME", "INVALID_REALNAME", "Realname is too long")
        )
        return
    session.realname = sys.intern(realname)
    recipients = interested(ctx, session, "setname")
    if "setname" in session.caps:
        recipients.add(session)
    ctx.fanout(recipients, session.prefix, "SETNAME", realname, account=session.account)
