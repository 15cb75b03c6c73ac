"""IRCv3 ``draft/read-marker``: where each account stopped reading, per room or nick.

Rules (ircv3.net "Read marker"):
- a marker belongs to an account and a target (a folded room name or nick): a guest has
  none (``MARKREAD`` refuses it), so what one device read is known to the others of the
  same person, and to the next login;
- a marker only moves forward, and never past now: a later time is clamped to the clock;
- it is never shown to anyone but the account's own connections;
- an account holds markers on at most ``MAX_TARGETS`` targets (a bound on memory and on
  the store: a marker is kept until its account is dropped);
- a connection with the capability hears ``MARKREAD <room> timestamp=...|*`` after each
  JOIN it is sent, before the end of NAMES, and ``MARKREAD <target> timestamp=...`` each
  time a connection of its account moved the marker (the mover's answer is that line).

Markers live here, in memory, loaded from the store at start (``Snapshot.read_markers``)
and saved with ``PutReadMarker`` after every move.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from chatroom.irc.message import format_line
from chatroom.server.core.history import format_time

if TYPE_CHECKING:
    from chatroom.server.core.channel import Channel
    from chatroom.server.core.context import Context
    from chatroom.server.core.session import Session

CAP = "draft/read-marker"
MAX_TARGETS = 1000  # targets with a marker per account (docs/security.md, "Abuse limits")


class ReadMarkers:
    """The markers of every account: account key -> folded target -> unix milliseconds."""

    def __init__(self) -> None:
        self.accounts: dict[str, dict[str, int]] = {}

    def load(self, stored: Mapping[str, Mapping[str, float]], known: Mapping[str, object]) -> None:
        """The store's markers (at start, and again when ``chatroom admin`` wrote): each
        marker keeps the later of memory and store, since a marker only moves forward; the
        markers of accounts that no longer exist are forgotten."""
        merged: dict[str, dict[str, int]] = {}
        for account_key in set(stored) | set(self.accounts):
            if account_key not in known:
                continue
            markers = dict(self.accounts.get(account_key, {}))
            for target, at in stored.get(account_key, {}).items():
                ms = round(at * 1000)
                if ms > markers.get(target, -1):
                    markers[target] = ms
            if markers:
                merged[account_key] = markers
        self.accounts = merged

    def forget(self, account_key: str) -> None:
        """The account was dropped: its markers go with it."""
        self.accounts.pop(account_key, None)

    def get(self, account_key: str, target: str) -> int | None:
        markers = self.accounts.get(account_key)
        return None if markers is None else markers.get(target)

    def full(self, account_key: str, target: str) -> bool:
        """Whether a first marker on ``target`` would pass ``MAX_TARGETS``."""
        markers = self.accounts.get(account_key, {})
        return target not in markers and len(markers) >= MAX_TARGETS

    def rename_target(self, old: str, new: str) -> list[tuple[str, int]]:
        """A room was renamed: every marker on ``old`` now marks ``new``. The accounts
        moved with their markers, for the store."""
        moved = []
        for account_key, markers in self.accounts.items():
            at = markers.pop(old, None)
            if at is not None:
                markers[new] = max(at, markers.get(new, at))
                moved.append((account_key, markers[new]))
        return moved

    def put(self, account_key: str, target: str, at: int | None) -> None:
        """Set (or with None remove) one marker; the caller keeps it moving forward."""
        markers = self.accounts.setdefault(account_key, {})
        if at is None:
            markers.pop(target, None)
        else:
            markers[target] = at
        if not markers:
            del self.accounts[account_key]


def connections_of(ctx: Context, account_key: str) -> list[Session]:
    """Every open connection logged in to the account: the devices of its user, and any
    other user logged in to it (multiclient off, or an IDENTIFY after the welcome). A scan,
    but a MARKREAD comes at the pace a person reads."""
    fold = ctx.fold
    return [
        session
        for session in ctx.sessions.values()
        if session.account is not None
        and not session.closed
        and session.registered
        and fold(session.account) == account_key
    ]


def param(at: int | None) -> str:
    """The marker as the last parameter of ``MARKREAD``: ``timestamp=...`` or ``*``."""
    return "*" if at is None else f"timestamp={format_time(at)}"


def send(ctx: Context, session: Session, target: str, at: int | None) -> None:
    session.send(format_line(ctx.name, "MARKREAD", target, param(at)))


def joined(ctx: Context, session: Session, channel: Channel) -> None:
    """After the JOIN a connection was sent, before its NAMES end: the room's marker."""
    if CAP not in session.caps:
        return
    at = None
    if session.account is not None:
        at = ctx.read_markers.get(ctx.fold(session.account), ctx.fold(channel.name))
    send(ctx, session, channel.name, at)


def announce(ctx: Context, account_key: str, target: str, mover: Session) -> None:
    """The marker moved: the mover gets the marker as stored (its answer, with or without
    the capability), every other connection of the account with the capability too."""
    at = ctx.read_markers.get(account_key, ctx.fold(target))
    if not mover.closed:
        send(ctx, mover, target, at)
    for session in connections_of(ctx, account_key):
        if session is not mover and CAP in session.caps:
            send(ctx, session, target, at)
