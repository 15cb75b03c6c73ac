"""BATCH from clients (IRCv3 client-batch) for ``draft/multiline`` messages.

Rules (ircv3.net "Multiline messages", "client-initiated batch"):
- ``BATCH +<ref> draft/multiline <target>`` opens a message (only with the capability);
  its PRIVMSG (or NOTICE) lines carry ``@batch=<ref>``, all with the same command and
  target; ``BATCH -<ref>`` delivers it whole, nothing is delivered before;
- errors are ``FAIL BATCH <code>``: MULTILINE_MAX_BYTES and MULTILINE_MAX_LINES (the
  limits advertised in the capability value), MULTILINE_INVALID_TARGET for a line to
  another target, MULTILINE_INVALID for anything else (mixed commands, a blank
  continuation, only blank lines, an unknown reference); after one, the rest of that
  batch is ignored until it closes; a batch open longer than ``multiline.TIMEOUT``
  seconds is dropped with ``FAIL BATCH TIMEOUT <ref>`` (``multiline.expire``, from the
  tick);
- the message then goes where one PRIVMSG/NOTICE to that target would (the same checks:
  bans, quiets, +m, mutes, away reply, echo-message), in one piece: one msgid, one time,
  one history record;
- labeled-response: the label of the opening BATCH goes on the echoed batch's opening
  line, or on an ACK without echo-message, or on the FAIL.
"""

from __future__ import annotations

from collections.abc import Collection

from chatroom.irc import numerics as n
from chatroom.irc.message import Message, format_line
from chatroom.server.core import access, labels, sanctions, services
from chatroom.server.core import multiline as ml
from chatroom.server.core.access import cannot_speak
from chatroom.server.core.context import Context
from chatroom.server.core.conversations import identity, store_message
from chatroom.server.core.dispatch import command
from chatroom.server.core.history import dm_key
from chatroom.server.core.multiline_batch import fail
from chatroom.server.core.session import Session


@command("BATCH", min_params=1)
def batch(ctx: Context, session: Session, msg: Message) -> None:
    """BATCH +<ref> draft/multiline <target>  |  BATCH -<ref>"""
    ref = msg.params[0]
    if ref[:1] == "+" and len(ref) > 1:
        _open(ctx, session, ref[1:], msg)
    elif ref[:1] == "-" and len(ref) > 1:
        _close(ctx, session, ref[1:])
    else:
        fail(ctx, session, "MULTILINE_INVALID", "Invalid batch reference")


def _open(ctx: Context, session: Session, ref: str, msg: Message) -> None:
    params = msg.params
    if ml.CAP not in session.caps:
        fail(ctx, session, "MULTILINE_INVALID", "Negotiate draft/multiline to send a batch")
        return
    if len(params) < 3 or params[1] != ml.BATCH_TYPE or not params[2] or "," in params[2]:
        fail(ctx, session, "MULTILINE_INVALID", "Use BATCH +<ref> draft/multiline <target>")
        return
    if session.multiline is not None and not session.multiline.failed:
        # Batches do not nest: the one left open is dropped, the new one ignored.
        fail(ctx, session, "MULTILINE_INVALID", "A multiline batch is already open")
        session.multiline.ref, session.multiline.failed = ref, True
        return
    tags = {k: v for k, v in msg.tags.items() if k.startswith("+")} if msg.tags else {}
    if "B" in session.modes:
        tags["bot"] = ""
    session.multiline = ml.OpenBatch(
        ref=ref,
        target=params[2],
        opened_at=ctx.clock(),
        tags=tags,
        label=labels.take_label(session),
        cheap=ctx.settings.limits.multiline_max_lines + 1,
    )


def _close(ctx: Context, session: Session, ref: str) -> None:
    open_batch = session.multiline
    if open_batch is None or open_batch.ref != ref:
        fail(ctx, session, "MULTILINE_INVALID", f"No multiline batch {ref} is open")
        return
    session.multiline = None
    if open_batch.failed:
        return  # its error was reported when it happened
    if not open_batch.lines or open_batch.command is None:
        fail(ctx, session, "MULTILINE_INVALID", "Invalid multiline batch", label=open_batch.label)
        return
    if not any(text for text, _ in open_batch.lines):
        fail(
            ctx,
            session,
            "MULTILINE_INVALID",
            "Invalid multiline batch with blank lines only",
            label=open_batch.label,
        )
        return
    _deliver(ctx, session, open_batch)


# ----------------------------------------------------------------------------- delivery


def _deliver(ctx: Context, session: Session, open_batch: ml.OpenBatch) -> None:
    verb = open_batch.command or "PRIVMSG"
    quiet = verb == "NOTICE"
    target = open_batch.target
    if services.find(ctx, target) is not None:
        fail(
            ctx,
            session,
            "MULTILINE_INVALID",
            "Services take one line at a time",
            label=open_batch.label,
        )
        return
    if session.muted is not None and not sanctions.unmuted_targets(ctx, session, [target]):
        return
    session.last_message = ctx.clock()
    echo = "echo-message" in session.caps
    if target.startswith("#"):
        channel = ctx.rooms.find(target)
        if channel is None:
            if not quiet:
                ctx.reply(session, n.ERR_NOSUCHCHANNEL, target, "No such channel")
            return
        reason = cannot_speak(ctx, channel, session)
        if reason is not None:
            if not quiet:
                ctx.reply(session, n.ERR_CANNOTSENDTOCHAN, channel.name, reason)
            return
        key, recipient_id, shown = ctx.fold(channel.name), "", channel.name
        audience: Collection[Session] = channel.sessions
        away = None
    else:
        recipient = ctx.nicks.find(target)
        if recipient is None or not recipient.registered:
            if not quiet:
                ctx.reply(session, n.ERR_NOSUCHNICK, target, "No such nick/channel")
            return
        if access.refuses_guests(session, recipient):
            if not quiet:
                ctx.reply(session, n.ERR_NEEDREGGEDNICK, recipient.nick, access.GUESTS_REFUSED)
            return
        recipient_id = identity(ctx, recipient)
        key, shown = dm_key(identity(ctx, session), recipient_id), recipient.nick
        audience = list(recipient.conns)
        if recipient is not session.owner:  # the sender's other devices see it too
            audience += [conn for conn in session.owner.conns if conn is not session]
        away = recipient.away if verb == "PRIVMSG" else None
        if access.silences(ctx, session, recipient):
            audience, key = [], ""  # dropped unseen: only the echo and 301, not kept
    lines = ml.fit(open_batch.lines, ml.line_budget(session.prefix, verb, shown))
    at, msgid = ctx.now_ms(), ctx.new_msgid()
    message = ml.Message(
        session.prefix, verb, shown, lines, msgid, at, session.account, open_batch.tags
    )
    _send(ctx, session, message, audience, target.startswith("#"), echo, open_batch.label)
    if key:  # else silenced (SILENCE): nothing reached the recipient, nothing to keep
        text, joins = ml.combine(lines)
        tags = {**open_batch.tags, ml.HISTORY_TAG: ml.joins_value(joins)}
        store_message(ctx, session, verb, key, recipient_id, shown, text, tags, msgid, at)
    if away is not None:
        ctx.reply(session, n.RPL_AWAY, shown, away)


def _send(
    ctx: Context,
    session: Session,
    message: ml.Message,
    audience: Collection[Session],
    room: bool,
    echo: bool,
    label: str | None,
) -> None:
    """Each variant (batch or lines, per tag profile) is formatted once and shared.

    The sender gets its echo (with echo-message) after the others, labeled; a message to
    oneself therefore arrives twice with echo-message, as a PRIVMSG to oneself does.
    """
    ref = "M" + message.msgid
    variants: dict[tuple[bool, int], list[bytes]] = {}

    def lines_for(member: Session) -> list[bytes]:
        form = (ml.supports(member), member.tag_profile)
        lines = variants.get(form)
        if lines is None:
            lines = variants[form] = (
                ml.batch_form(message, form[1], ref)
                if form[0]
                else ml.fallback_form(message, form[1])
            )
        return lines

    delivered = 0
    for member in audience:
        if member is session and room:
            continue  # a room's sender hears it only as its echo
        for line in lines_for(member):
            member.send(line)
        delivered += 1
    if echo:
        lines = lines_for(session)
        if label is not None:
            lines = [labels.add_tag(lines[0], "label", label), *lines[1:]]
        for line in lines:
            session.send(line)
        delivered += 1
    elif label is not None:
        session.send(format_line(ctx.name, "ACK", tags={"label": label}))
    ctx.stats.deliveries += delivered
