"""IRCv3 labeled-response: the replies to a labeled command come back labeled.

While a labeled command runs, the requester's output is captured (``Session.capture``);
afterwards one reply gets the label, several come in a ``labeled-response`` batch, and none
gets an ACK. A command that waits (a password check, a commit, CHATHISTORY's query) keeps
its label and what it replied so far in ``Session.held_label``; ``World`` captures the
continuation's replies with them and labels the whole answer when the last one ran.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from chatroom.irc.message import escape_tag_value, format_line

if TYPE_CHECKING:
    from chatroom.server.core.context import Context
    from chatroom.server.core.session import Session


def take_label(session: Session) -> str | None:
    """Take the running command's label: its answer comes later, with another line."""
    label = session.label
    session.label = None
    return label


def release_capture(session: Session) -> None:
    """Stop capturing and send what was captured unlabeled (the label was taken)."""
    lines = session.capture or []
    session.capture = None
    for line in lines:
        session.send(line)


def finish_labeled(ctx: Context, session: Session, label: str) -> None:
    """Tag the single reply, batch several, ACK none."""
    lines = session.capture or []
    session.capture = None
    if not lines:
        session.send(format_line(ctx.name, "ACK", tags={"label": label}))
    elif len(lines) == 1:
        session.send(add_tag(lines[0], "label", label))
    elif "batch" in session.caps:
        ref = "L" + ctx.new_msgid()
        session.send(
            format_line(ctx.name, "BATCH", "+" + ref, "labeled-response", tags={"label": label})
        )
        for line in lines:
            # A line already inside a nested batch (chathistory) keeps only that tag.
            session.send(line if _in_batch(line) else add_tag(line, "batch", ref))
        session.send(format_line(ctx.name, "BATCH", "-" + ref))
    else:
        for line in lines:
            session.send(line)


def _in_batch(line: bytes) -> bool:
    """True if a formatted line already carries a ``batch`` tag."""
    if not line.startswith(b"@"):
        return False
    tags = line[1 : line.find(b" ")]
    return any(tag.startswith(b"batch=") for tag in tags.split(b";"))


def add_tag(line: bytes, key: str, value: str) -> bytes:
    """Prepend one tag to an already formatted line (used to label replies after the fact)."""
    tag = f"{key}={escape_tag_value(value)}".encode()
    if line.startswith(b"@"):
        return b"@" + tag + b";" + line[1:]
    return b"@" + tag + b" " + line
