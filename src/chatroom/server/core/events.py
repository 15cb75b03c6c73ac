"""Room events in history, for IRCv3 draft/event-playback.

JOIN, PART, QUIT, KICK, MODE, TOPIC and NICK are fanned out live as before and also kept
in the room's history (REDACT too: see commands/redact.py), so a client that requested
``draft/event-playback`` sees in CHATHISTORY (and in the replay on join) who came and went
and what changed, not only what was said.

Rules:
- each event gets its msgid and time once, before the fan-out, so the stored copy is the
  very line members saw live;
- one record per room the event concerns: a QUIT or NICK is filed in each of the user's
  rooms (private conversations keep messages only);
- only clients that requested draft/event-playback ever get an event back (the
  chathistory spec: anyone else gets PRIVMSG and NOTICE only), and REDACT only those that
  also have draft/message-redaction;
- a bot's (user mode ``+B``) JOIN, PART, QUIT and NICK carry the ``bot`` tag live, as
  its messages do (IRCv3 bot-mode: on every command a bot sends), so clients learn a
  newcomer is a bot from its JOIN; the stored copy leaves it out, as it does every tag;
- nothing here is on the PRIVMSG path: messages keep their plain ``HistoryRecord`` and
  their fan-out is unchanged (docs/benchmarks.md).
"""

from __future__ import annotations

import heapq
from collections.abc import Collection, Iterable, Sequence
from typing import TYPE_CHECKING

from chatroom.irc.message import format_line
from chatroom.server.core.history import EVENT_COMMANDS, EventRecord, HistoryRecord, format_time
from chatroom.server.core.users import User

if TYPE_CHECKING:
    from chatroom.server.core.channel import Channel
    from chatroom.server.core.context import Context
    from chatroom.server.core.session import Session

__all__ = [
    "EVENT_PLAYBACK",
    "announce",
    "bot_tag",
    "event_line",
    "join",
    "keep",
    "nick",
    "quit",
    "wanted",
    "with_events",
]

EVENT_PLAYBACK = "draft/event-playback"
REDACTION = "draft/message-redaction"
_NO_ROOM = ("QUIT", "NICK")  # lines whose parameters do not start with the room
_BOT = {"bot": ""}


def bot_tag(who: Session | User) -> dict[str, str] | None:
    """The ``bot`` tag for a line a bot originates, None for anyone else."""
    user = who if isinstance(who, User) else who.owner
    return _BOT if "B" in user.modes else None


def wanted(session: Session) -> tuple[str, ...]:
    """The event commands ``session`` may be sent from history (none without the cap)."""
    if EVENT_PLAYBACK not in session.caps:
        return ()
    if REDACTION in session.caps:
        return (*EVENT_COMMANDS, "REDACT")
    return EVENT_COMMANDS


def keep(
    ctx: Context,
    key: str,
    room: str,
    source: str,
    command: str,
    params: Sequence[str],
    at: int,
    msgid: str,
    *,
    account: str | None = None,
    sender: str = "",
    recipient: str = "",
) -> None:
    """File one event in conversation ``key`` (a folded room name, or a private key)."""
    ctx.record_event(
        EventRecord(
            target=key,
            msgid=msgid,
            at=at,
            sender=sender,
            recipient=recipient,
            source=source,
            command=command,
            target_name=room,
            text="",
            account=account,
            params=tuple(params),
        )
    )


def announce(
    ctx: Context,
    channel: Channel,
    source: str,
    command: str,
    *params: str,
    account: str | None = None,
    recipients: Collection[Session] | None = None,
    client_tags: dict[str, str] | None = None,
) -> None:
    """Send ``command <room> params...`` to every member (or ``recipients``: an operator
    changing a room from outside sees it too) and keep it: PART, KICK, TOPIC, MODE."""
    at, msgid = ctx.now_ms(), ctx.new_msgid()
    ctx.fanout(
        channel.sessions if recipients is None else recipients,
        source,
        command,
        channel.name,
        *params,
        client_tags=client_tags,
        account=account,
        msgid=msgid,
        time_tag=format_time(at),
    )
    keep(
        ctx,
        ctx.fold(channel.name),
        channel.name,
        source,
        command,
        params,
        at,
        msgid,
        account=account,
    )


def join(ctx: Context, channel: Channel, session: Session) -> None:
    """JOIN to every member (extended-join clients also get the account and realname)."""
    at, msgid = ctx.now_ms(), ctx.new_msgid()
    time_tag = format_time(at)
    extra = (session.account or "*", session.realname)
    plain = [m for m in channel.sessions if "extended-join" not in m.caps]
    extended = [m for m in channel.sessions if "extended-join" in m.caps]
    for members, params in ((plain, ()), (extended, extra)):
        if members:
            ctx.fanout(
                members,
                session.prefix,
                "JOIN",
                channel.name,
                *params,
                client_tags=bot_tag(session),
                account=session.account,
                msgid=msgid,
                time_tag=time_tag,
            )
    keep(
        ctx,
        ctx.fold(channel.name),
        channel.name,
        session.prefix,
        "JOIN",
        extra,
        at,
        msgid,
        account=session.account,
    )


def quit(ctx: Context, session: Session | User, reason: str) -> None:
    """QUIT to everyone who shares a room, kept in each of those rooms."""
    if session.channels:  # in no room, nobody is told and nothing is kept
        _everywhere(ctx, session, ctx.peers(session), "QUIT", reason)


def quit_unannounced(ctx: Context, user: User, reason: str) -> None:
    """A QUIT kept in each of the user's rooms but sent to nobody: at an orderly shutdown
    everyone leaves at once, so telling room-mates is noise, but the rooms' history must
    say the user left, or its JOIN after the restart follows its last JOIN."""
    _everywhere(ctx, user, (), "QUIT", reason)


def nick(ctx: Context, session: Session | User, recipients: Collection[Session], new: str) -> None:
    """NICK to ``recipients`` (the user too), kept in each of the user's rooms."""
    _everywhere(ctx, session, recipients, "NICK", new)


def _everywhere(
    ctx: Context, session: Session | User, recipients: Collection[Session], command: str, param: str
) -> None:
    at, msgid = ctx.now_ms(), ctx.new_msgid()
    source = session.prefix
    ctx.fanout(
        recipients,
        source,
        command,
        param,
        client_tags=bot_tag(session),
        account=session.account,
        msgid=msgid,
        time_tag=format_time(at),
    )
    for key, channel in session.channels.items():
        keep(ctx, key, channel.name, source, command, (param,), at, msgid, account=session.account)


# ----------------------------------------------------------------------------- playback


def event_line(session: Session, record: EventRecord, tags: dict[str, str]) -> bytes:
    """A stored event as ``session`` would have seen it live."""
    command, params = record.command, record.params
    if command in _NO_ROOM:
        return format_line(record.source, command, *params, tags=tags)
    if command == "JOIN" and "extended-join" not in session.caps:
        params = ()
    return format_line(record.source, command, record.target_name, *params, tags=tags)


def with_events(
    session: Session, ring: Iterable[HistoryRecord] | None, lines: list[HistoryRecord]
) -> list[HistoryRecord]:
    """The replay on join for ``session``: ``lines`` (messages) and, for event-playback
    clients, the room's events since the first of them, in time order.

    The newest JOIN of ``session`` itself, just announced live, is not replayed.
    """
    shown = wanted(session)
    if not shown or not ring or not lines:
        return lines
    oldest = lines[0].at
    picked = [e for e in ring if e.at >= oldest and e.command in shown]
    if picked and picked[-1].command == "JOIN" and picked[-1].source == session.prefix:
        picked.pop()
    if not picked:
        return lines
    return list(heapq.merge(lines, picked, key=lambda record: record.at))
