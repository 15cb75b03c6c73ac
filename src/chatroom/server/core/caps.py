"""The IRCv3 capabilities this server implements, and what each one switches on.

Only what is implemented is listed: a capability is advertised by CAP LS exactly when its
behaviour exists in the handlers. Values (``name=value``) are sent to CAP 302 clients.
``offered`` adds what depends on the settings (the account-registration flags, offered
only while registration is open, and the limits), ``advertised`` what depends on the
connection (``sts``, never requested, so never in the table); ``tell_changes`` sends
CAP NEW / CAP DEL when a REHASH changes what is offered.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from chatroom.irc.message import format_line
from chatroom.irc.packing import pack_words
from chatroom.server.core.session import NO_CAPS, Session, TagProfile

if TYPE_CHECKING:
    from chatroom.server.core.context import Context

CAPABILITIES: dict[str, str | None] = {
    "account-notify": None,
    "account-tag": None,
    "draft/account-registration": "before-connect",  # the value follows the settings
    "extended-join": None,
    "sasl": "PLAIN,EXTERNAL,SCRAM-SHA-256",
    "away-notify": None,
    "batch": None,
    "cap-notify": None,
    "chghost": None,
    "draft/channel-rename": None,
    "draft/chathistory": None,
    "draft/event-playback": None,
    "draft/extended-monitor": None,  # the draft name of extended-monitor, for older clients
    "draft/no-implicit-names": None,  # the draft name of no-implicit-names
    "draft/pre-away": None,
    "draft/read-marker": None,
    "draft/message-redaction": None,
    "draft/metadata-2": None,  # value from the limits: see ``advertised``
    "draft/multiline": None,  # value from the limits: see ``advertised``
    "echo-message": None,
    "extended-monitor": None,
    "invite-notify": None,
    "labeled-response": None,
    "message-tags": None,
    "multi-prefix": None,
    "no-implicit-names": None,
    "server-time": None,
    "setname": None,
    "standard-replies": None,
    "userhost-in-names": None,
}

# Capabilities that change which tags a client's copy of a message carries.
_TAG_CAPS = {
    "server-time": TagProfile.SERVER_TIME,
    "message-tags": TagProfile.MESSAGE_TAGS,
    "account-tag": TagProfile.ACCOUNT,
}


def refresh_tag_profile(session: Session) -> None:
    """Recompute the tag profile after a CAP REQ, so fan-out picks the right variant."""
    profile = TagProfile.NONE
    for cap, bit in _TAG_CAPS.items():
        if cap in session.caps:
            profile |= bit
    if session.tag_profile != profile:
        session.tag_profile = int(profile)
        for channel in session.channels.values():
            channel.by_profile = None  # its audience is grouped by profile


def offered(ctx: Context) -> dict[str, str | None]:
    """What CAP LS offers under the current settings, ``sts`` aside: the table, with the
    values the settings decide, and without ``draft/account-registration`` while
    ``accounts.registration`` is closed (REGISTER could not succeed)."""
    caps = dict(CAPABILITIES)
    policy = ctx.settings.accounts
    flags = [
        flag
        for flag, on in (
            ("before-connect", policy.registration_before_connect),
            ("email-required", policy.require_email),
        )
        if on
    ]
    if policy.registration == "open":
        caps["draft/account-registration"] = ",".join(flags) or None
    else:
        del caps["draft/account-registration"]
    limits = ctx.settings.limits
    caps["draft/multiline"] = (
        f"max-bytes={limits.multiline_max_bytes},max-lines={limits.multiline_max_lines}"
    )
    caps["draft/metadata-2"] = (
        f"before-connect,max-subs={limits.metadata_max_subs},"
        f"max-keys={limits.metadata_max_keys},max-value-bytes={limits.metadata_max_value_bytes}"
    )
    return caps


def advertised(ctx: Context, session: Session) -> dict[str, str | None]:
    """What CAP LS offers ``session``: ``offered``, and ``sts`` per connection."""
    caps = offered(ctx)
    if ctx.sts_policy is not None:
        # IRCv3 sts: a plain connection learns where TLS is (an upgrade policy), a TLS
        # one how long to keep to it (a persistence policy).
        port, duration = ctx.sts_policy
        upgrade = "" if session.secure else f"port={port},"
        caps["sts"] = f"{upgrade}duration={duration}"
    return caps


def tell_changes(
    ctx: Context, sessions: Iterable[Session], before: Mapping[str, str | None]
) -> None:
    """After a REHASH, IRCv3 cap-notify: a capability no longer offered is switched off on
    every connection and announced with ``CAP DEL``, one offered again with ``CAP NEW``
    (its value to CAP 302 clients), both only to clients with ``cap-notify``. A changed
    value alone is not announced (the spec has no way to yet)."""
    after = offered(ctx)
    added = {name: after[name] for name in sorted(after.keys() - before.keys())}
    gone = frozenset(before.keys() - after.keys())
    if not added and not gone:
        return
    for session in sessions:
        if session.closed:
            continue
        if session.caps & gone:
            session.caps = frozenset(session.caps - gone) or NO_CAPS
            refresh_tag_profile(session)
        if "cap-notify" not in session.caps:
            continue
        for sub, tokens in (("NEW", ls_tokens(session.cap_version, added)), ("DEL", sorted(gone))):
            for line in pack_words(tokens, 400):
                session.send(format_line(ctx.name, "CAP", session.nick, sub, line))


def ls_tokens(version: int, available: dict[str, str | None]) -> list[str]:
    """Tokens for CAP LS: values only for CAP 302 clients."""
    tokens = []
    for name in sorted(available):
        value = available[name]
        tokens.append(f"{name}={value}" if value is not None and version >= 302 else name)
    return tokens
