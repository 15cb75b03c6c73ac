"""The IRCv3 capabilities this server implements, and what each one switches on.

Only what is implemented is listed: a capability is advertised by CAP LS exactly when its
behaviour exists in the handlers. Values (``name=value``) are sent to CAP 302 clients.
``advertised`` adds what depends on the settings and the connection: the
account-registration flags, and ``sts`` (never requested, so never in the table).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from chatroom.server.core.session import Session, TagProfile

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


def advertised(ctx: Context, session: Session) -> dict[str, str | None]:
    """What CAP LS offers ``session``: the table, with the values settings decide."""
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
    caps["draft/account-registration"] = ",".join(flags) or None
    limits = ctx.settings.limits
    caps["draft/multiline"] = (
        f"max-bytes={limits.multiline_max_bytes},max-lines={limits.multiline_max_lines}"
    )
    caps["draft/metadata-2"] = (
        f"before-connect,max-subs={limits.metadata_max_subs},"
        f"max-keys={limits.metadata_max_keys},max-value-bytes={limits.metadata_max_value_bytes}"
    )
    if ctx.sts_policy is not None:
        # IRCv3 sts: a plain connection learns where TLS is (an upgrade policy), a TLS
        # one how long to keep to it (a persistence policy).
        port, duration = ctx.sts_policy
        upgrade = "" if session.secure else f"port={port},"
        caps["sts"] = f"{upgrade}duration={duration}"
    return caps


def ls_tokens(version: int, available: dict[str, str | None]) -> list[str]:
    """Tokens for CAP LS: values only for CAP 302 clients."""
    tokens = []
    for name in sorted(available):
        value = available[name]
        tokens.append(f"{name}={value}" if value is not None and version >= 302 else name)
    return tokens
