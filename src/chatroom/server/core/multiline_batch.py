"""Lines a client adds to its open ``draft/multiline`` batch, and FAIL BATCH.

BATCH (commands/multiline.py) opens and closes a batch; the lines in between arrive as
PRIVMSG and NOTICE (commands/messaging.py), so adding one lives here, where both reach
it. The limits are those the capability advertises (``limits.multiline_max_lines`` and
``multiline_max_bytes``); after one error the rest of the batch is ignored until it
closes, and lines inside a batch get no ACK of their own (labeled-response).
"""

from __future__ import annotations

from chatroom.irc.message import Message, format_line
from chatroom.server.core import labels
from chatroom.server.core import multiline as ml
from chatroom.server.core.context import Context
from chatroom.server.core.session import Session


class _Invalid(Exception):  # noqa: N818 (a refusal, carried to one FAIL BATCH)
    def __init__(self, code: str, *params: str) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


def fail(ctx: Context, session: Session, code: str, *params: str, label: str | None = None) -> None:
    """``FAIL BATCH <code> ...``, with the batch's label when it carried one."""
    tags = {"label": label} if label is not None else None
    session.send(format_line(ctx.name, "FAIL", "BATCH", code, *params, tags=tags))


def add_line(ctx: Context, session: Session, msg: Message, verb: str) -> None:
    """A PRIVMSG/NOTICE carrying ``@batch=<ref>``: one more line of the open batch."""
    open_batch = session.multiline
    ref = msg.tags.get("batch", "")
    if open_batch is None or open_batch.ref != ref:
        # Not inside a batch after all: the refusal answers this line, with its label.
        fail(ctx, session, "MULTILINE_INVALID", f"No multiline batch {ref} is open")
        return
    labels.take_label(session)  # lines inside a batch get no ACK of their own
    if open_batch.failed:
        return
    try:
        _append(ctx, open_batch, msg, verb)
    except _Invalid as invalid:
        open_batch.failed = True
        fail(ctx, session, invalid.code, *invalid.params, label=open_batch.label)


def _append(ctx: Context, open_batch: ml.OpenBatch, msg: Message, verb: str) -> None:
    limits = ctx.settings.limits
    if open_batch.command is None:
        open_batch.command = verb
    elif open_batch.command != verb:
        raise _Invalid("MULTILINE_INVALID", "A multiline batch mixes PRIVMSG and NOTICE")
    target = msg.params[0] if msg.params else ""
    if ctx.fold(target) != ctx.fold(open_batch.target):
        raise _Invalid(
            "MULTILINE_INVALID_TARGET", open_batch.target, target or "*", "Invalid multiline target"
        )
    text = msg.params[1] if len(msg.params) > 1 else ""
    concat = ml.CONCAT in msg.tags and bool(open_batch.lines)
    if ml.CONCAT in msg.tags and not text:
        raise _Invalid("MULTILINE_INVALID", "Invalid multiline batch with concatenated blank line")
    if len(open_batch.lines) >= limits.multiline_max_lines:
        raise _Invalid(
            "MULTILINE_MAX_LINES",
            str(limits.multiline_max_lines),
            "Multiline batch max-lines exceeded",
        )
    size = open_batch.size + len(text.encode()) + (1 if open_batch.lines and not concat else 0)
    if size > limits.multiline_max_bytes:
        raise _Invalid(
            "MULTILINE_MAX_BYTES",
            str(limits.multiline_max_bytes),
            "Multiline batch max-bytes exceeded",
        )
    open_batch.size = size
    open_batch.lines.append((text, concat))
