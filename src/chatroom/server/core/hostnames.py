"""A user's displayed host changing, and who hears of it (IRCv3 chghost).

Shared by CHGHOST (commands/hosts.py, an operator's vhost) and by presence.py (a restored
always-on user taking the host of its first device), so neither imports the other.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from chatroom.irc import numerics as n
from chatroom.server.core.monitor import interested

if TYPE_CHECKING:
    from chatroom.server.core.context import Context
    from chatroom.server.core.users import User


def change_host(ctx: Context, target: User, host: str) -> None:
    """Give ``target`` a new displayed host and tell everyone who tracks it (its own
    devices with the cap too): ``:old!user@host CHGHOST user newhost``, and 396 to it."""
    old_prefix = target.prefix
    target.host = host
    recipients = interested(ctx, target, "chghost")
    ctx.fanout(recipients, old_prefix, "CHGHOST", target.user, host, account=target.account)
    ctx.reply(target, n.RPL_VISIBLEHOST, host, "is now your displayed host")
