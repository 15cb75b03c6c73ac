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
  dictionary test when nobody watches;
- ``a`` is paced per actor: ``AUDIT_BURST`` notices at once, then one a second; what one
  actor does beyond that is counted and said in one line when its pace allows (at the
  latest on the next tick), so a guest flooding MODE in its own room (about 24 audited
  changes a second) neither floods the operators nor hides another actor's actions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from chatroom.irc.message import format_line

if TYPE_CHECKING:
    from chatroom.server.core.context import Context
    from chatroom.server.core.session import Session
    from chatroom.server.core.users import User

LETTERS = "ac"  # the kinds there are, in the order a mask is shown
KINDS = {"c": "CONNECT", "a": "AUDIT"}

AUDIT_BURST = 10
"""Audit notices one actor's actions may cause at once."""
AUDIT_PER_SECOND = 1.0
"""How fast an actor's allowance comes back after a burst."""


@dataclass(slots=True)
class Pace:
    """One actor's allowance of audit notices, and how many it was over since last said."""

    tokens: float
    at: float
    held: int = 0

    def refill(self, now: float) -> None:
        self.tokens = min(AUDIT_BURST, self.tokens + (now - self.at) * AUDIT_PER_SECOND)
        self.at = now


class ServerNotices:
    """Who hears which kinds of server notice (operators with ``+s``)."""

    def __init__(self) -> None:
        self.watchers: dict[User, str] = {}
        self.paces: dict[str, Pace] = {}  # actors of recent audit notices; emptied by tick

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


def audited(ctx: Context, actor: str, what: str) -> None:
    """An ``a`` notice that ``actor`` did ``what``, within that actor's pace."""
    notices = ctx.snotices
    if not notices.watchers:
        return
    now = ctx.clock()
    pace = notices.paces.get(actor)
    if pace is None:
        pace = notices.paces[actor] = Pace(AUDIT_BURST, now)
    else:
        pace.refill(now)
    if pace.tokens < 1:
        pace.held += 1
        return
    pace.tokens -= 1
    _say_held(ctx, actor, pace)
    tell(ctx, "a", f"{actor} {what}")


def release_held(ctx: Context) -> None:
    """From the tick: say what each actor was over by once its pace allows, and forget
    actors whose allowance is whole again (the table holds only recent actors)."""
    paces = ctx.snotices.paces
    if not paces:
        return
    now = ctx.clock()
    for actor, pace in list(paces.items()):
        pace.refill(now)
        if pace.held and pace.tokens >= 1:
            pace.tokens -= 1
            _say_held(ctx, actor, pace)
        if not pace.held and pace.tokens >= AUDIT_BURST:
            del paces[actor]


def _say_held(ctx: Context, actor: str, pace: Pace) -> None:
    if pace.held:
        count = f"{pace.held} more audited action{'s' if pace.held > 1 else ''}"
        tell(ctx, "a", f"{actor}: {count}, not shown (chatroom admin audit lists them)")
        pace.held = 0


def connected(ctx: Context, session: Session) -> None:
    if ctx.snotices.watchers:
        tell(ctx, "c", f"Client connecting: {_who(session)} ({session.realname})")


def exited(ctx: Context, session: Session, reason: str) -> None:
    if ctx.snotices.watchers:
        tell(ctx, "c", f"Client exiting: {_who(session)} ({reason})")


def _who(session: Session) -> str:
    account = f" account {session.account}" if session.account else ""
    return f"{session.nick}!{session.user}@{session.host} [{session.ip}]{account}"
