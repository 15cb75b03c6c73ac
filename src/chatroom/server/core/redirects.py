"""The old names of renamed rooms, which lead to the new name for a while.

Both RENAME (which records a redirect) and JOIN (which follows one) need these, so they
live here rather than in either command module. Rules (ircv3.net "Channel Renaming"):
for ``REDIRECT_SECONDS`` a JOIN of the old name is redirected: clients with the cap get
``FAIL JOIN CHANNEL_RENAMED <#old> <#new>``, others ``470`` and are joined to the new
room; at most ``REDIRECTS`` redirections are kept.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from chatroom.irc import numerics as n
from chatroom.irc.message import format_line

if TYPE_CHECKING:
    from chatroom.server.core.context import Context
    from chatroom.server.core.session import Session

CAP = "draft/channel-rename"
REDIRECT_SECONDS = 3600.0
REDIRECTS = 1000


def remember(ctx: Context, old_key: str, new: str) -> None:
    """Room ``old_key`` (folded) is now called ``new``: a JOIN of the old name follows it."""
    now = ctx.clock()
    redirects = ctx.rooms.redirects
    for key in [k for k, (_, until) in redirects.items() if until <= now]:
        del redirects[key]
    while len(redirects) >= REDIRECTS:
        del redirects[next(iter(redirects))]
    redirects.pop(ctx.fold(new), None)  # the new name is a room again, not a redirect
    redirects[old_key] = (new, now + REDIRECT_SECONDS)


def redirected(ctx: Context, folded: str) -> str | None:
    """The room a recently renamed name now belongs to, if the name is not in use again."""
    found = ctx.rooms.redirects.get(folded)
    if found is None:
        return None
    new, until = found
    if until <= ctx.clock() or ctx.rooms.find(new) is None:
        del ctx.rooms.redirects[folded]
        return None
    return new


def refuse_old_name(ctx: Context, session: Session, old: str, new: str) -> bool:
    """A JOIN of a renamed room's old name: FAIL for clients with the capability (True),
    else 470 (False: the caller joins them to the new name)."""
    if CAP in session.caps:
        text = "The channel has been renamed"
        session.send(format_line(ctx.name, "FAIL", "JOIN", "CHANNEL_RENAMED", old, new, text))
        return True
    ctx.reply(session, n.ERR_LINKCHANNEL, old, new, "The channel has been renamed")
    return False
