"""Server bans as pure data: what a ban target means, whom a ban matches, when it ends.

Shared by the core (BAN, connect and login checks) and ``chatroom admin ban``, so the
shell command and the IRC command read a target the same way. Rules:

- a ban has a kind: ``account`` (a glob on the casefolded account name), ``nick`` (a
  ``nick!user@host`` glob, also tried against the IP), ``address`` (one IP, or a glob of
  IPs/hosts like ``10.0.*``) or ``cidr`` (a network, e.g. ``203.0.113.0/24``);
- addresses and networks are stored normalized (``ipaddress``), so ``::1`` and
  ``0:0::1`` are one ban and an IPv4-mapped IPv6 peer matches its IPv4 ban;
- a ban with ``expires_at`` is inactive from that moment on; matching ignores it even
  before the tick that removes it, so expiry is exact.
"""

from __future__ import annotations

import ipaddress
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from chatroom.irc.masks import match_mask, normalize_mask
from chatroom.server.store.base import AccountMute, BanKind, ServerBan

Fold = Callable[[str], str]
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}
_DURATION = re.compile(r"(?:\d+[smhdwy])+|\d+")
_PART = re.compile(r"(\d+)([smhdwy])")
_ADDRESS_GLOB = re.compile(r"[0-9A-Fa-f.:*?]+")
ACCOUNT_PREFIXES = ("a:", "account:", "$a:")
MAX_DURATION = 100 * 31536000  # 100 years, in seconds


def parse_duration(text: str) -> float | None:
    """Seconds in ``10m``, ``2h``, ``1d``, ``1h30m`` or plain ``90``; None if not a duration.

    The InspIRCd syntax (s, m, h, d, w, y), so operators' habits carry over. ``0`` is
    not a duration: "for no time" is never what was meant.
    """
    text = text.strip().lower()
    if not _DURATION.fullmatch(text):
        return None
    seconds = (
        int(text)
        if text.isdigit()
        else sum(int(number) * _UNITS[unit] for number, unit in _PART.findall(text))
    )
    # Past 100 years it is no duration: the end would be no date a clock can write.
    return float(seconds) if 0 < seconds <= MAX_DURATION else None


def duration_and_reason(params: list[str]) -> tuple[float | None, str]:
    """``[<duration>] [:<reason>]``: a first word that reads as a duration is one.

    The parameters of BAN and MUTE, which both take an optional duration first.
    """
    if params and (seconds := parse_duration(params[0])) is not None:
        return seconds, " ".join(params[1:])
    return None, " ".join(params)


def format_duration(seconds: float) -> str:
    """``2h30m``-style text for replies; at most two units, rounded up to whole seconds."""
    left = max(1, int(seconds + 0.999))
    parts: list[str] = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if left >= size:
            parts.append(f"{left // size}{unit}")
            left %= size
        if len(parts) == 2:
            break
    return "".join(parts)


def format_time(at: float) -> str:
    """An absolute UTC time for people: clients differ in time zone, the log does not."""
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(at))


def until_text(expires_at: float | None, now: float) -> str:
    """``until 2030-01-01 10:00 UTC, in 2h`` or ``permanent``."""
    if expires_at is None:
        return "permanent"
    return f"until {format_time(expires_at)}, in {format_duration(expires_at - now)}"


def is_active(item: ServerBan | AccountMute, now: float) -> bool:
    return item.expires_at is None or now < item.expires_at


def _ip(text: str) -> IPAddress | None:
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _listed(text: str) -> tuple[BanKind, str] | None:
    """A target written as ``BANS`` and ``chatroom admin bans`` list a ban, ``kind:mask``
    (``nick:eve!*@*``, ``address:192.0.2.1``, ``cidr:10.0.0.0/8``), so that what is
    listed can be lifted as shown. No nick, mask or address starts with one of these
    words and a colon, so the form is never ambiguous."""
    kind, sep, mask = text.partition(":")
    kind = kind.lower()
    if not sep or not mask or kind not in ("nick", "address", "cidr"):
        return None
    if kind == "nick":
        return "nick", normalize_mask(mask)
    classified = classify_target(mask)
    if classified is None or classified[0] != kind:
        wanted = "a network like 203.0.113.0/24" if kind == "cidr" else "an address"
        raise ValueError(f"{mask!r} is not {wanted}")
    return classified


def classify_target(text: str) -> tuple[BanKind, str] | None:
    """The ``(kind, mask)`` an explicit target names, or None for a bare word.

    ``a:NAME``/``account:NAME`` → account; ``1.2.3.0/24`` → cidr; an IP or an IP glob
    (``10.0.*``) → address; anything with ``!``, ``@`` or a wildcard → nick mask. A bare
    word like ``bob`` is ambiguous (a nick? an account?); callers resolve it.
    Raises ValueError for a malformed network or an empty target.
    """
    text = text.strip()
    lowered = text.lower()
    for prefix in ACCOUNT_PREFIXES:
        if lowered.startswith(prefix):
            name = text[len(prefix) :]
            if not name:
                raise ValueError("an account ban needs an account name after the colon")
            return "account", name
    if not text:
        raise ValueError("empty ban target")
    listed = _listed(text)
    if listed is not None:
        return listed
    if "/" in text and "!" not in text and "@" not in text:
        try:
            network = ipaddress.ip_network(text, strict=False)
        except ValueError:
            raise ValueError(f"{text!r} is not a network like 203.0.113.0/24") from None
        return "cidr", str(network)
    address = _ip(text)
    if address is not None:
        return "address", str(address)
    if "!" in text or "@" in text:
        return "nick", normalize_mask(text)
    if ("." in text or ":" in text) and _ADDRESS_GLOB.fullmatch(text):
        return "address", text.lower()
    if "*" in text or "?" in text:
        return "nick", normalize_mask(text)
    return None


@dataclass(frozen=True, slots=True)
class Who:
    """The identity a ban is matched against (a session's, or a connecting address)."""

    ip: str
    host: str = ""
    nick: str = ""
    user: str = ""
    account: str | None = None


def ban_matches(ban: ServerBan, who: Who, fold: Fold) -> bool:
    """True if ``ban`` designates ``who``; fields ``who`` lacks never match."""
    kind, mask = ban.kind, ban.mask
    if kind == "account":
        return who.account is not None and match_mask(mask, who.account, fold)
    if kind == "nick":
        if not who.nick or who.nick == "*":
            return False
        ident = f"{who.nick}!{who.user or '*'}@"
        if match_mask(mask, ident + (who.host or who.ip), fold):
            return True
        return who.host != who.ip and match_mask(mask, ident + who.ip, fold)
    address = _ip(who.ip)
    if kind == "cidr":
        if address is None:
            return False
        try:
            return address in ipaddress.ip_network(mask, strict=False)
        except ValueError:
            return False
    if "*" in mask or "?" in mask:
        return match_mask(mask, who.ip, fold) or (
            bool(who.host) and match_mask(mask, who.host, fold)
        )
    return address is not None and str(address) == mask


class BanList:
    """The active server bans, with exact addresses indexed so connects stay cheap."""

    def __init__(self, bans: Iterable[ServerBan] = ()) -> None:
        self.bans: list[ServerBan] = list(bans)
        self._exact: dict[str, ServerBan] = {}
        self._others: list[ServerBan] = []
        for ban in self.bans:
            if ban.kind == "address" and "*" not in ban.mask and "?" not in ban.mask:
                self._exact.setdefault(ban.mask, ban)
            else:
                self._others.append(ban)

    def __len__(self) -> int:
        return len(self.bans)

    def find(self, who: Who, fold: Fold, now: float) -> ServerBan | None:
        """The first active ban matching ``who``, if any."""
        if not self._exact and not self._others:
            return None  # the usual case: no bans, and no address parsing per connection
        address = _ip(who.ip)
        if address is not None:
            ban = self._exact.get(str(address))
            if ban is not None and is_active(ban, now):
                return ban
        for ban in self._others:
            if is_active(ban, now) and ban_matches(ban, who, fold):
                return ban
        return None

    def by_id(self, ban_id: int) -> ServerBan | None:
        return next((b for b in self.bans if b.id == ban_id), None)

    def by_target(self, kind: BanKind, mask: str, fold: Fold) -> ServerBan | None:
        folded = fold(mask)
        return next((b for b in self.bans if b.kind == kind and fold(b.mask) == folded), None)

    def next_expiry(self) -> float | None:
        times = [b.expires_at for b in self.bans if b.expires_at is not None]
        return min(times) if times else None


def ban_refusal(ban: ServerBan, now: float) -> str:
    """What a banned user is told (in 465 and ERROR): the reason and when it ends."""
    reason = ban.reason or "no reason given"
    return f"You are banned from this server: {reason} ({until_text(ban.expires_at, now)})"


def mute_refusal(mute: AccountMute, now: float) -> str:
    """The text of the numeric a muted account gets for each message it tries to send."""
    reason = mute.reason or "no reason given"
    return (
        f"Your message was not delivered: you are muted on this server: {reason} "
        f"({until_text(mute.expires_at, now)}); you may still message operators"
    )
