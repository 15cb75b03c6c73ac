"""WALLOPS: a message from an operator to everyone who set user mode +w.

Rules (modern.ircdocs.horse "WALLOPS", as InspIRCd and Ergo apply them): only server
operators may send one (any role: it reaches people who asked for operator notices, and
changes nothing); it goes to every registered user with +w, the sender too if it has +w;
anyone may set +w on themselves.
"""

from __future__ import annotations

from chatroom.irc import numerics as n
from chatroom.irc.message import Message
from chatroom.server.core.context import Context
from chatroom.server.core.dispatch import CommandError, command
from chatroom.server.core.opers import NOT_AN_OPERATOR
from chatroom.server.core.session import Session


@command("WALLOPS", min_params=1)
def wallops(ctx: Context, session: Session, msg: Message) -> None:
    """WALLOPS :<text>

    Operators only: the text goes to every user with user mode +w (MODE <nick> +w).
    """
    if "o" not in session.modes:
        raise CommandError(n.ERR_NOPRIVILEGES, NOT_AN_OPERATOR)
    text = msg.params[0]
    if not text:
        raise CommandError(n.ERR_NEEDMOREPARAMS, "WALLOPS", "Not enough parameters")
    readers = [s for s in ctx.sessions.values() if "w" in s.modes and s.registered]
    ctx.fanout(readers, session.prefix, "WALLOPS", text, account=session.account)
