"""Multi-line replies shared by several commands: the welcome burst, ISUPPORT, LUSERS, MOTD."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from chatroom.irc import numerics as n
from chatroom.irc.isupport import isupport_lines
from chatroom.irc.message import format_line
from chatroom.irc.modes import ChannelModeSpec
from chatroom.server.core.accountbook import SILENCE_ENTRIES

if TYPE_CHECKING:
    from chatroom.server.core.context import Context
    from chatroom.server.core.session import Session

# +C (no CTCP but ACTION) joins the default flags; docs/commands.md lists what each does.
CHANNEL_MODES = ChannelModeSpec(flags="CMRimnst")
USER_MODES = "iowsBR"


def isupport_tokens(ctx: Context) -> dict[str, str | None]:
    """The ISUPPORT (005) tokens; every value comes from the settings that enforce it."""
    lim = ctx.settings.limits
    targets = lim.targets_per_message
    return {
        "ACCOUNTEXTBAN": "a",  # the account extban of EXTBAN (access.mask_matches)
        "AWAYLEN": str(lim.away_length),
        "BOT": "B",
        "CASEMAPPING": ctx.settings.casemapping.value,
        "CHATHISTORY": str(ctx.settings.history.chathistory_limit),
        "CHANLIMIT": f"#:{lim.channels_per_user}",
        "CHANMODES": CHANNEL_MODES.chanmodes_token(),
        "CHANNELLEN": str(lim.channel_length),
        "CHANTYPES": "#",
        "ELIST": "CMNTU",
        "EXCEPTS": "e",
        "EXTBAN": ",am",
        "INVEX": "I",
        "KEYLEN": str(lim.key_length),
        "KICKLEN": str(lim.kick_length),
        "KNOCK": None,
        "MAXLIST": f"beIq:{lim.list_entries}",
        "MAXTARGETS": str(targets),
        "MODES": str(lim.modes_per_command),
        "MONITOR": str(lim.monitor_entries),
        "MSGREFTYPES": "timestamp,msgid",
        "NETWORK": ctx.settings.network_name,
        "NICKLEN": str(lim.nick_length),
        "PREFIX": "(ov)@+",
        "SAFELIST": None,
        "SILENCE": str(SILENCE_ENTRIES),
        "STATUSMSG": "@+",
        "TARGMAX": (
            f"JOIN:,KICK:,LIST:,NAMES:,NOTICE:{targets},PRIVMSG:{targets},TAGMSG:{targets},"
            "WHOIS:1,WHOWAS:"
        ),
        "TOPICLEN": str(lim.topic_length),
        "USERLEN": str(lim.user_length),
        "UTF8ONLY": None,
        "WHOX": None,
    }


class Template:
    """A reply fixed by the settings but for its target nick, split around that nick.

    The welcome burst is the same for every client but the nick; formatting it once and
    concatenating per client makes a registration several times cheaper (bench: connect).
    """

    __slots__ = ("head", "tail")

    def __init__(self, server: str, numeric: str, *params: str) -> None:
        self.head = f":{server} {numeric} ".encode()
        line = format_line(server, numeric, "X", *params)
        self.tail = line[len(self.head) + 1 :]

    def send(self, session: Session) -> None:
        session.send(self.head + session.nick.encode() + self.tail)


def _templates(ctx: Context, key: str, build: Callable[[], list[Template]]) -> list[Template]:
    cached = ctx.reply_cache.get(key)
    if cached is None:
        cached = ctx.reply_cache[key] = build()
    return cached


def _isupport_templates(ctx: Context) -> list[Template]:
    lines = isupport_lines(isupport_tokens(ctx))
    return [
        Template(ctx.name, n.RPL_ISUPPORT, *tokens, "are supported by this server")
        for tokens in lines
    ]


def _greeting_templates(ctx: Context) -> list[Template]:
    """002-004: who we are, fixed for the life of the process."""
    s = ctx.settings
    created = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(ctx.started_at))
    spec = CHANNEL_MODES
    return [
        Template(ctx.name, n.RPL_YOURHOST, f"Your host is {ctx.name}, running version {s.version}"),
        Template(ctx.name, n.RPL_CREATED, f"This server was created {created}"),
        Template(
            ctx.name,
            n.RPL_MYINFO,
            ctx.name,
            s.version,
            USER_MODES,
            spec.lists + spec.always_arg + spec.set_arg + spec.flags + spec.prefixes,
            spec.lists + spec.always_arg + spec.set_arg + spec.prefixes,
        ),
    ]


def _motd_templates(ctx: Context) -> list[Template]:
    motd = ctx.settings.motd
    if not motd:
        return [Template(ctx.name, n.ERR_NOMOTD, "MOTD File is missing")]
    return [
        Template(ctx.name, n.RPL_MOTDSTART, f"- {ctx.name} Message of the day - "),
        *(Template(ctx.name, n.RPL_MOTD, f"- {line}") for line in motd),
        Template(ctx.name, n.RPL_ENDOFMOTD, "End of /MOTD command."),
    ]


def send_isupport(ctx: Context, session: Session) -> None:
    for template in _templates(ctx, "isupport", lambda: _isupport_templates(ctx)):
        template.send(session)


def send_welcome(ctx: Context, session: Session) -> None:
    """001-005, then LUSERS and MOTD, as every client expects right after registering."""
    network = ctx.settings.network_name
    ctx.reply(session, n.RPL_WELCOME, f"Welcome to the {network} IRC Network {session.prefix}")
    for template in _templates(ctx, "greeting", lambda: _greeting_templates(ctx)):
        template.send(session)
    send_isupport(ctx, session)
    send_lusers(ctx, session)
    send_motd(ctx, session)


def send_lusers(ctx: Context, session: Session) -> None:
    """O(1): the counts are kept as users come and go (``Census``), never recounted."""
    census = ctx.census
    users = census.registered
    invisible = min(census.invisible, users)
    opers = census.opers
    unknown = len(ctx.sessions) - census.devices  # not users: a user has 0..n devices
    census.most = most = max(census.most, users)
    ctx.reply(
        session,
        n.RPL_LUSERCLIENT,
        f"There are {users - invisible} users and {invisible} invisible on 1 servers",
    )
    # modern.ircdocs.horse gives these three a positive count and RFC 2812 sends them only
    # when not zero: "0 unknown connection(s)" is noise in every client's welcome.
    if opers:
        ctx.reply(session, n.RPL_LUSEROP, str(opers), "operator(s) online")
    if unknown > 0:
        ctx.reply(session, n.RPL_LUSERUNKNOWN, str(unknown), "unknown connection(s)")
    if ctx.rooms:
        ctx.reply(session, n.RPL_LUSERCHANNELS, str(len(ctx.rooms)), "channels formed")
    ctx.reply(session, n.RPL_LUSERME, f"I have {users} clients and 0 servers")
    ctx.reply(
        session,
        n.RPL_LOCALUSERS,
        str(users),
        str(most),
        f"Current local users {users}, max {most}",
    )
    ctx.reply(
        session,
        n.RPL_GLOBALUSERS,
        str(users),
        str(most),
        f"Current global users {users}, max {most}",
    )


def send_motd(ctx: Context, session: Session) -> None:
    for template in _templates(ctx, "motd", lambda: _motd_templates(ctx)):
        template.send(session)
