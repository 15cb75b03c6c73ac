"""IRCv3 ``draft/multiline``: one message of several lines, its wire forms and its history.

Rules (ircv3.net "Multiline messages"):
- a message is a list of lines, each with its text and whether it continues the line
  before it (``draft/multiline-concat``) or starts a new one (a line feed); the combined
  text is what a client shows, the line composition is kept as the sender made it;
- clients with ``draft/multiline`` (and ``batch``) get it as one ``draft/multiline``
  batch whose opening line carries the message's tags (msgid, time, account, client
  tags); the others get each non-blank line as its own PRIVMSG/NOTICE, the first with
  every tag, the rest with every tag but the msgid (the spec's example carries the
  account on each line, and a client-only tag such as a reply belongs to every line);
- a line that would not fit 512 bytes once the sender's prefix is added is split at a
  UTF-8 boundary, the pieces after the first marked as continuations;
- history keeps one record per message: the combined text, and in its tags the server
  tag ``draft/multiline`` whose value lists the offsets where continuation lines start,
  so CHATHISTORY serves the same composition back, as a batch or as lines.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from chatroom.irc.message import format_line
from chatroom.server.core.history import HistoryRecord, format_time
from chatroom.server.core.session import TagProfile

if TYPE_CHECKING:
    from chatroom.server.core.context import Context
    from chatroom.server.core.session import Session

CAP = "draft/multiline"
BATCH_TYPE = "draft/multiline"
CONCAT = "draft/multiline-concat"
HISTORY_TAG = "draft/multiline"  # server-side only: never relayed as a tag
TIMEOUT = 30.0  # seconds a client batch may stay open (client-batch: FAIL BATCH TIMEOUT)
CHEAP_COST = 0.125  # flood tokens per line while a batch is open (whole batch ~ a few lines)

Line = tuple[str, bool]  # (text, continues the previous line)


@dataclass(slots=True)
class OpenBatch:
    """A ``draft/multiline`` batch a client has opened and not closed yet."""

    ref: str
    target: str
    opened_at: float
    tags: dict[str, str]  # client-only tags from the opening BATCH line
    label: str | None  # labeled-response: the label of the opening line
    cheap: int  # lines left at the reduced flood cost
    command: str | None = None  # PRIVMSG or NOTICE, fixed by the first line
    lines: list[Line] = field(default_factory=list)
    size: int = 0  # bytes of the combined text, line feeds included
    failed: bool = False  # already refused: the rest of it is ignored


def flood_cost(session: Session) -> float:
    """What the next line costs in flood tokens: less while a multiline batch is open."""
    batch = session.multiline
    if batch is None or batch.cheap <= 0:
        return 1.0
    batch.cheap -= 1
    return CHEAP_COST


def expire(ctx: Context, session: Session, now: float) -> None:
    """From the tick: a batch left open too long is dropped (client-batch TIMEOUT); what
    the client still sends for it is ignored until it closes it."""
    open_batch = session.multiline
    if open_batch is None or open_batch.failed or now - open_batch.opened_at < TIMEOUT:
        return
    open_batch.failed = True
    text = "Multiline batch timed out"
    session.send(format_line(ctx.name, "FAIL", "BATCH", "TIMEOUT", open_batch.ref, text))


def supports(session: Session) -> bool:
    caps = session.caps
    return CAP in caps and "batch" in caps


# ----------------------------------------------------------------------------- composition


def combine(lines: Iterable[Line]) -> tuple[str, list[int]]:
    """The combined text and the offsets (in characters) where continuation lines start."""
    text = ""
    joins: list[int] = []
    for i, (line, concat) in enumerate(lines):
        if i:
            if concat:
                joins.append(len(text))
            else:
                text += "\n"
        text += line
    return text, joins


def split(text: str, joins: Iterable[int]) -> list[Line]:
    """``combine`` undone: the lines of a combined text, with their continuation marks."""
    cuts = set(joins)
    lines: list[Line] = []
    start = 0
    concat = False
    for i, char in enumerate(text):
        if char == "\n":
            lines.append((text[start:i], concat))
            start, concat = i + 1, False
        elif i in cuts:  # at ``start`` only after a blank line, which this keeps
            lines.append((text[start:i], concat))
            start, concat = i, True
    lines.append((text[start:], concat))
    return lines


def fit(lines: Iterable[Line], budget: int) -> list[Line]:
    """Split each line longer than ``budget`` UTF-8 bytes at character boundaries."""
    fitted: list[Line] = []
    for text, concat in lines:
        data = text.encode()
        if len(data) <= budget:
            fitted.append((text, concat))
            continue
        piece = ""
        size = 0
        for char in text:
            width = len(char.encode())
            if size + width > budget:
                fitted.append((piece, concat))
                piece, size, concat = "", 0, True
            piece += char
            size += width
        fitted.append((piece, concat))
    return fitted


def line_budget(prefix: str, verb: str, target: str) -> int:
    """Bytes of text that fit one relayed line: 512 less ``:prefix VERB target :`` and CRLF."""
    return 512 - len(f":{prefix} {verb} {target} :\r\n".encode())


def joins_value(joins: list[int]) -> str:
    return ",".join(str(offset) for offset in joins)


def history_lines_of(record: HistoryRecord) -> list[Line] | None:
    """The composition of a stored multiline message; None for an ordinary one."""
    for key, value in record.tags:
        if key == HISTORY_TAG:
            joins = [int(part) for part in value.split(",") if part.isdigit()]
            return split(record.text, joins)
    return None


# ----------------------------------------------------------------------------- wire forms


@dataclass(frozen=True, slots=True)
class Message:
    """Everything about one multiline message that every recipient's copy shares."""

    source: str
    verb: str
    target: str
    lines: list[Line]
    msgid: str
    at: int
    account: str | None
    client_tags: Mapping[str, str]


def message_tags(message: Message, profile: int) -> dict[str, str]:
    """The tags of the message as a whole for a recipient's tag profile."""
    tags: dict[str, str] = {}
    if profile & TagProfile.MESSAGE_TAGS:
        tags.update(message.client_tags)
        tags["msgid"] = message.msgid
    if profile & TagProfile.SERVER_TIME:
        tags["time"] = format_time(message.at)
    if profile & TagProfile.ACCOUNT and message.account is not None:
        tags["account"] = message.account
    return tags


def batch_form(message: Message, profile: int, ref: str, outer: str | None = None) -> list[bytes]:
    """The ``draft/multiline`` batch; ``outer`` nests it in another batch (chathistory)."""
    opening = message_tags(message, profile)
    if outer is not None:
        opening["batch"] = outer
    out = [
        format_line(message.source, "BATCH", "+" + ref, BATCH_TYPE, message.target, tags=opening)
    ]
    for text, concat in message.lines:
        tags = {"batch": ref, CONCAT: ""} if concat else {"batch": ref}
        out.append(format_line(message.source, message.verb, message.target, text, tags=tags))
    closing = {"batch": outer} if outer is not None else None
    out.append(format_line(message.source, "BATCH", "-" + ref, tags=closing))
    return out


def fallback_form(message: Message, profile: int, outer: str | None = None) -> list[bytes]:
    """The lines one by one, blank ones left out, for clients without the capability."""
    first = message_tags(message, profile)
    rest = {key: value for key, value in first.items() if key != "msgid"}
    if outer is not None:
        first["batch"] = rest["batch"] = outer
    out: list[bytes] = []
    for text, _concat in message.lines:
        if not text:
            continue
        out.append(
            format_line(
                message.source, message.verb, message.target, text, tags=first if not out else rest
            )
        )
    return out


def history_form(
    session: Session, record: HistoryRecord, lines: list[Line], outer: str | None, ref: str
) -> list[bytes]:
    """A stored multiline message as ``session`` would have received it live."""
    message = Message(
        source=record.source,
        verb=record.command,
        target=record.target_name,
        lines=lines,
        msgid=record.msgid,
        at=record.at,
        account=record.account,
        client_tags={key: value for key, value in record.tags if key != HISTORY_TAG},
    )
    if supports(session):
        return batch_form(message, session.tag_profile, ref, outer)
    return fallback_form(message, session.tag_profile, outer)
