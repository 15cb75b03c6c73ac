"""Format once, send many: one message queued for many connections.

The hottest code in the server (docs/benchmarks.md): a room message is formatted once
per tag variant (server-time, message-tags, account-tag: ``TagProfile``) and the same
bytes object is queued on every recipient, with ``Session.send`` inlined in the loops.
``fanout`` serves any set of recipients; ``fanout_room`` a room's audience, which the
room keeps grouped by tag profile so the per-member loop only queues.

These are ``World``'s methods (world.py binds them, so a handler's ``ctx.fanout`` costs
what a method defined in the class costs); nothing was added to the loops when they
moved here from world.py, and nothing may be without a measurement
(``bench/core_privmsg.py``).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING

from chatroom.irc.message import format_line
from chatroom.server.core.session import Session, TagProfile

if TYPE_CHECKING:
    from chatroom.server.core.channel import Channel
    from chatroom.server.core.users import User
    from chatroom.server.core.world import World


def peers(world: World, who: Session | User) -> set[Session]:
    """The connections of everyone who shares at least one room with the user (none
    of the user's own connections)."""
    user = who.owner if isinstance(who, Session) else who
    seen: set[Session] = set()
    for channel in user.channels.values():
        seen.update(channel.sessions)
    seen.difference_update(user.conns)
    return seen


def fanout(
    world: World,
    recipients: Collection[Session],
    source: str,
    command: str,
    *params: str,
    client_tags: Mapping[str, str] | None = None,
    account: str | None = None,
    skip: Session | None = None,
    msgid: str | None = None,
    time_tag: str | None = None,
) -> None:
    """Send one message to many: each byte variant is formatted once and shared.

    A stored message passes its own ``msgid`` and ``time_tag`` (made once, for its
    history record too); any other message gets them made here on first need.

    A variant is chosen by the recipient's tag profile (server-time, message-tags,
    account-tag); most rooms see one or two variants, however many members they have.
    """
    # The hot loop of the whole server: per member, one identity check, one int test
    # and one list append. Send is inlined and the tag profile is a plain int, because
    # a method call and an IntFlag's Python-level __bool__/__hash__ cost more than the
    # rest of the loop together (measured with py-spy; see docs/benchmarks.md).
    plain: bytes | None = None
    variants: dict[int, bytes] = {}
    ready = world.ready
    skipped = 0
    for member in recipients:
        if member is skip:
            skipped = 1
            continue
        profile = member.tag_profile
        if profile:
            data = variants.get(profile)
            if data is None:
                if time_tag is None:
                    time_tag = world.now_tag()
                    msgid = world._local_msgid()
                tags = tags_for(profile, time_tag, msgid, client_tags, account)
                data = variants[profile] = format_line(source, command, *params, tags=tags)
        else:
            data = plain
            if data is None:
                data = plain = format_line(source, command, *params)
        if member.capture is not None:
            member.capture.append(data)  # the requester of a labeled command
            continue
        out = member.out
        if out:
            out.append(data)
        else:  # nothing queued yet: NO_OUTPUT, shared, is replaced by a list
            ready.append(member)
            member.out = [data]
    world.stats.deliveries += len(recipients) - skipped


def fanout_room(
    world: World,
    channel: Channel,
    source: str,
    command: str,
    *params: str,
    msgid: str,
    time_tag: str,
    client_tags: Mapping[str, str] | None = None,
    account: str | None = None,
    skip: Session | None = None,
) -> None:
    """``fanout`` to a room's audience, for a stored message (its msgid and time made).

    The room keeps its connections grouped by tag profile (``Channel.audience``), so
    each group's line is formatted once before its loop, and the loop itself does no
    more per member than queue the line (no tag profile read, no variant lookup).
    """
    ready = world.ready
    delivered = 0
    for profile, members in channel.audience().items():
        if profile:
            tags = tags_for(profile, time_tag, msgid, client_tags, account)
            data = format_line(source, command, *params, tags=tags)
        else:
            data = format_line(source, command, *params)
        delivered += len(members)
        for member in members:
            if member is skip:
                delivered -= 1
                continue
            capture = member.capture
            if capture is not None:
                capture.append(data)  # the requester of a labeled command
                continue
            out = member.out
            if out:
                out.append(data)
            else:  # nothing queued yet: NO_OUTPUT, shared, is replaced by a list
                ready.append(member)
                member.out = [data]
    world.stats.deliveries += delivered


def tags_for(
    profile: int,
    time_tag: str,
    msgid: str | None,
    client_tags: Mapping[str, str] | None,
    account: str | None,
) -> dict[str, str]:
    """The tags one tag profile gets on a message (``TagProfile`` bits)."""
    tags: dict[str, str] = {}
    if profile & TagProfile.MESSAGE_TAGS:
        if client_tags:
            tags.update(client_tags)
        if msgid is not None:
            tags["msgid"] = msgid
    if profile & TagProfile.SERVER_TIME:
        tags["time"] = time_tag
    if profile & TagProfile.ACCOUNT and account is not None:
        tags["account"] = account
    return tags
