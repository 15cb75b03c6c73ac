"""PRIVMSG, NOTICE and TAGMSG: the hot path of the whole server.

A room message is formatted once per tag variant and the same bytes are queued for every
member (``Context.fanout``); nothing here is done per recipient except choosing a variant.
NOTICE never provokes an error reply (RFC 2812 3.3.2), so loops between bots cannot start.

A text that fits in the sender's line can be too long once the server puts the sender's
``nick!user@host`` in front of it: it is cut at a UTF-8 boundary (``fit_trailing``) before
it is fanned out and stored, so every copy, the echo and the history hold the same text.
A message to oneself arrives twice with echo-message: the echo (a reply, labeled) and the
delivery (a side effect, never labeled), as the IRCv3 labeled-response spec asks.
"""

from __future__ import annotations

from chatroom.irc import numerics as n
from chatroom.irc.message import MAX_BODY, Message, fit_trailing
from chatroom.server.core import access, multiline_batch, offline, sanctions, services, statusmsg
from chatroom.server.core.access import room_to_speak_in
from chatroom.server.core.context import Context
from chatroom.server.core.conversations import identity, store_message
from chatroom.server.core.dispatch import SHORTCUTS, CommandError, Shortcut, command
from chatroom.server.core.history import dm_key, format_time
from chatroom.server.core.session import Session
from chatroom.server.core.users import User


@command("PRIVMSG")
def privmsg(ctx: Context, session: Session, msg: Message) -> None:
    """PRIVMSG <target>{,<target>} :<text>"""
    if msg.tags and "batch" in msg.tags:
        multiline_batch.add_line(ctx, session, msg, "PRIVMSG")  # a line of a multiline batch
        return
    _deliver(ctx, session, msg, "PRIVMSG")


@command("NOTICE")
def notice(ctx: Context, session: Session, msg: Message) -> None:
    """NOTICE <target>{,<target>} :<text>"""
    if msg.tags and "batch" in msg.tags:
        multiline_batch.add_line(ctx, session, msg, "NOTICE")
        return
    _deliver(ctx, session, msg, "NOTICE")


@command("TAGMSG", min_params=1)
def tagmsg(ctx: Context, session: Session, msg: Message) -> None:
    """TAGMSG <target>{,<target>}  (IRCv3 message-tags: tags only, e.g. +typing)"""
    _deliver(ctx, session, msg, "TAGMSG")


def _client_tags(ctx: Context, session: Session, msg: Message) -> dict[str, str]:
    """Client-only tags (``+name``) are relayed; server tags from clients are dropped."""
    tags = {k: v for k, v in msg.tags.items() if k.startswith("+")} if msg.tags else {}
    if "B" in session.owner.modes:
        tags["bot"] = ""
    return tags


def _room_line(ctx: Context, session: Session, line: bytes) -> tuple[str, str] | None:
    """The room and text of ``PRIVMSG #room :text`` when ``_say_in_room`` delivers it as
    ``privmsg`` would, else None (the line is parsed and dispatched as any other).

    That is: the line parses to exactly ("#room", text) with no tags and no source (one
    target, no space in it, a trailing, nothing ``parse`` refuses), it is valid UTF-8,
    the text is not empty, and the sender is registered, not muted, and writes to no
    service. Everything else ``_deliver`` checks cannot fail for such a line.
    """
    if not session.registered or len(line) > MAX_BODY - 2:
        return None
    try:
        decoded = line.decode()
    except UnicodeDecodeError:
        return None  # refused by the general path (UTF8ONLY)
    head, _, text = decoded.partition(" :")
    target = head[8:]
    if (
        not text  # also no trailing at all: the general path answers 412 or reads words
        or " " in target
        or "," in target
        or "\0" in decoded
        or "\r" in decoded
        or "\n" in decoded
        or session.owner.muted is not None
        or services.find(ctx, target) is not None
        or ctx.settings.limits.targets_per_message < 1
    ):
        return None
    return target, text


def _say_in_room(ctx: Context, session: Session, said: tuple[str, str]) -> None:
    """``_deliver`` for a line ``_room_line`` accepted: one room, no client tags."""
    user = session.owner
    tags = {"bot": ""} if "B" in user.modes else {}
    user.last_message = ctx.clock()
    echo = "echo-message" in session.caps
    _to_channel(ctx, session, "PRIVMSG", said[0], (said[1],), tags, echo, False)


SHORTCUTS.append(Shortcut("PRIVMSG", b"PRIVMSG #", _room_line, _say_in_room))


def _deliver(ctx: Context, session: Session, msg: Message, verb: str) -> None:
    quiet = verb == "NOTICE"
    params = msg.params
    if not params or not params[0]:
        if quiet:
            return
        raise CommandError(n.ERR_NORECIPIENT, f"No recipient given ({verb})")
    if verb == "TAGMSG":
        text: tuple[str, ...] = ()
    elif len(params) < 2 or not params[1]:
        if quiet:
            return
        raise CommandError(n.ERR_NOTEXTTOSEND, "No text to send")
    else:
        text = (params[1],)
    targets = params[0].split(",")
    if len(targets) > ctx.settings.limits.targets_per_message:
        if quiet:
            return
        raise CommandError(n.ERR_TOOMANYTARGETS, params[0], "Too many targets")
    if verb != "TAGMSG":
        for target in targets:
            service = services.find(ctx, target)
            if service is not None:
                # Service text may carry passwords: it goes to the service alone, never
                # relayed or echoed.
                if len(targets) > 1:
                    if not quiet:
                        name = service.name
                        raise CommandError(n.ERR_TOOMANYTARGETS, name, f"Message {name} alone")
                    return
                service.message(ctx, session, text[0], quiet=quiet)
                return
    user = session.owner  # read once: the hot path pays no property per field
    if user.muted is not None:  # one field check: unmuted senders pay nothing more
        targets = sanctions.unmuted_targets(ctx, session, targets)
    tags = _client_tags(ctx, session, msg)
    user.last_message = ctx.clock()
    echo = "echo-message" in session.caps
    for target in targets:
        if target.startswith("#"):
            _to_channel(ctx, session, verb, target, text, tags, echo, quiet)
        elif (status := statusmsg.split_target(target)) is not None:  # "@#room", "+#room"
            statusmsg.deliver(ctx, session, verb, *status, text, tags, echo, quiet)
        else:
            _to_user(ctx, session, verb, target, text, tags, echo, quiet)


def _to_channel(
    ctx: Context,
    session: Session,
    verb: str,
    target: str,
    text: tuple[str, ...],
    tags: dict[str, str],
    echo: bool,
    quiet: bool,
) -> None:
    key = ctx.fold(target)  # once: it finds the room and files the line in history
    channel = room_to_speak_in(ctx, session, ctx.rooms.get(key), target, text, quiet)
    if channel is None:
        return
    prefix = session.owner.prefix
    at, msgid = ctx.now_ms(), ctx.new_msgid()  # once per message, for every copy
    skip = None if echo else session
    if verb == "TAGMSG":
        members = [m for m in channel.sessions if "message-tags" in m.caps]
        ctx.fanout(
            members,
            prefix,
            verb,
            channel.name,
            client_tags=tags,
            account=session.owner.account,
            skip=skip,
            msgid=msgid,
            time_tag=format_time(at),
        )
        return
    said = fit_trailing(prefix, verb, channel.name, text[0])
    ctx.fanout_room(
        channel,
        prefix,
        verb,
        channel.name,
        said,
        msgid=msgid,
        time_tag=format_time(at),
        client_tags=tags,
        account=session.owner.account,
        skip=skip,
    )
    store_message(ctx, session, verb, key, "", channel.name, said, tags, msgid, at)


def _to_user(
    ctx: Context,
    session: Session,
    verb: str,
    target: str,
    text: tuple[str, ...],
    tags: dict[str, str],
    echo: bool,
    quiet: bool,
) -> None:
    recipient = ctx.nicks.find(target)
    if recipient is None or not recipient.registered:
        if text and offline.store_for_account(ctx, session, verb, target, text[0], tags):
            return  # kept for an account that is offline; the sender was told
        if not quiet:
            ctx.reply(session, n.ERR_NOSUCHNICK, target, "No such nick/channel")
        return
    # +R and SILENCE: both rare, so the common message pays one test for the two.
    guarded = "R" in recipient.modes or recipient.occasional is not None
    if guarded and access.refuses_guests(session, recipient):
        if not quiet:
            ctx.reply(session, n.ERR_NEEDREGGEDNICK, recipient.nick, access.GUESTS_REFUSED)
        return
    if text:
        text = (fit_trailing(session.prefix, verb, recipient.nick, text[0]),)
    if guarded and access.silences(ctx, session, recipient):
        # Dropped without a word: the sender's echo and 301 still come, as if delivered.
        if echo:
            at, msgid = ctx.now_ms(), ctx.new_msgid()
            _relay(
                ctx, [session], session, verb, recipient.nick, text, tags, msgid, format_time(at)
            )
        if verb == "PRIVMSG" and recipient.away is not None:
            ctx.reply(session, n.RPL_AWAY, recipient.nick, recipient.away)
        return
    # Every connection of the recipient, and the sender's other connections (so each
    # device of a person shows what another one said); the sender itself only as echo.
    recipients = [
        conn
        for conn in _devices(recipient, session.owner)
        if conn is not session and (verb != "TAGMSG" or "message-tags" in conn.caps)
    ]
    if echo:
        recipients.append(session)  # to oneself too: the echo answers a labeled request
    at, msgid = ctx.now_ms(), ctx.new_msgid()  # once per message, for every copy
    copy = (session, verb, recipient.nick, text, tags, msgid, format_time(at))
    _relay(ctx, recipients, *copy)
    if recipient is session.owner and (verb != "TAGMSG" or "message-tags" in session.caps):
        capture, session.capture = session.capture, None
        try:
            _relay(ctx, [session], *copy)  # the delivery: a side effect, never labeled
        finally:
            session.capture = capture
    if text:
        other = identity(ctx, recipient)
        key = dm_key(identity(ctx, session), other)
        store_message(ctx, session, verb, key, other, recipient.nick, text[0], tags, msgid, at)
    if verb == "PRIVMSG" and recipient.away is not None:
        ctx.reply(session, n.RPL_AWAY, recipient.nick, recipient.away)


def _devices(recipient: User, sender: User) -> list[Session]:
    """The connections a private message goes to: the recipient's and the sender's."""
    if recipient is sender:
        return list(recipient.conns)
    return [*recipient.conns, *sender.conns]


def _relay(
    ctx: Context,
    recipients: list[Session],
    session: Session,
    verb: str,
    target: str,
    text: tuple[str, ...],
    tags: dict[str, str],
    msgid: str,
    time_tag: str,
) -> None:
    """One private message to some of its copies, all with the same msgid and time."""
    ctx.fanout(
        recipients,
        session.prefix,
        verb,
        target,
        *text,
        client_tags=tags,
        account=session.account,
        msgid=msgid,
        time_tag=time_tag,
    )
