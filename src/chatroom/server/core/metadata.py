"""IRCv3 ``draft/metadata-2``: key/value metadata on users and rooms, and who hears of it.

Rules (ircv3.net "Metadata", the draft/metadata-2 text):
- a logged-in user's metadata belongs to the account: ``MetadataState.accounts`` holds it,
  loaded from the store at start and saved with every change, so it survives restarts and
  follows the account to its next connection; a guest's lives on its session and dies
  with it; a room's lives on the room, in memory;
- keys are lowercase ``a-z``, digits and ``_ . / -`` (at most ``KEY_LENGTH`` bytes);
  values are UTF-8 of at most ``limits.metadata_max_value_bytes`` bytes; a user or a room
  holds at most ``limits.metadata_max_keys`` keys; every value is visible to everyone who
  may see the target (``*`` visibility);
- a client hears of a change (``METADATA <target> <key> * [:<value>]``) only if it
  negotiated the capability and subscribed to the key, and shares a room with the user
  (or the room itself), or MONITORs the user; whoever made the change is not told again;
- on joining a room, a client gets the room's values and its members' for the keys it
  subscribed to (a room of more than ``SYNC_INLINE`` members answers ``774`` instead, to
  be fetched with ``METADATA <room> SYNC``), and the members get the newcomer's;
- on connecting (or on asking for the capability later) a client gets its own metadata
  in a ``metadata`` batch, empty when there is none.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

from chatroom.irc import numerics as n
from chatroom.irc.message import format_line
from chatroom.server.store.base import Change, DeleteMetadata, PutMetadata, Snapshot

if TYPE_CHECKING:
    from chatroom.server.core.channel import Channel
    from chatroom.server.core.context import Context
    from chatroom.server.core.session import Session
    from chatroom.server.core.users import User

CAP = "draft/metadata-2"
KEY_LENGTH = 50
VISIBILITY = "*"
SYNC_INLINE = 100  # members whose metadata a join sends at once; larger rooms say "sync later"

_KEY = re.compile(r"[a-z0-9_./-]+")


class MetadataState:
    """The metadata of accounts, by account key; rooms and guests keep their own."""

    def __init__(self) -> None:
        self.accounts: dict[str, dict[str, str]] = {}

    def load(self, snapshot: Snapshot) -> None:
        self.accounts = {key: dict(values) for key, values in snapshot.metadata.items()}

    def replace(self, account_key: str, values: dict[str, str]) -> None:
        """One account's keys as another process left them (empty: none, or no account)."""
        if values:
            self.accounts[account_key] = dict(values)
        else:
            self.accounts.pop(account_key, None)


def valid_key(key: str) -> bool:
    return len(key) <= KEY_LENGTH and _KEY.fullmatch(key) is not None


def user_values(ctx: Context, who: Session | User) -> dict[str, str]:
    """What the user has set (read only: callers must not change it)."""
    if who.account is not None:
        return ctx.metadata.accounts.get(ctx.fold(who.account), {})
    return who.metadata or {}


def channel_values(channel: Channel) -> dict[str, str]:
    return channel.metadata or {}


def saves_for(
    ctx: Context, session: Session, changes: list[tuple[str, str | None]]
) -> list[Change]:
    """What the store must save for these changes of a user's keys (nothing for a guest)."""
    if session.account is None:
        return []
    account = ctx.fold(session.account)
    return [
        PutMetadata(account, key, value) if value is not None else DeleteMetadata(account, key)
        for key, value in changes
    ]


def store_user_value(ctx: Context, session: Session, key: str, value: str | None) -> None:
    """Set (or with None remove) one key of a user, in memory."""
    if session.account is not None:
        account = ctx.fold(session.account)
        values = ctx.metadata.accounts.setdefault(account, {})
        _put(values, key, value)
        if not values:
            del ctx.metadata.accounts[account]
        return
    if session.metadata is None:
        session.metadata = {}
    _put(session.metadata, key, value)
    if not session.metadata:
        session.metadata = None


def store_channel_value(channel: Channel, key: str, value: str | None) -> None:
    if channel.metadata is None:
        channel.metadata = {}
    _put(channel.metadata, key, value)
    if not channel.metadata:
        channel.metadata = None


def _put(values: dict[str, str], key: str, value: str | None) -> None:
    if value is None:
        values.pop(key, None)
    else:
        values[key] = value


# ----------------------------------------------------------------------------- accounts


def logged_in(ctx: Context, session: Session) -> None:
    """A guest became an account's: what it set as a guest (before connecting, say) is
    added to the account's metadata and saved; everyone subscribed hears what changed."""
    assert session.account is not None
    account = ctx.fold(session.account)
    before = dict(session.metadata or {})
    session.metadata = None
    values = ctx.metadata.accounts.setdefault(account, {})
    changes: list[Change] = []
    room = ctx.settings.limits.metadata_max_keys
    for key, value in before.items():
        if key not in values and len(values) >= room:
            continue
        if values.get(key) != value:
            values[key] = value
            changes.append(PutMetadata(account, key, value))
    if not values:
        del ctx.metadata.accounts[account]
    if changes and account in ctx.accounts:
        ctx.persist(changes)
    for key in set(before) | set(values):
        if before.get(key) != values.get(key):
            notify_user(ctx, session, key, values.get(key), origin=None)


def logged_out(ctx: Context, session: Session) -> None:
    """The session keeps showing what its account had set, now as a guest's values; the
    metadata of an account that no longer exists (dropped) is forgotten."""
    if session.account is None:
        return
    account = ctx.fold(session.account)
    values = ctx.metadata.accounts.get(account, {})
    session.metadata = dict(values) or None
    if account not in ctx.accounts:
        ctx.metadata.accounts.pop(account, None)


# ----------------------------------------------------------------------------- telling


def subscribed(session: Session, key: str) -> bool:
    subs = session.metadata_subs
    return subs is not None and key in subs and CAP in session.caps


def metadata_line(ctx: Context, target: str, key: str, value: str | None) -> bytes:
    if value is None:
        return format_line(ctx.name, "METADATA", target, key, VISIBILITY)
    return format_line(ctx.name, "METADATA", target, key, VISIBILITY, value)


def user_audience(ctx: Context, session: Session) -> set[Session]:
    """Who follows ``session``'s metadata: room peers and MONITOR watchers with the cap."""
    found = {peer for peer in ctx.peers(session) if CAP in peer.caps}
    for watcher in ctx.monitor.watchers.get(ctx.fold(session.nick), ()):
        if CAP in watcher.caps and not watcher.closed:
            found.add(watcher)
    found.discard(session)
    return found


def notify_user(
    ctx: Context, session: Session, key: str, value: str | None, origin: Session | None
) -> None:
    if not session.registered:
        return  # nobody can see a user who has not connected yet
    _tell(ctx, user_audience(ctx, session), session.nick, key, value, origin)


def notify_channel(
    ctx: Context, channel: Channel, key: str, value: str | None, origin: Session | None
) -> None:
    _tell(ctx, channel.sessions, channel.name, key, value, origin)


def _tell(
    ctx: Context,
    audience: Iterable[Session],
    target: str,
    key: str,
    value: str | None,
    origin: Session | None,
) -> None:
    line: bytes | None = None
    for member in audience:
        if member is origin or not subscribed(member, key):
            continue
        if line is None:
            line = metadata_line(ctx, target, key, value)
        member.send(line)


# ----------------------------------------------------------------------------- syncing


def open_batch(ctx: Context, session: Session, kind: str, *params: str) -> str | None:
    """Start a batch for ``session`` when it negotiated ``batch``; returns its reference."""
    if "batch" not in session.caps:
        return None
    ref = ctx.new_msgid()
    session.send(format_line(ctx.name, "BATCH", "+" + ref, kind, *params))
    return ref


def close_batch(ctx: Context, session: Session, ref: str | None) -> None:
    if ref is not None:
        session.send(format_line(ctx.name, "BATCH", "-" + ref))


def send_values(
    ctx: Context,
    session: Session,
    target: str,
    values: dict[str, str],
    keys: Iterable[str] | None,
    batch: str | None = None,
) -> None:
    """``METADATA`` lines for ``values`` (only ``keys`` when given), in key order."""
    tags = {"batch": batch} if batch is not None else None
    wanted = set(values) if keys is None else set(keys) & set(values)
    for key in sorted(wanted):
        line = format_line(ctx.name, "METADATA", target, key, VISIBILITY, values[key], tags=tags)
        session.send(line)


def send_own(ctx: Context, session: Session) -> None:
    """On connecting, or on asking for the capability later: one's own metadata, batched."""
    if CAP not in session.caps:
        return
    ref = open_batch(ctx, session, "metadata", session.nick)
    send_values(ctx, session, session.nick, user_values(ctx, session), None, ref)
    close_batch(ctx, session, ref)


def sync_channel(
    ctx: Context,
    session: Session,
    channel: Channel,
    keys: Iterable[str] | None,
    batch: str | None = None,
) -> None:
    """The room's values and its members' (``keys``: the session's subscriptions)."""
    wanted = set(session.metadata_subs or ()) if keys is None else set(keys)
    if not wanted:
        return
    send_values(ctx, session, channel.name, channel_values(channel), wanted, batch)
    for member in channel.members:
        if member is not session.owner:
            send_values(ctx, session, member.nick, user_values(ctx, member), wanted, batch)


def joined(ctx: Context, session: Session, channel: Channel) -> None:
    """A join: the newcomer learns the room's and members' values, members the newcomer's."""
    if subscribed_any(session):
        if len(channel.members) > SYNC_INLINE:
            ctx.reply(session, n.RPL_METADATASYNCLATER, channel.name, "1")
        else:
            sync_channel(ctx, session, channel, None)
    values = user_values(ctx, session)
    if not values:
        return
    for member in channel.sessions:
        if member.owner is not session.owner and subscribed_any(member):
            send_values(ctx, member, session.nick, values, member.metadata_subs)


def subscribed_any(session: Session) -> bool:
    return bool(session.metadata_subs) and CAP in session.caps
