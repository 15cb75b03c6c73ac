"""Who is who: WHO (with IRCv3 WHOX), WHOIS and WHOWAS.

Visibility rules, the same in all three (modern.ircdocs.horse, as Ergo and InspIRCd apply
them): an invisible user (+i) shows up in mask searches only to people who share a room
with them; a secret room (+s) is listed only to its members; operators see everything.
An exact nickname always answers, since WHOIS would reveal the same user anyway.
"""

from __future__ import annotations

import time

from chatroom.irc import numerics as n
from chatroom.irc.masks import match_mask
from chatroom.irc.message import Message
from chatroom.irc.packing import pack_words
from chatroom.server.core.channel import Channel
from chatroom.server.core.context import Context
from chatroom.server.core.dispatch import CommandError, command
from chatroom.server.core.session import Session
from chatroom.server.core.users import User

# WHOX fields in the one order the spec allows in RPL_WHOSPCRPL (ircv3.net WHOX).
WHOX_ORDER = "tcuihsnfdlaor"
HIDDEN_IP = "255.255.255.255"
# Room names per RPL_WHOISCHANNELS line, so a long list never passes 512 bytes.
_CHANNELS_BUDGET = 400


def middle(value: str) -> str:
    """Make ``value`` safe as a middle parameter: an IPv6 host like ``::1`` becomes ``0::1``."""
    return "0" + value if value.startswith(":") else value


def idle_seconds(ctx: Context, target: User) -> int:
    """Seconds since the target last spoke, or since it connected if it never has."""
    since = target.last_message or target.signed_on
    return max(0, int(ctx.clock() - since))


def shares_channel(asker: Session, target: User) -> bool:
    if asker.owner is target:
        return True
    mine = asker.channels
    return any(key in mine for key in target.channels)


def can_see_channel(asker: Session, channel: Channel) -> bool:
    """A secret room is visible to its members and to operators only."""
    return "s" not in channel.flags or asker.owner in channel.members or "o" in asker.modes


def who_flags(target: User, channel: Channel | None, all_prefixes: bool) -> str:
    """``H``/``G`` (here/gone), ``*`` for an operator, the room prefix, ``B`` for a bot."""
    flags = "G" if target.away is not None else "H"
    if "o" in target.modes:
        flags += "*"
    if channel is not None:
        flags += channel.prefix_of(target, all_prefixes)
    if "B" in target.modes:
        flags += "B"
    return flags


class WhoQuery:
    """A parsed ``WHO <mask> [<flags>[%<fields>[,<token>]]]`` request."""

    def __init__(self, msg: Message) -> None:
        self.mask = msg.params[0]
        options = msg.params[1] if len(msg.params) > 1 else ""
        filters, percent, spec = options.partition("%")
        self.opers_only = "o" in filters
        self.whox = bool(percent)
        fields, _, token = spec.partition(",")
        self.fields = {c for c in fields if c in WHOX_ORDER}
        # The token is at most three digits (spec); anything else could break the line.
        self.token = token if token.isdigit() and len(token) <= 3 else "0"


@command("WHO", min_params=1)
def who(ctx: Context, session: Session, msg: Message) -> None:
    """WHO <mask|#channel> [o][%<fields>[,<token>]]

    Lists members of a room, or the visible users whose nick, username, host or realname
    matches a glob mask. WHOX fields: t c u i h s n f d l a o r.
    """
    query = WhoQuery(msg)
    mask = query.mask
    if mask in ("", "0"):
        mask = "*"
    is_oper = "o" in session.modes
    if mask.startswith("#"):
        channel = ctx.rooms.find(mask)
        if channel is not None and can_see_channel(session, channel):
            joined = session.owner in channel.members
            for member in list(channel.members):
                if joined or is_oper or "i" not in member.modes:
                    _who_line(ctx, session, query, member, channel)
    else:
        for target in _who_matches(ctx, session, mask):
            _who_line(ctx, session, query, target, _some_channel(session, target))
    ctx.reply(session, n.RPL_ENDOFWHO, query.mask, "End of WHO list")


def _who_matches(ctx: Context, session: Session, mask: str) -> list[User]:
    exact = ctx.nicks.find(mask)
    if exact is not None:
        return [exact] if exact.registered else []
    fold = ctx.fold
    is_oper = "o" in session.modes
    by_prefix = "!" in mask or "@" in mask
    found: list[User] = []
    for target in ctx.nicks:
        if not target.registered:
            continue
        if "i" in target.modes and not is_oper and not shares_channel(session, target):
            continue
        if by_prefix:
            hit = match_mask(mask, target.prefix, fold)
        else:
            hit = any(
                match_mask(mask, value, fold)
                for value in (target.nick, target.user, target.host, target.realname)
            )
        if hit:
            found.append(target)
    return found


def _some_channel(asker: Session, target: User) -> Channel | None:
    """The room shown for a mask WHO: one both share, else one the asker may see."""
    fallback = None
    for key, channel in target.channels.items():
        if key in asker.channels:
            return channel
        if fallback is None and can_see_channel(asker, channel):
            fallback = channel
    return fallback


def _who_line(
    ctx: Context, session: Session, query: WhoQuery, target: User, channel: Channel | None
) -> None:
    if query.opers_only and "o" not in target.modes:
        return
    all_prefixes = "multi-prefix" in session.caps
    channel_name = channel.name if channel is not None else "*"
    if not query.whox:
        ctx.reply(
            session,
            n.RPL_WHOREPLY,
            channel_name,
            target.user,
            middle(target.host),
            ctx.name,
            target.nick,
            who_flags(target, channel, all_prefixes),
            f"0 {target.realname}",
        )
        return
    values: list[str] = []
    for field in WHOX_ORDER:
        if field not in query.fields:
            continue
        if field == "t":
            values.append(query.token)
        elif field == "c":
            values.append(channel_name)
        elif field == "u":
            values.append(target.user)
        elif field == "i":
            shown = (session.owner is target or "o" in session.modes) and target.conns
            values.append(middle(target.conns[0].ip) if shown else HIDDEN_IP)
        elif field == "h":
            values.append(middle(target.host))
        elif field == "s":
            values.append(ctx.name)
        elif field == "n":
            values.append(target.nick)
        elif field == "f":
            values.append(who_flags(target, channel, all_prefixes))
        elif field == "d":
            values.append("0")
        elif field == "l":
            values.append(str(idle_seconds(ctx, target)))
        elif field == "a":
            values.append(target.account or "0")
        elif field == "o":
            values.append("0")
        else:  # "r", always last, so it may hold spaces
            values.append(target.realname)
    ctx.reply(session, n.RPL_WHOSPCRPL, *values)


@command("WHOIS")
def whois(ctx: Context, session: Session, msg: Message) -> None:
    """WHOIS [<server>] <nick>

    Who a user is: identity, rooms, server, away message, idle time, account.
    """
    params = [p for p in msg.params if p]
    if not params:
        raise CommandError(n.ERR_NONICKNAMEGIVEN, "No nickname given")
    # With two parameters the first names a server; there is only this one to ask.
    wanted = params[-1]
    nick = wanted.split(",", 1)[0]  # TARGMAX WHOIS:1
    target = ctx.nicks.find(nick)
    if target is None or not target.registered:
        ctx.reply(session, n.ERR_NOSUCHNICK, nick, "No such nick/channel")
        ctx.reply(session, n.RPL_ENDOFWHOIS, nick, "End of /WHOIS list")
        return
    tnick = target.nick
    ctx.reply(
        session, n.RPL_WHOISUSER, tnick, target.user, middle(target.host), "*", target.realname
    )
    _whois_channels(ctx, session, target)
    ctx.reply(session, n.RPL_WHOISSERVER, tnick, ctx.name, ctx.settings.description)
    if "o" in target.modes:
        role = f" ({target.oper_role})" if target.oper_role else ""
        ctx.reply(session, n.RPL_WHOISOPERATOR, tnick, f"is an IRC operator{role}")
    if target.away is not None:
        ctx.reply(session, n.RPL_AWAY, tnick, target.away)
    if "B" in target.modes:
        ctx.reply(session, n.RPL_WHOISBOT, tnick, f"is a bot on {ctx.settings.network_name}")
    if target.account is not None:
        ctx.reply(session, n.RPL_WHOISACCOUNT, tnick, target.account, "is logged in as")
    if target.conns and all(conn.secure for conn in target.conns):
        ctx.reply(session, n.RPL_WHOISSECURE, tnick, "is using a secure connection")
    if target is session.owner or "o" in session.modes:
        # Only the owner and operators: the fingerprint tracks one person across networks,
        # and the devices' addresses are private.
        _whois_devices(ctx, session, target)
    ctx.reply(
        session,
        n.RPL_WHOISIDLE,
        tnick,
        str(idle_seconds(ctx, target)),
        str(int(target.signed_on)),
        "seconds idle, signon time",
    )
    ctx.reply(session, n.RPL_ENDOFWHOIS, tnick, "End of /WHOIS list")


def _whois_devices(ctx: Context, session: Session, target: User) -> None:
    """Each connection of the user (multiclient), with its address and certificate."""
    for conn in target.conns:
        if conn.certfp is not None:
            fingerprint = f"has client certificate fingerprint {conn.certfp}"
            ctx.reply(session, n.RPL_WHOISCERTFP, target.nick, fingerprint)
    if len(target.conns) > 1 or not target.conns:
        for conn in target.conns:
            ctx.reply(
                session,
                n.RPL_WHOISACTUALLY,
                target.nick,
                middle(conn.ip),
                f"is connected from {conn.ip}{' (TLS)' if conn.secure else ''}",
            )
        count = len(target.conns)
        text = f"has {count} connections" if count else "is always-on, with no connection"
        ctx.reply(session, n.RPL_WHOISSPECIAL, target.nick, text)


def _whois_channels(ctx: Context, session: Session, target: User) -> None:
    """RPL_WHOISCHANNELS, split over lines; secret rooms only to those who may see them,
    and an invisible (+i) user's rooms only to their members, as NAMES and WHO do."""
    all_prefixes = "multi-prefix" in session.caps
    asker = session.owner
    hidden = "i" in target.modes and asker is not target and "o" not in session.modes
    names = [
        channel.prefix_of(target, all_prefixes) + channel.name
        for channel in target.channels.values()
        if asker is target or can_see_channel(session, channel)
        if not hidden or asker in channel.members
    ]
    for line in pack_words(names, _CHANNELS_BUDGET):
        ctx.reply(session, n.RPL_WHOISCHANNELS, target.nick, line)


@command("WHOWAS", min_params=1)
def whowas(ctx: Context, session: Session, msg: Message) -> None:
    """WHOWAS <nick>{,<nick>} [<count>]

    Who used a nickname before. The history is searched backward (RFC 2812 3.6.3): the
    most recent entry first, whichever of the asked nicks it is, up to a positive count
    per nick; 406 for each nick with none, then one 369 that ends the whole reply.
    """
    if not msg.params[0]:
        raise CommandError(n.ERR_NONICKNAMEGIVEN, "No nickname given")
    count = 0
    if len(msg.params) > 1:
        try:
            count = max(0, int(msg.params[1]))
        except ValueError:
            count = 0
    asked = {ctx.fold(nick): nick for nick in msg.params[0].split(",") if nick}
    found = dict.fromkeys(asked, 0)
    for entry in ctx.whowas:
        key = ctx.fold(entry.nick)
        if key not in found or (count and found[key] >= count):
            continue
        found[key] += 1
        ctx.reply(
            session,
            n.RPL_WHOWASUSER,
            entry.nick,
            entry.user,
            middle(entry.host),
            "*",
            entry.realname,
        )
        left = time.strftime("%a %b %d %H:%M:%S %Y", time.gmtime(entry.left_at))
        ctx.reply(session, n.RPL_WHOISSERVER, entry.nick, ctx.name, left)
        if count and min(found.values()) >= count:
            break  # every nick has its count: the rest of the history is not read
    for key, nick in asked.items():
        if not found[key]:
            ctx.reply(session, n.ERR_WASNOSUCHNICK, nick, "There was no such nickname")
    ctx.reply(session, n.RPL_ENDOFWHOWAS, middle(msg.params[0]), "End of WHOWAS")
