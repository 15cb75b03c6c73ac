"""A message of several lines (pasted code, a list, a log excerpt) sent as one.

When the server offers IRCv3 ``draft/multiline``, the block is one batch: recipients
with the capability see one message with its line breaks, others get one PRIVMSG per
line from the server. Without it the client sends one PRIVMSG per non-blank line (IRC
cannot carry an empty one), at most ``PLAIN_MAX_LINES``: past the server's flood burst it
stops reading the client, and ChatRoom ends one whose backlog keeps growing ("Excess
Flood"). A block over the limits is refused with a sentence naming them, never cut.

A line longer than one PRIVMSG can carry continues in pieces marked
``draft/multiline-concat``, cut at a UTF-8 boundary with nothing dropped, so the
recipient joins them back into the line that was pasted.
"""

from __future__ import annotations

import itertools

from chatroom.irc.message import format_line
from chatroom.irc.splitting import cut_bytes, split_text, text_budget

__all__ = ["MULTILINE", "PLAIN_MAX_LINES", "BlockRefused", "block_lines", "trimmed"]

MULTILINE = "draft/multiline"
CONCAT = "draft/multiline-concat"
DEFAULT_MAX_BYTES = 4096
"""The batch size assumed when the server offers draft/multiline without ``max-bytes``."""
PLAIN_MAX_LINES = 15
"""Lines sent one by one without draft/multiline: under the usual flood burst (20)."""

_references = itertools.count(1)


class BlockRefused(ValueError):  # noqa: N818 (a refusal to show, not a fault)
    """The block is over what this connection can send as one message; ``str`` says so."""


def trimmed(text: str) -> list[str]:
    """The block's lines, without blank lines around it or spaces at line ends (nor
    NULs, which no IRC line may carry)."""
    lines = [line.rstrip() for line in text.replace("\0", "").splitlines()]
    while lines and not lines[0]:
        lines.pop(0)
    while lines and not lines[-1]:
        lines.pop()
    return lines


def multiline_limits(caps: set[str], offered: str | None) -> tuple[int, int] | None:
    """(max bytes, max lines; 0 for no limit) of a batch, or None without the capability."""
    if MULTILINE not in caps:
        return None
    max_bytes, max_lines = DEFAULT_MAX_BYTES, 0
    for item in (offered or "").split(","):
        key, _, value = item.partition("=")
        if value.isdigit() and int(value) > 0:
            if key == "max-bytes":
                max_bytes = int(value)
            elif key == "max-lines":
                max_lines = int(value)
    return max_bytes, max_lines


def block_lines(
    nick: str, target: str, lines: list[str], caps: set[str], offered: str | None
) -> list[bytes]:
    """The IRC lines that send ``lines`` to ``target`` as one message on this connection.

    ``caps`` are the enabled capabilities, ``offered`` the value the server gave
    ``draft/multiline`` in CAP LS. Raises ``BlockRefused`` when the block does not fit.
    """
    budget = max(text_budget(nick, "PRIVMSG", target), 16)
    limits = multiline_limits(caps, offered)
    if limits is None:
        said = [line for line in lines if line.strip()]
        if len(said) > PLAIN_MAX_LINES:
            raise BlockRefused(
                f"That is {len(said)} lines, and this server takes at most {PLAIN_MAX_LINES}"
                " at once from a client without multi-line messages: send it in parts."
            )
        return [
            format_line(None, "PRIVMSG", target, piece)
            for line in said
            for piece in split_text(line, budget)
        ]
    max_bytes, max_lines = limits
    size = len("\n".join(lines).encode("utf-8"))
    if size > max_bytes:
        raise BlockRefused(
            f"That message is {size} bytes; the server takes at most {max_bytes} in one"
            " multi-line message: send it in parts."
        )
    ref = f"b{next(_references)}"
    out = [format_line(None, "BATCH", f"+{ref}", MULTILINE, target)]
    for line in lines:
        for i, piece in enumerate(cut_bytes(line, budget)):
            tags = {"batch": ref, CONCAT: ""} if i else {"batch": ref}
            out.append(format_line(None, "PRIVMSG", target, piece, tags=tags))
    if max_lines and len(out) - 1 > max_lines:
        raise BlockRefused(
            f"That message needs {len(out) - 1} lines; the server takes at most {max_lines}"
            " in one multi-line message: send it in parts."
        )
    out.append(format_line(None, "BATCH", f"-{ref}"))
    return out
