"""Looking at rooms without changing them: NAMES and LIST, and the replies JOIN reuses.

Visibility rules (modern.ircdocs.horse, as InspIRCd and Ergo apply them): a secret (+s)
room is invisible to non-members, and invisible (+i) users are left out of the NAMES of a
room the asker is not in.
"""

from __future__ import annotations

from collections.abc import Callable

from chatroom.irc import numerics as n
from chatroom.irc.masks import match_mask
from chatroom.irc.message import Message
from chatroom.server.core.channel import Channel
from chatroom.server.core.context import Context
from chatroom.server.core.dispatch import command
from chatroom.server.core.roomviews import send_names, visible
from chatroom.server.core.session import Session

ListTest = Callable[[Channel], bool]


@command("NAMES")
def names(ctx: Context, session: Session, msg: Message) -> None:
    """NAMES [<channel>{,<channel>}]"""
    if not msg.params or not msg.params[0]:
        ctx.reply(session, n.RPL_ENDOFNAMES, "*", "End of /NAMES list")
        return
    for name in msg.params[0].split(","):
        if not name:
            continue
        channel = ctx.rooms.find(name)
        if channel is None or not visible(channel, session):
            ctx.reply(session, n.RPL_ENDOFNAMES, name, "End of /NAMES list")
        else:
            send_names(ctx, session, channel)


def _list_conditions(ctx: Context, text: str) -> tuple[list[str], list[ListTest]]:
    """The LIST parameter: room masks (ELIST M; a plain name matches itself) and tests.

    ELIST conditions (modern.ircdocs.horse, ELIST): ``>n``/``<n`` more/fewer than n users
    (U), ``C<n``/``C>n`` created less/more than n minutes ago (C), ``T<n``/``T>n`` topic
    set less/more than n minutes ago (T; rooms without a topic never match), ``!mask``
    rooms whose name does not match (N).
    """
    masks: list[str] = []
    tests: list[ListTest] = []
    now, fold = ctx.clock(), ctx.fold
    for token in text.split(","):
        kind = token[:1].upper()
        if kind in ("<", ">") and token[1:].isdigit():
            tests.append(_user_count(kind == ">", int(token[1:])))
        elif kind in ("C", "T") and token[1:2] in ("<", ">") and token[2:].isdigit():
            edge = now - int(token[2:]) * 60  # "less than n minutes ago" is "after edge"
            tests.append(_age(kind == "T", token[1] == "<", edge))
        elif kind == "!" and len(token) > 1:
            tests.append(_name_not(token[1:], fold))
        elif token:
            masks.append(token)
    return masks, tests


def _user_count(more: bool, count: int) -> ListTest:
    def test(channel: Channel) -> bool:
        users = len(channel.members)
        return users > count if more else users < count

    return test


def _age(topic: bool, recent: bool, edge: float) -> ListTest:
    def test(channel: Channel) -> bool:
        if topic:
            return bool(channel.topic) and (channel.topic_set_at > edge) == recent
        return (channel.created_at > edge) == recent

    return test


def _name_not(mask: str, fold: Callable[[str], str]) -> ListTest:
    def test(channel: Channel) -> bool:
        return not match_mask(mask, channel.name, fold)

    return test


def _candidates(ctx: Context, masks: list[str]) -> list[Channel]:
    """Rooms worth testing: looked up by name when no mask has a wildcard, else all."""
    if masks and not any("*" in mask or "?" in mask for mask in masks):
        found = (ctx.rooms.find(name) for name in masks)
        return list({id(c): c for c in found if c is not None}.values())
    return list(ctx.rooms)


@command("LIST")
def list_(ctx: Context, session: Session, msg: Message) -> None:
    """LIST [<channel>{,<channel>}|<elistcond>{,<elistcond>}]

    ELIST=CMNTU: masks (#a*), !masks, >n and <n users, C<n and C>n minutes since
    creation, T<n and T>n minutes since the topic was set.
    """
    masks, tests = _list_conditions(ctx, msg.params[0] if msg.params else "")
    fold = ctx.fold
    ctx.reply(session, n.RPL_LISTSTART, "Channel", "Users  Name")
    for channel in _candidates(ctx, masks):
        if not visible(channel, session):
            continue
        if masks and not any(match_mask(mask, channel.name, fold) for mask in masks):
            continue
        if all(test(channel) for test in tests):
            ctx.reply(session, n.RPL_LIST, channel.name, str(len(channel.members)), channel.topic)
    ctx.reply(session, n.RPL_LISTEND, "End of /LIST")
