"""Command families; importing this package registers every handler in the table."""

from chatroom.server.core.commands import (  # noqa: F401
    channel_queries,
    channels,
    messaging,
    modes,
    queries,
    registration,
    whois,
)
