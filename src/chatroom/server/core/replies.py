"""Multi-line replies shared by several commands: the welcome burst, ISUPPORT, LUSERS, MOTD."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from chatroom.irc import numerics as n
from chatroom.irc.isupport import isupport_lines
from chatroom.irc.modes import ChannelModeSpec

if TYPE_CHECKING:
    from chatroom.server.core.session import Session
    from chatroom.server.core.world import World

CHANNEL_MODES = ChannelModeSpec()
USER_MODES = "iowB"


def isupport_tokens(world: World) -> dict[str, str | None]:
    """The ISUPPORT (005) tokens; every value comes from the settings that enforce it."""
    lim = world.settings.limits
    targets = lim.targets_per_message
    return {
        "AWAYLEN": str(lim.away_length),
        "BOT": "B",
        "CASEMAPPING": world.settings.casemapping.value,
        "CHATHISTORY": str(world.settings.history.chathistory_limit),
        "CHANLIMIT": f"#:{lim.channels_per_user}",
        "CHANMODES": CHANNEL_MODES.chanmodes_token(),
        "CHANNELLEN": str(lim.channel_length),
        "CHANTYPES": "#",
        "ELIST": "U",
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
        "TARGMAX": f"JOIN:,KICK:,LIST:,NAMES:,NOTICE:{targets},PRIVMSG:{targets},WHOIS:1,WHOWAS:",
        "TOPICLEN": str(lim.topic_length),
        "USERLEN": str(lim.user_length),
        "UTF8ONLY": None,
        "WHOX": None,
    }


def send_isupport(world: World, session: Session) -> None:
    for tokens in isupport_lines(isupport_tokens(world)):
        world.reply(session, n.RPL_ISUPPORT, *tokens, "are supported by this server")


def send_welcome(world: World, session: Session) -> None:
    """001-005, then LUSERS and MOTD, as every client expects right after registering."""
    s = world.settings
    created = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(world.started_at))
    world.reply(
        session,
        n.RPL_WELCOME,
        f"Welcome to the {s.network_name} IRC Network {session.prefix}",
    )
    world.reply(session, n.RPL_YOURHOST, f"Your host is {world.name}, running version {s.version}")
    world.reply(session, n.RPL_CREATED, f"This server was created {created}")
    world.reply(
        session,
        n.RPL_MYINFO,
        world.name,
        s.version,
        USER_MODES,
        CHANNEL_MODES.lists
        + CHANNEL_MODES.always_arg
        + CHANNEL_MODES.set_arg
        + CHANNEL_MODES.flags
        + CHANNEL_MODES.prefixes,
        CHANNEL_MODES.lists
        + CHANNEL_MODES.always_arg
        + CHANNEL_MODES.set_arg
        + CHANNEL_MODES.prefixes,
    )
    send_isupport(world, session)
    send_lusers(world, session)
    send_motd(world, session)


def send_lusers(world: World, session: Session) -> None:
    """O(1): counts are kept by the world, not recounted for every new connection."""
    users = world.registered_count
    invisible = min(world.invisible_count, users)
    opers = world.oper_count
    unknown = len(world.sessions) - users
    world.max_users = max(world.max_users, users)
    world.reply(
        session,
        n.RPL_LUSERCLIENT,
        f"There are {users - invisible} users and {invisible} invisible on 1 servers",
    )
    world.reply(session, n.RPL_LUSEROP, str(opers), "operator(s) online")
    world.reply(session, n.RPL_LUSERUNKNOWN, str(unknown), "unknown connection(s)")
    world.reply(session, n.RPL_LUSERCHANNELS, str(len(world.channels)), "channels formed")
    world.reply(session, n.RPL_LUSERME, f"I have {users} clients and 0 servers")
    world.reply(
        session,
        n.RPL_LOCALUSERS,
        str(users),
        str(world.max_users),
        f"Current local users {users}, max {world.max_users}",
    )
    world.reply(
        session,
        n.RPL_GLOBALUSERS,
        str(users),
        str(world.max_users),
        f"Current global users {users}, max {world.max_users}",
    )


def send_motd(world: World, session: Session) -> None:
    motd = world.settings.motd
    if not motd:
        world.reply(session, n.ERR_NOMOTD, "MOTD File is missing")
        return
    world.reply(session, n.RPL_MOTDSTART, f"- {world.name} Message of the day - ")
    for line in motd:
        world.reply(session, n.RPL_MOTD, f"- {line}")
    world.reply(session, n.RPL_ENDOFMOTD, "End of /MOTD command.")
