"""Server notices for operators (user mode ``+s``): what happens on the server, live.

Rules (InspIRCd's and Ergo's snomasks, reduced to what ChatRoom reports):
- only an operator may set ``+s``; ``MODE <nick> +s [<mask>]`` picks what it hears, a
  mask of letters (``+ca``, ``-c``: all but ``c`` when nothing was heard yet, or ``*``
  for all; all when none is given), answered
  with ``008 <nick> +<mask> :Server notice mask``; ``MODE <nick> -s`` stops them, and so
  does losing ``+o``;
- ``c``: connections that complete registration and registered connections that end
  (with the reason: a quit, a flood, a full send queue, a kill, a ban);
- ``a``: every moderation and admin action as it is written to the audit log (bans,
  mutes, kills, room registrations and renames, operator grants, REHASH...);
- each notice is ``:<server> NOTICE <nick> :*** <KIND>: <text>`` to every device of the
  watching operator. The watchers are few (operators who asked), so an event costs one
  dictionary test when nobody watches.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from chatroom.irc.message import format_line

if TYPE_CHECKING:
    from chatroom.server.core.context import Context
    from chatroom.server.core.session import Session
    from chatroom.server.core.users import User

LETTERS = "ac"  # the kinds there are, in the order a mask is shown
KINDS = {"c": "CONNECT", "a": "AUDIT"}


class ServerNotices:
    """Who hears which kinds of server notice (operators with ``+s``)."""

    def __init__(self) -> None:
        self.watchers: dict[User, str] = {}

    def __len__(self) -> int:
        return len(self.watchers)

    def mask_of(self, user: User) -> str:
        return self.watchers.get(user, "")

    def set_mask(self, user: User, mask: str) -> None:
        if mask:
            self.watchers[user] = mask
        else:
            self.watchers.pop(user, None)

    def forget(self, user: User) -> None:
        self.watchers.pop(user, None)


def changed_mask(current: str, change: str | None) -> str:
    """``current`` after ``change`` (``+ac``, ``-c``, ``ca``, ``*``; None: every kind)."""
    if change is None or change in ("*", "+*"):
        return LETTERS
    # "-c" with nothing heard yet means "all but c", not "nothing".
    letters = set(current or (LETTERS if change.startswith("-") else ""))
    adding = True
    for char in change:
        if char in "+-":
            adding = char == "+"
        elif char == "*":
            letters = set(LETTERS) if adding else set()
        elif char in KINDS:
            if adding:
                letters.add(char)
            else:
                letters.discard(char)
    return "".join(c for c in LETTERS if c in letters)


def tell(ctx: Context, letter: str, text: str) -> None:
    """Send a notice of kind ``letter`` to the operators who watch it."""
    watchers = ctx.snotices.watchers
    if not watchers:
        return
    line = f"*** {KINDS[letter]}: {text}"
    for user, mask in list(watchers.items()):
        if "o" not in user.modes or not user.registered:
            del watchers[user]  # no longer an operator, or gone: stop at once
            continue
        if letter in mask:
            for conn in user.conns:
                conn.send(format_line(ctx.name, "NOTICE", user.nick, line))


def connected(ctx: Context, session: Session) -> None:
    if ctx.snotices.watchers:
        tell(ctx, "c", f"Client connecting: {_who(session)} ({session.realname})")


def exited(ctx: Context, session: Session, reason: str) -> None:
    if ctx.snotices.watchers:
        tell(ctx, "c", f"Client exiting: {_who(session)} ({reason})")


def _who(session: Session) -> str:
    account = f" account {session.account}" if session.account else ""
    return f"{session.nick}!{session.user}@{session.host} [{session.ip}]{account}"
