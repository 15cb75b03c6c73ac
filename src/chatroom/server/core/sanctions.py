"""Server bans and mutes in the running world: who may do what, checks, expiry, audit.

Rules of this module:
- operator powers are named capabilities grouped in roles (``core/opers.py``): an IRC
  operator (user mode +o) holds those of its account's role;
- a server ban is checked when a connection opens (address and network bans), when a
  login succeeds (account bans) and when registration completes (all kinds); a new ban,
  or one loaded from ``chatroom admin``, disconnects whoever it matches at once;
- a registered user changing to a nick that a nick-mask ban matches is refused (432 with
  the ban's reason) and keeps the old nick: InspIRCd does the same for Q-lines, and it
  stops the change without punishing a typo with a disconnect;
- a mute lives on the session (``Session.muted``), set at login, so the message path
  checks one field and does no lookup;
- expiry costs nothing until something is due: ``next_due`` is the earliest expiry of any
  ban, mute or timed room entry, and ``tick`` looks at nothing before it;
- every moderation action is written to the audit log together with the change itself.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from chatroom.irc import numerics as n
from chatroom.irc.message import format_line
from chatroom.irc.modes import ModeChange
from chatroom.server.core import snotices
from chatroom.server.core.bans import (
    BanList,
    Who,
    ban_matches,
    ban_refusal,
    is_active,
    mute_refusal,
)
from chatroom.server.store.base import (
    AccountMute,
    AppendAudit,
    AuditEntry,
    Change,
    DeleteBanTarget,
    DeleteMute,
    ServerBan,
    Snapshot,
)

if TYPE_CHECKING:
    from chatroom.server.core.context import Context
    from chatroom.server.core.session import Session

SERVER_ACTOR = "server"


@dataclass(slots=True)
class Sanctions:
    """The moderation state the world carries: bans, mutes and what expires next."""

    bans: BanList = field(default_factory=BanList)
    mutes: dict[str, AccountMute] = field(default_factory=dict)
    channel_due: float | None = None  # earliest expiry of a timed room entry
    next_due: float | None = None

    def recompute(self) -> None:
        times = [t for t in (self.bans.next_expiry(), self.channel_due) if t is not None]
        times += [m.expires_at for m in self.mutes.values() if m.expires_at is not None]
        self.next_due = min(times) if times else None

    def due(self, at: float) -> None:
        """Make sure the tick looks again at ``at``."""
        if self.next_due is None or at < self.next_due:
            self.next_due = at


# ----------------------------------------------------------------------------- audit


def actor_name(session: Session) -> str:
    """Who did it, for the audit log: the account (stable), else the nick."""
    return session.account or session.nick


def audit(
    ctx: Context,
    actor: str,
    action: str,
    target: str,
    reason: str = "",
    changes: Iterable[Change] = (),
    then: Callable[[str | None], None] | None = None,
) -> None:
    """Persist ``changes`` and their audit entry in one transaction; ``then(error)`` runs
    after the commit, for replies that promise the change is saved."""
    entry = AuditEntry(None, ctx.clock(), actor, action, target, reason)
    ctx.persist([*changes, AppendAudit(entry)], then)
    snotices.audited(ctx, actor, f"{action} {target}" + (f" ({reason})" if reason else ""))


# ----------------------------------------------------------------------------- bans


def who_of(session: Session) -> Who:
    return Who(session.ip, session.host, session.nick, session.user, session.account)


def refuse(ctx: Context, session: Session, ban: ServerBan) -> None:
    """465 with the reason and the end, then ERROR and close: the "clear answer". A
    registered user goes with every device, always-on or not."""
    text = ban_refusal(ban, ctx.clock())
    if not session.registered:
        ctx.reply(session, n.ERR_YOUREBANNEDCREEP, text)
        ctx.close(session, text)
        return
    user = session.owner
    user.send(format_line(ctx.name, n.ERR_YOUREBANNEDCREEP, user.nick, text))
    ctx.close_user(user, text)


def check_session(ctx: Context, session: Session) -> bool:
    """True if ``session`` may stay; otherwise it has been refused and closed."""
    ban = ctx.sanctions.bans.find(who_of(session), ctx.fold, ctx.clock())
    if ban is None:
        return True
    refuse(ctx, session, ban)
    return False


def nick_ban(ctx: Context, session: Session, nick: str) -> ServerBan | None:
    """The nick-mask ban ``session`` would fall under as ``nick``, if any.

    Only ``nick`` bans: every other kind ignores the nick, and a session it matches has
    been disconnected already.
    """
    bans = ctx.sanctions.bans.bans
    if not bans:
        return None
    who = Who(session.ip, session.host, nick, session.user, session.account)
    now = ctx.clock()
    return next(
        (
            ban
            for ban in bans
            if ban.kind == "nick" and is_active(ban, now) and ban_matches(ban, who, ctx.fold)
        ),
        None,
    )


def nick_ban_text(ban: ServerBan) -> str:
    """The 432 text for a nick a server ban forbids (as InspIRCd answers for a Q-line)."""
    return f"Erroneous nickname: {ban.reason or 'banned on this server'}"


def admit_account(ctx: Context, session: Session, account_key: str, name: str) -> bool:
    """At login: refuse a banned account; otherwise pick up its mute (if any)."""
    who = Who(session.ip, session.host, session.nick, session.user, name)
    ban = ctx.sanctions.bans.find(who, ctx.fold, ctx.clock())
    if ban is not None:
        refuse(ctx, session, ban)
        return False
    mute = ctx.sanctions.mutes.get(account_key)
    session.muted = mute if mute is not None and is_active(mute, ctx.clock()) else None
    return True


def enforce(ctx: Context) -> int:
    """Disconnect every session a current ban matches; returns how many (every device of
    a user counts, though refusing the first closes them all; an always-on user with no
    device counts one)."""
    if not len(ctx.sanctions.bans):
        return 0
    open_before = [session for session in ctx.sessions.values() if not session.closed]
    for session in open_before:
        if not session.closed:
            check_session(ctx, session)
    dropped = sum(1 for session in open_before if session.closed)
    now = ctx.clock()
    for user in ctx.accounts.online_users():
        if user.conns or not user.registered:
            continue  # with a device, it was judged above
        who = Who("", user.host, user.nick, user.user, user.account)
        ban = ctx.sanctions.bans.find(who, ctx.fold, now)
        if ban is not None:  # an always-on user with no device: it leaves too
            ctx.close_user(user, ban_refusal(ban, now))
            dropped += 1
    return dropped


def add_ban(ctx: Context, ban: ServerBan) -> None:
    """Put ``ban`` in force (replacing one on the same target) without persisting it."""
    bans = ctx.sanctions.bans.bans
    kept = [b for b in bans if (b.kind, ctx.fold(b.mask)) != (ban.kind, ctx.fold(ban.mask))]
    ctx.sanctions.bans = BanList([*kept, ban])
    ctx.sanctions.recompute()


def remove_ban(ctx: Context, ban: ServerBan) -> None:
    ctx.sanctions.bans = BanList(b for b in ctx.sanctions.bans.bans if b is not ban)
    ctx.sanctions.recompute()


# ----------------------------------------------------------------------------- mutes


def apply_mute(ctx: Context, account_key: str, mute: AccountMute | None) -> None:
    """Record or lift a mute and update every session logged in to that account."""
    if mute is None:
        ctx.sanctions.mutes.pop(account_key, None)
    else:
        ctx.sanctions.mutes[account_key] = mute
    ctx.sanctions.recompute()
    for session in ctx.sessions.values():
        if session.account is not None and ctx.fold(session.account) == account_key:
            session.muted = mute


def unmuted_targets(ctx: Context, session: Session, targets: list[str]) -> list[str]:
    """For a muted session: the targets it may still reach (operators), 404 for the rest.

    Called only when ``session.muted`` is set, so unmuted senders pay nothing for it.
    Every refused target gets the numeric, NOTICE included: a muted user must learn why
    nothing arrives.
    """
    mute = session.muted
    if mute is None:
        return targets
    if not is_active(mute, ctx.clock()):
        session.muted = None
        return targets
    allowed: list[str] = []
    for target in targets:
        recipient = None if target.startswith("#") else ctx.nicks.find(target)
        if recipient is not None and "o" in recipient.modes:
            allowed.append(target)
        else:
            name = recipient.nick if recipient is not None else target
            ctx.reply(session, n.ERR_CANNOTSENDTOCHAN, name, mute_refusal(mute, ctx.clock()))
    return allowed


# ----------------------------------------------------------------------------- reload, expiry


def load(ctx: Context, snapshot: Snapshot) -> None:
    """Take bans and mutes from the store (start, or a ``chatroom admin`` write) and apply
    them at once: matching sessions are dropped, mutes follow their accounts."""
    sanctions = ctx.sanctions
    sanctions.bans = BanList(snapshot.bans)
    sanctions.mutes = dict(snapshot.mutes)
    sanctions.recompute()
    for session in ctx.sessions.values():
        if session.account is not None:
            session.muted = sanctions.mutes.get(ctx.fold(session.account))
    enforce(ctx)


def load_changes(
    ctx: Context,
    bans: Mapping[str, ServerBan | None],
    mutes: Mapping[str, AccountMute | None],
) -> None:
    """Bans and mutes another process changed (PostgreSQL told which), applied by key:
    a ban is replaced or lifted by ``kind:mask``, a mute by account; new bans are
    enforced at once, as after a full ``load``."""
    if bans:
        named = {(kind, ctx.fold(mask)) for kind, _, mask in map(_split_key, bans)}
        kept = [b for b in ctx.sanctions.bans.bans if (b.kind, ctx.fold(b.mask)) not in named]
        ctx.sanctions.bans = BanList([*kept, *(b for b in bans.values() if b is not None)])
    for key, mute in mutes.items():
        apply_mute(ctx, key, mute)
    ctx.sanctions.recompute()
    if bans:
        enforce(ctx)


def _split_key(key: str) -> tuple[str, str, str]:
    return key.partition(":")


def expire(ctx: Context) -> None:
    """Called by tick: lift whatever has run out, tell who it concerns, log it."""
    sanctions = ctx.sanctions
    now = ctx.clock()
    if sanctions.next_due is None or now < sanctions.next_due:
        return
    for ban in [b for b in sanctions.bans.bans if not is_active(b, now)]:
        remove_ban(ctx, ban)
        audit(
            ctx,
            SERVER_ACTOR,
            "ban.expire",
            f"{ban.kind}:{ban.mask}",
            ban.reason,
            [DeleteBanTarget(ban.kind, ban.mask)],
        )
    for key, mute in [(k, m) for k, m in sanctions.mutes.items() if not is_active(m, now)]:
        apply_mute(ctx, key, None)
        audit(ctx, SERVER_ACTOR, "mute.expire", mute.account_name, mute.reason, [DeleteMute(key)])
        for session in ctx.sessions.values():
            if session.account is not None and ctx.fold(session.account) == key:
                ctx.notice(session, "Your server-wide mute has ended; you may talk again.")
    if sanctions.channel_due is not None and now >= sanctions.channel_due:
        from chatroom.server.core.chanreg import expire_entries

        sanctions.channel_due = expire_entries(ctx)
    sanctions.recompute()


def announce_to_opers(ctx: Context, text: str) -> None:
    """A server notice to every operator online (who else is moderating right now)."""
    line = None
    for session in ctx.sessions.values():
        if "o" in session.modes and session.registered and not session.closed:
            line = line or format_line(ctx.name, "NOTICE", "*", f"*** {text}")
            session.send(line)


def audit_mode_changes(
    ctx: Context, session: Session, room: str, applied: Iterable[ModeChange]
) -> None:
    """Room bans, quiets, exceptions, invite exceptions and who holds ops or voice are
    moderation: log each one (an operator giving itself ops included)."""
    for change in applied:
        if change.letter in "beIqov" and change.arg is not None:
            action = f"channel.mode.{'+' if change.adding else '-'}{change.letter}"
            audit(ctx, actor_name(session), action, f"{room} {change.arg}")
