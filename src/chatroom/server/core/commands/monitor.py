"""MONITOR (IRCv3): be told when nicknames come online and go offline.

Rules (ircv3.net "Monitor"):
- ``+`` adds and answers at once with 730/731 for the added nicks; past the advertised
  ``MONITOR=`` limit, 734 ERR_MONLISTFULL names what was not added and nothing more is;
- ``-`` removes silently, ``C`` clears, ``L`` lists (732 then 733), ``S`` re-sends the
  status of every entry;
- nick lists are comma-joined and split over several lines so no line passes 512 bytes;
- an entry that is not a valid nickname is skipped: it could never come online.
"""

from __future__ import annotations

from collections.abc import Iterable

from chatroom.irc import numerics as n
from chatroom.irc.masks import is_valid_nick
from chatroom.irc.message import Message, format_line
from chatroom.irc.packing import pack_words
from chatroom.server.core.context import Context
from chatroom.server.core.dispatch import CommandError, command
from chatroom.server.core.session import Session

_LIST_BUDGET = 400  # bytes of comma-joined nicks per line, well inside 512 with the prefix


def _chunks(items: Iterable[str]) -> list[str]:
    return pack_words(items, _LIST_BUDGET, sep=",")


def _send_status(ctx: Context, session: Session, nicks: Iterable[str]) -> None:
    """730 for those online (as nick!user@host), 731 for the rest."""
    online: list[str] = []
    offline: list[str] = []
    for nick in nicks:
        other = ctx.nicks.find(nick)
        if other is not None and other.registered:
            online.append(other.prefix)
        else:
            offline.append(nick)
    for line in _chunks(online):
        ctx.reply(session, n.RPL_MONONLINE, line)
    for line in _chunks(offline):
        ctx.reply(session, n.RPL_MONOFFLINE, line)


@command("MONITOR", min_params=1)
def monitor(ctx: Context, session: Session, msg: Message) -> None:
    """MONITOR <+|-> <nick>{,<nick>}  |  MONITOR <C|L|S>"""
    sub = msg.params[0]
    table = ctx.monitor
    if sub in ("+", "-"):
        if len(msg.params) < 2:
            raise CommandError(n.ERR_NEEDMOREPARAMS, "MONITOR", "Not enough parameters")
        nicks = [nick for nick in msg.params[1].split(",") if nick]
        if sub == "-":
            for nick in nicks:
                table.remove(session, ctx.fold(nick))
            return
        _add(ctx, session, nicks)
    elif sub.upper() == "C":
        table.clear(session)
    elif sub.upper() == "L":
        for line in _chunks(table.watched(session).values()):
            ctx.reply(session, n.RPL_MONLIST, line)
        ctx.reply(session, n.RPL_ENDOFMONLIST, "End of MONITOR list")
    elif sub.upper() == "S":
        _send_status(ctx, session, table.watched(session).values())
    else:
        session.send(
            format_line(ctx.name, "FAIL", "MONITOR", "INVALID_PARAMS", sub, "Use +, -, C, L or S")
        )


def _add(ctx: Context, session: Session, nicks: list[str]) -> None:
    table = ctx.monitor
    limit = ctx.settings.limits.monitor_entries
    length = ctx.settings.limits.nick_length
    added: list[str] = []
    for index, nick in enumerate(nicks):
        if not is_valid_nick(nick, length):
            continue
        folded = ctx.fold(nick)
        watched = table.watched(session)
        if folded not in watched and len(watched) >= limit:
            rest = ",".join(nicks[index:])
            _send_status(ctx, session, added)
            ctx.reply(session, n.ERR_MONLISTFULL, str(limit), rest, "Monitor list is full")
            return
        if folded not in watched:
            table.add(session, folded, nick)
        added.append(nick)
    _send_status(ctx, session, added)
