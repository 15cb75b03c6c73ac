"""Multi-line replies shared by several commands: the welcome burst, ISUPPORT, LUSERS, MOTD."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from chatroom.irc import numerics as n
from chatroom.irc.isupport import isupport_lines
from chatroom.irc.message import format_line
from chatroom.irc.modes import ChannelModeSpec

if TYPE_CHECKING:
    from chatroom.server.core.session import Session
    from chatroom.server.core.world import World

# +C (no CTCP but ACTION) joins the default flags; docs/commands.md lists what each does.
CHANNEL_MODES = ChannelModeSpec(flags="Cimnst")
USER_MODES = "iowB"


def isupport_tokens(world: World) -> dict[str, str | None]:
    """The ISUPPORT (005) tokens; every value comes from the settings that enforce it."""
    lim = world.settings.limits
    targets = lim.targets_per_message
    return {
        "ACCOUNTEXTBAN": "a",  # the account extban of EXTBAN (access.mask_matches)
        "AWAYLEN": str(lim.away_length),
        "BOT": "B",
        "CASEMAPPING": world.settings.casemapping.value,
        "CHATHISTORY": str(world.settings.history.chathistory_limit),
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
        "MAXLIST": f"beIq:{lim.list_entries}",
        "MAXTARGETS": str(targets),
        "MODES": str(lim.modes_per_command),
        "MONITOR": str(lim.monitor_entries),
        "MSGREFTYPES": "timestamp,msgid",
        "NETWORK": world.settings.network_name,
        "NICKLEN": str(lim.nick_length),
        "PREFIX": "(ov)@+",
        "SAFELIST": None,
        "STATUSMSG": "@+",
        "TARGMAX": f"JOIN:,KICK:,LIST:,NAMES:,NOTICE:{targets},PRIVMSG:{targets},WHOIS:1,WHOWAS:",
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


def _templates(world: World, key: str, build: Callable[[], list[Template]]) -> list[Template]:
    cached = world.reply_cache.get(key)
    if cached is None:
        cached = world.reply_cache[key] = build()
    return cached


def _isupport_templates(world: World) -> list[Template]:
    lines = isupport_lines(isupport_tokens(world))
    return [
        Template(world.name, n.RPL_ISUPPORT, *tokens, "are supported by this server")
        for tokens in lines
    ]


def _greeting_templates(world: World) -> list[Template]:
    """002-004: who we are, fixed for the life of the process."""
    s = world.settings
    created = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(world.started_at))
    spec = CHANNEL_MODES
    return [
        Template(
            world.name, n.RPL_YOURHOST, f"Your host is {world.name}, running version {s.version}"
        ),
        Template(world.name, n.RPL_CREATED, f"This server was created {created}"),
        Template(
            world.name,
            n.RPL_MYINFO,
            world.name,
            s.version,
            USER_MODES,
            spec.lists + spec.always_arg + spec.set_arg + spec.flags + spec.prefixes,
            spec.lists + spec.always_arg + spec.set_arg + spec.prefixes,
        ),
    ]


def _motd_templates(world: World) -> list[Template]:
    motd = world.settings.motd
    if not motd:
        return [Template(world.name, n.ERR_NOMOTD, "MOTD File is missing")]
    return [
        Template(world.name, n.RPL_MOTDSTART, f"- {world.name} Message of the day - "),
        *(Template(world.name, n.RPL_MOTD, f"- {line}") for line in motd),
        Template(world.name, n.RPL_ENDOFMOTD, "End of /MOTD command."),
    ]


def send_isupport(world: World, session: Session) -> None:
    for template in _templates(world, "isupport", lambda: _isupport_templates(world)):
        template.send(session)


def send_welcome(world: World, session: Session) -> None:
    """001-005, then LUSERS and MOTD, as every client expects right after registering."""
    network = world.settings.network_name
    world.reply(session, n.RPL_WELCOME, f"Welcome to the {network} IRC Network {session.prefix}")
    for template in _templates(world, "greeting", lambda: _greeting_templates(world)):
        template.send(session)
    send_isupport(world, session)
    send_lusers(world, session)
    send_motd(world, session)


def send_lusers(world: World, session: Session) -> None:
    """O(1): counts are kept by the world, not recounted for every new connection."""
    census = world.census
    users = census.registered
    invisible = min(census.invisible, users)
    opers = census.opers
    unknown = len(world.sessions) - users
    census.most = most = max(census.most, users)
    world.reply(
        session,
        n.RPL_LUSERCLIENT,
        f"There are {users - invisible} users and {invisible} invisible on 1 servers",
    )
    world.reply(session, n.RPL_LUSEROP, str(opers), "operator(s) online")
    world.reply(session, n.RPL_LUSERUNKNOWN, str(unknown), "unknown connection(s)")
    world.reply(session, n.RPL_LUSERCHANNELS, str(len(world.rooms)), "channels formed")
    world.reply(session, n.RPL_LUSERME, f"I have {users} clients and 0 servers")
    world.reply(
        session,
        n.RPL_LOCALUSERS,
        str(users),
        str(most),
        f"Current local users {users}, max {most}",
    )
    world.reply(
        session,
        n.RPL_GLOBALUSERS,
        str(users),
        str(most),
        f"Current global users {users}, max {most}",
    )


def send_motd(world: World, session: Session) -> None:
    for template in _templates(world, "motd", lambda: _motd_templates(world)):
        template.send(session)
