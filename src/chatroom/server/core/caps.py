"""The IRCv3 capabilities this server implements, and what each one switches on.

Only what is implemented is listed: a capability is advertised by CAP LS exactly when its
behaviour exists in the handlers. Values (``name=value``) are sent to CAP 302 clients.
"""

from __future__ import annotations

from chatroom.server.core.session import Session, TagProfile

CAPABILITIES: dict[str, str | None] = {
    "account-notify": None,
    "account-tag": None,
    "draft/account-registration": "before-connect",
    "extended-join": None,
    "sasl": "PLAIN,EXTERNAL,SCRAM-SHA-256",
    "away-notify": None,
    "batch": None,
    "cap-notify": None,
    "chghost": None,
    "draft/chathistory": None,
    "draft/event-playback": None,
    "draft/extended-monitor": None,  # the draft name of extended-monitor, for older clients
    "draft/message-redaction": None,
    "echo-message": None,
    "extended-monitor": None,
    "invite-notify": None,
    "labeled-response": None,
    "message-tags": None,
    "multi-prefix": None,
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
    session.tag_profile = int(profile)


def ls_tokens(version: int, available: dict[str, str | None]) -> list[str]:
    """Tokens for CAP LS: values only for CAP 302 clients."""
    tokens = []
    for name in sorted(available):
        value = available[name]
        tokens.append(f"{name}={value}" if value is not None and version >= 302 else name)
    return tokens
