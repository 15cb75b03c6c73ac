"""MONITOR state: who watches which nickname, and the notices that keep watchers current.

Rules (ircv3.net "Monitor", "extended-monitor"):
- a watcher hears 730 RPL_MONONLINE when a watched nick appears (registers or is taken by
  a nick change) and 731 RPL_MONOFFLINE when it disappears (quit or nick change);
- nicknames are keyed by their casefolded form; the list keeps the spelling the client gave;
- with ``extended-monitor`` a watcher also gets the AWAY, ACCOUNT, CHGHOST and SETNAME
  notices of a watched nick (for each of those it has negotiated), as if it shared a room;
- a session's list dies with the session.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from chatroom.irc import numerics as n
from chatroom.irc.message import format_line
from chatroom.server.core.users import User

if TYPE_CHECKING:
    from chatroom.server.core.context import Context
    from chatroom.server.core.session import Session

EXTENDED = ("extended-monitor", "draft/extended-monitor")


class MonitorTable:
    """Both directions of the watch relation, so each notice costs one dict lookup."""

    def __init__(self) -> None:
        self.watchers: dict[str, set[Session]] = {}
        self.lists: dict[Session, dict[str, str]] = {}

    def add(self, session: Session, folded: str, nick: str) -> None:
        self.lists.setdefault(session, {})[folded] = nick
        self.watchers.setdefault(folded, set()).add(session)

    def remove(self, session: Session, folded: str) -> None:
        watched = self.lists.get(session)
        if watched is not None:
            watched.pop(folded, None)
        watchers = self.watchers.get(folded)
        if watchers is not None:
            watchers.discard(session)
            if not watchers:
                del self.watchers[folded]

    def clear(self, session: Session) -> None:
        for folded in list(self.lists.pop(session, {})):
            self.remove(session, folded)

    def watched(self, session: Session) -> dict[str, str]:
        return self.lists.get(session, {})


def came_online(ctx: Context, session: Session | User) -> None:
    """730 to everyone watching ``session``'s nick (it registered or took the nick)."""
    for watcher in ctx.monitor.watchers.get(ctx.fold(session.nick), ()):
        if watcher is not session and not watcher.closed:
            watcher.send(format_line(ctx.name, n.RPL_MONONLINE, watcher.nick, session.prefix))


def went_offline(ctx: Context, nick: str) -> None:
    """731 to everyone watching ``nick`` (its owner quit or changed nick)."""
    for watcher in ctx.monitor.watchers.get(ctx.fold(nick), ()):
        if not watcher.closed:
            watcher.send(format_line(ctx.name, n.RPL_MONOFFLINE, watcher.nick, nick))


def interested(ctx: Context, who: Session | User, cap: str) -> set[Session]:
    """Who should hear of a change to a user that ``cap`` announces (away-notify,
    account-notify, chghost, setname): room peers with the cap, extended-monitor watchers
    with it, and the user's own devices with it, except the connection ``who`` itself."""
    user = who if isinstance(who, User) else who.owner
    found = {peer for peer in ctx.peers(user) if cap in peer.caps}
    for watcher in ctx.monitor.watchers.get(ctx.fold(user.nick), ()):
        if cap in watcher.caps and not watcher.closed and any(e in watcher.caps for e in EXTENDED):
            found.add(watcher)
    found.update(conn for conn in user.conns if cap in conn.caps)
    if not isinstance(who, User):
        found.discard(who)
    return found
