"""Questions about users and the server: ISON, USERHOST, AWAY, VERSION, LINKS, TIME, INFO,
ADMIN, STATS, HELP, LUSERS, MOTD, USERS. WHO, WHOIS and WHOWAS live in ``whois``.

Commands that take an optional ``<target>`` server answer for this server (matched as a
glob, or named by a user on it) and refuse anything else with 402, as the modern docs ask.
"""

from __future__ import annotations

import inspect
import time

from chatroom.irc import numerics as n
from chatroom.irc.masks import match_mask
from chatroom.irc.message import Message
from chatroom.server.core import presence
from chatroom.server.core.context import Context
from chatroom.server.core.dispatch import COMMANDS, CommandError, command
from chatroom.server.core.replies import send_isupport, send_lusers, send_motd
from chatroom.server.core.session import Session

USERHOST_MAX = 5
# Command names per RPL_HELPTXT line in the index sent for a bare HELP.
_HELP_INDEX_WIDTH = 8


def _check_target(ctx: Context, msg: Message) -> None:
    """Refuse a ``<target>`` that is neither this server nor a user on it."""
    if not msg.params or not msg.params[0]:
        return
    target = msg.params[0]
    if match_mask(target, ctx.name, ctx.fold) or ctx.nicks.find(target) is not None:
        return
    raise CommandError(n.ERR_NOSUCHSERVER, target, "No such server")


def _words(msg: Message) -> list[str]:
    """Nicknames given as separate parameters, or space-separated in a trailing one."""
    return [word for param in msg.params for word in param.split(" ") if word]


# ----------------------------------------------------------------- presence


@command("ISON", min_params=1)
def ison(ctx: Context, session: Session, msg: Message) -> None:
    """ISON <nick>{ <nick>}

    Which of these nicknames are online, spelled as the server knows them.
    """
    online: list[str] = []
    for nick in _words(msg):
        target = ctx.nicks.find(nick)
        if target is not None and target.registered:
            online.append(target.nick)
    ctx.reply(session, n.RPL_ISON, " ".join(online))


@command("USERHOST", min_params=1)
def userhost(ctx: Context, session: Session, msg: Message) -> None:
    """USERHOST <nick>{ <nick>}

    Up to five replies of nick[*]=+|-user@host: * for an operator, - when away.
    """
    replies: list[str] = []
    for nick in _words(msg)[:USERHOST_MAX]:
        target = ctx.nicks.find(nick)
        if target is None or not target.registered:
            continue
        oper = "*" if "o" in target.modes else ""
        here = "-" if target.away is not None else "+"
        replies.append(f"{target.nick}{oper}={here}{target.user}@{target.host}")
    ctx.reply(session, n.RPL_USERHOST, " ".join(replies))


@command("AWAY", before_registration=True)
def away(ctx: Context, session: Session, msg: Message) -> None:
    """AWAY [:<message>]

    With a message, mark yourself away; without one, come back. Peers that asked for
    away-notify are told either way. With draft/pre-away, AWAY may come before the
    welcome; "AWAY *" means away for no stated reason.
    """
    if not session.registered and "draft/pre-away" not in session.caps:
        raise CommandError(n.ERR_NOTREGISTERED, "You have not registered")
    text = msg.params[0] if msg.params else ""
    # Before the welcome nobody can see this user yet: no room peers, and MONITOR
    # watchers hear of the nick when it comes online (pre-away spec).
    # With several devices, the user is away only when every one of them is.
    if text:
        presence.set_away(ctx, session, text[: ctx.settings.limits.away_length])
        ctx.reply(session, n.RPL_NOWAWAY, "You have been marked as being away")
        return
    presence.set_away(ctx, session, None)
    ctx.reply(session, n.RPL_UNAWAY, "You are no longer marked as being away")


# ----------------------------------------------------------------- the server


@command("VERSION")
def version(ctx: Context, session: Session, msg: Message) -> None:
    """VERSION [<target>]

    The server's software version, then its ISUPPORT tokens.
    """
    _check_target(ctx, msg)
    s = ctx.settings
    ctx.reply(session, n.RPL_VERSION, s.version, ctx.name, f"{s.network_name} IRC server")
    send_isupport(ctx, session)


@command("LINKS")
def links(ctx: Context, session: Session, msg: Message) -> None:
    """LINKS [[<server>] <mask>]

    The servers this one knows whose name matches the mask: this server alone, with its
    description (server.description).
    """
    if len(msg.params) > 1:
        _check_target(ctx, msg)
    mask = msg.params[-1] if msg.params and msg.params[-1] else "*"
    if match_mask(mask, ctx.name, ctx.fold):
        info = f"0 {ctx.settings.description}"
        ctx.reply(session, n.RPL_LINKS, ctx.name, ctx.name, info)
    shown = mask if " " not in mask and not mask.startswith(":") else "*"
    ctx.reply(session, n.RPL_ENDOFLINKS, shown, "End of /LINKS list")


@command("TIME")
def time_(ctx: Context, session: Session, msg: Message) -> None:
    """TIME [<server>]

    The server's local time (UTC), for people; clients should not parse it.
    """
    _check_target(ctx, msg)
    now = time.gmtime(ctx.clock())
    human = time.strftime("%A %B %d %Y -- %H:%M:%S +00:00", now)
    ctx.reply(session, n.RPL_TIME, ctx.name, human)


@command("STATS", min_params=1)
def stats(ctx: Context, session: Session, msg: Message) -> None:
    """STATS <letter> [<server>]

    ``u``: how long the server has been up. No other report is kept; every letter gets
    the end of its report (clients' /stats expect that, not an unknown command).
    """
    _check_target(ctx, Message("STATS", msg.params[1:]))
    letter = msg.params[0][:1] or "*"
    if letter == "u":
        up = max(0, int(ctx.clock() - ctx.started_at))
        days, rest = divmod(up, 86_400)
        hours, minutes, seconds = rest // 3600, rest % 3600 // 60, rest % 60
        shown = f"Server Up {days} days {hours}:{minutes:02d}:{seconds:02d}"
        ctx.reply(session, n.RPL_STATSUPTIME, shown)
    ctx.reply(session, n.RPL_ENDOFSTATS, letter, "End of STATS report")


@command("INFO")
def info(ctx: Context, session: Session, msg: Message) -> None:
    """INFO [<target>]

    What this server is and how long it has been up.
    """
    _check_target(ctx, msg)
    s = ctx.settings
    started = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(ctx.started_at))
    for line in (
        f"{ctx.name} runs {s.version},",
        "a small IRC server written in Python.",
        f"Network: {s.network_name}",
        f"Up since {started}",
    ):
        ctx.reply(session, n.RPL_INFO, line)
    ctx.reply(session, n.RPL_ENDOFINFO, "End of INFO list")


@command("ADMIN")
def admin(ctx: Context, session: Session, msg: Message) -> None:
    """ADMIN [<target>]

    Who runs this server and how to reach them.
    """
    _check_target(ctx, msg)
    lines = ctx.settings.admin_info
    if not lines:
        raise CommandError(n.ERR_NOADMININFO, ctx.name, "No administrative info available")
    loc1, loc2, email = (*lines, "", "", "")[:3]
    ctx.reply(session, n.RPL_ADMINME, ctx.name, "Administrative info")
    ctx.reply(session, n.RPL_ADMINLOC1, loc1)
    ctx.reply(session, n.RPL_ADMINLOC2, loc2)
    ctx.reply(session, n.RPL_ADMINEMAIL, email)


@command("LUSERS")
def lusers(ctx: Context, session: Session, msg: Message) -> None:
    """LUSERS

    How many users, operators, unknown connections and rooms there are.
    """
    send_lusers(ctx, session)


@command("MOTD")
def motd(ctx: Context, session: Session, msg: Message) -> None:
    """MOTD [<target>]

    The message of the day.
    """
    _check_target(ctx, msg)
    send_motd(ctx, session)


@command("USERS")
def users(ctx: Context, session: Session, msg: Message) -> None:
    """USERS

    Disabled, as on every modern server: it would list who is logged in to the host.
    """
    raise CommandError(n.ERR_USERSDISABLED, "USERS has been disabled")


# ----------------------------------------------------------------- help


@command("HELP")
@command("HELPOP")
def help_(ctx: Context, session: Session, msg: Message) -> None:
    """HELP [<subject>]

    Without a subject, the list of commands; with a command name, its syntax and notes.
    HELPOP is the same command under its older name.
    """
    subject = msg.params[0].strip() if msg.params else ""
    if not subject:
        _help_index(ctx, session)
        return
    spec = COMMANDS.get(subject.upper())
    if spec is None or not spec.handler.__doc__:
        # The subject is echoed unless it could not be a middle parameter (modern docs).
        shown = subject if " " not in subject and not subject.startswith(":") else "*"
        raise CommandError(n.ERR_HELPNOTFOUND, shown, "No help available on this topic")
    name = spec.name
    lines = inspect.cleandoc(spec.handler.__doc__).splitlines()
    # The syntax is the first paragraph, which a long one wraps over several lines.
    end = next((i for i, line in enumerate(lines) if not line.strip()), len(lines))
    ctx.reply(session, n.RPL_HELPSTART, name, " ".join(line.strip() for line in lines[:end]))
    body = lines[end:]
    while body and not body[0].strip():
        body.pop(0)
    ctx.reply(session, n.RPL_HELPTXT, name, "")  # the modern docs' blank first line
    for line in body:
        ctx.reply(session, n.RPL_HELPTXT, name, line)
    ctx.reply(session, n.RPL_ENDOFHELP, name, "End of /HELP")


def _help_index(ctx: Context, session: Session) -> None:
    """Title, an empty line (as the modern docs advise), then the commands in rows."""
    names = sorted(COMMANDS)
    ctx.reply(session, n.RPL_HELPSTART, "*", "** Help System **")
    ctx.reply(session, n.RPL_HELPTXT, "*", "")
    ctx.reply(session, n.RPL_HELPTXT, "*", "Commands:")
    for i in range(0, len(names), _HELP_INDEX_WIDTH):
        ctx.reply(session, n.RPL_HELPTXT, "*", " ".join(names[i : i + _HELP_INDEX_WIDTH]))
    ctx.reply(session, n.RPL_HELPTXT, "*", "")
    ctx.reply(session, n.RPL_ENDOFHELP, "*", "Try HELP <command> for details on one command")
