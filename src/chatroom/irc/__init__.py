"""The IRC language, pure: parse and format lines, numerics, casemapping, modes, framing.

Standard library only, so the server core, the clients and the tests share it, and it can
be tested without sockets.
"""

from chatroom.irc.message import (
    InputTooLong,
    Message,
    ParseError,
    format_line,
    format_message,
    parse,
    to_bytes,
)

__all__ = [
    "InputTooLong",
    "Message",
    "ParseError",
    "format_line",
    "format_message",
    "parse",
    "to_bytes",
]
