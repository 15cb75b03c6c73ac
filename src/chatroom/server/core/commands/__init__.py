"""Command families; importing this package registers every handler in the table."""

from chatroom.server.core.commands import (  # noqa: F401
    accounts,
    channel_queries,
    channels,
    chanserv,
    chathistory,
    hosts,
    messaging,
    metadata,
    moderation,
    modes,
    monitor,
    multiline,
    nickserv,
    nickserv_cert,
    queries,
    registration,
    rename,
    sasl,
    whois,
)
