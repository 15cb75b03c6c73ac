"""CHGHOST: an operator gives a user a new displayed host (a vhost), and IRCv3 chghost.

Rules (ircv3.net "chghost"):
- clients with the ``chghost`` capability that share a room with the user (or MONITOR it
  with extended-monitor), and the user itself, get ``:old!user@host CHGHOST user newhost``;
- others see nothing: the optional QUIT-and-JOIN imitation some servers send is noise in
  a room, and the new host shows on the user's next message anyway;
- the user is told with 396 RPL_VISIBLEHOST, as on InspIRCd and Solanum;
- an always-on user keeps the host across a restart (saved with its presence, before
  the operator is told it is done).
"""

from __future__ import annotations

from chatroom.irc import numerics as n
from chatroom.irc.message import Message, format_line
from chatroom.server.core import presence, sanctions
from chatroom.server.core.context import Context
from chatroom.server.core.dispatch import CommandError, command
from chatroom.server.core.hostnames import change_host
from chatroom.server.core.session import Session

MAX_HOST_LENGTH = 63
_HOST_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:/")


def valid_host(host: str) -> bool:
    """A host that fits in a prefix: no spaces, ``!`` or ``@``, not starting with ``:``."""
    return (
        0 < len(host) <= MAX_HOST_LENGTH
        and host[0] not in ":-"
        and all(c in _HOST_CHARS for c in host)
    )


@command("CHGHOST", min_params=2, oper_capability="admin")
def chghost(ctx: Context, session: Session, msg: Message) -> None:
    """CHGHOST <nick> <host>  (server operators with the admin capability)"""
    nick, host = msg.params[0], msg.params[1]
    target = ctx.nicks.find(nick)
    if target is None or not target.registered:
        raise CommandError(n.ERR_NOSUCHNICK, nick, "No such nick/channel")
    if not valid_host(host):
        session.send(
            format_line(ctx.name, "FAIL", "CHGHOST", "INVALID_HOST", host, "That host is not valid")
        )
        return
    change_host(ctx, target, host)
    target.vhost = True
    nick = target.nick
    changes = presence.changes_to_note(ctx, target)

    def saved(error: str | None) -> None:
        if session.closed or target is session.owner:
            return
        if error is None:
            ctx.notice(session, f"Changed the displayed host of {nick} to {host}")
        else:
            ctx.notice(session, f"Changed the host of {nick} to {host}, not saved: {error}")

    sanctions.audit(ctx, sanctions.actor_name(session), "user.chghost", nick, host, changes, saved)
