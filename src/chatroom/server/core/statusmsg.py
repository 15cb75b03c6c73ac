"""STATUSMSG: ``PRIVMSG @#room`` reaches the room's operators, ``+#room`` its voices too.

Rules (modern.ircdocs.horse "STATUSMSG", as InspIRCd and Ergo apply them):
- the prefixes are those of PREFIX (``@+``, advertised as ``STATUSMSG=@+``); with several
  (``@+#room``) the lowest counts, and the message goes out with that one prefix;
- whoever may speak in the room may send one (the room's +n, +m, bans, quiets and +C all
  apply); the sender needs no status, and sees its own line only by echo-message;
- recipients are the members holding that status or a higher one;
- these lines are not kept in history: a later reader could not tell that they were
  meant for the room's staff only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from chatroom.server.core.access import room_to_speak_in
from chatroom.server.core.channel import PREFIX_ORDER, PREFIX_SYMBOLS

if TYPE_CHECKING:
    from chatroom.server.core.context import Context
    from chatroom.server.core.session import Session

# "@" -> "o", "+" -> "v": the status letter each STATUSMSG prefix stands for.
_LETTER_OF = {symbol: letter for letter, symbol in PREFIX_SYMBOLS.items()}
PREFIXES = "".join(PREFIX_SYMBOLS[letter] for letter in PREFIX_ORDER)  # ISUPPORT STATUSMSG


def split_target(target: str) -> tuple[str, str] | None:
    """``"@+#room"`` -> ``("+", "#room")``: the lowest prefix and the room; None if
    ``target`` is not a room name behind status prefixes."""
    name = target.lstrip(PREFIXES)
    if name == target or not name.startswith("#"):
        return None
    given = target[: len(target) - len(name)]
    lowest = max(given, key=lambda symbol: PREFIX_ORDER.index(_LETTER_OF[symbol]))
    return lowest, name


def deliver(
    ctx: Context,
    session: Session,
    verb: str,
    prefix: str,
    name: str,
    text: tuple[str, ...],
    tags: dict[str, str],
    echo: bool,
    quiet: bool,
) -> None:
    """Send one PRIVMSG/NOTICE/TAGMSG to the members of ``name`` with status ``prefix``."""
    shown = prefix + name
    channel = room_to_speak_in(ctx, session, ctx.rooms.find(name), shown, text, quiet)
    if channel is None:
        return
    # The letters at or above the prefix's rank: "o" for "@", "o" and "v" for "+".
    wanted = PREFIX_ORDER[: PREFIX_ORDER.index(_LETTER_OF[prefix]) + 1]
    recipients = [
        member
        for user, status in channel.members.items()
        if any(letter in status for letter in wanted)
        for member in user.conns
        if member is not session and (verb != "TAGMSG" or "message-tags" in member.caps)
    ]
    if echo and (verb != "TAGMSG" or "message-tags" in session.caps):
        recipients.append(session)
    ctx.fanout(
        recipients,
        session.prefix,
        verb,
        prefix + channel.name,
        *text,
        client_tags=tags,
        account=session.account,
    )
