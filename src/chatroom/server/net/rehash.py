"""Reading the config file again (REHASH, SIGHUP): what a running server takes at once.

The file is read and checked exactly as at start (``config.load``: the file, then the
``CHATROOM_*`` environment, then the command line's flags, so a flag still wins). A file
with an error changes nothing. Of a valid one, the server takes at once what the core
reads when it needs it (core/reconfigure.py) and the send queue size; a changed key that
clients were told at connect (name, network, casemapping) or that a listener, the store,
the history writer or the password workers were opened with keeps its running value
until the next start, and is named in the answer. On a network every node must run the
same settings (server/cluster/replica.py checks them when a node joins): the answer to
an operator's REHASH goes through the log, so every node adopts the settings the asked
node read at the same entry, and the network keeps them for the nodes that join later.
SIGHUP there reloads the TLS files only, since one node cannot change its settings alone.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from typing import Any, NamedTuple

from chatroom.config import SETTINGS, Config, ConfigError
from chatroom.logs import error_text
from chatroom.server.core.reconfigure import Reloaded

log = logging.getLogger("chatroom.server")

# Settings in ``config.core`` that the running server cannot take: told to clients at
# connect, or read once by the shell (history writer and its queue, address grouping).
CORE_AT_START = frozenset(
    {
        "server.name",
        "server.network",
        "server.casemapping",
        "history.retention_days",
        "history.max_per_target",
        "history.queue_limit",
        "limits.ipv6_prefix",
    }
)
# Settings outside ``config.core`` that the shell reads live.
SHELL_LIVE = frozenset({"limits.sendq_bytes"})

ON_A_NETWORK = (
    "a node of a network cannot change its settings alone (every node must run the same):"
    " change the file on every node, then send REHASH as an operator on any one node, and"
    " every node adopts them at once"
)


class ConfigSource(NamedTuple):
    """How the running config was read, to read it again the same way: ``load`` returns
    the file it read (as RPL_REHASHING names it) and the config (``config.load`` with the
    same search, environment and flags: a file made since the start is found too)."""

    load: Callable[[], tuple[str, Config]]


def value_at(config: Config, path: str) -> Any:
    """The value at an attribute path of ``Config`` (``Setting.lands_in``)."""
    value: Any = config
    for name in path.split("."):
        value = getattr(value, name)
    return value


def changed_keys(old: Config, new: Config) -> list[str]:
    """The settings whose value differs, by their TOML key, in the documented order."""
    return [s.key for s in SETTINGS if value_at(old, s.lands_in) != value_at(new, s.lands_in)]


def merge(running: Config, read: Config) -> tuple[Config, tuple[str, ...]]:
    """The config to run with from now on, and the changed keys that wait for a restart."""
    waiting = []
    for key in changed_keys(running, read):
        in_core = next(s for s in SETTINGS if s.key == key).lands_in.startswith("core.")
        if (in_core and key in CORE_AT_START) or (not in_core and key not in SHELL_LIVE):
            waiting.append(key)
    core = dataclasses.replace(
        read.core,
        server_name=running.core.server_name,
        network_name=running.core.network_name,
        casemapping=running.core.casemapping,
        limits=dataclasses.replace(read.core.limits, ipv6_prefix=running.core.limits.ipv6_prefix),
        history=dataclasses.replace(
            read.core.history,
            retention_days=running.core.history.retention_days,
            max_per_target=running.core.history.max_per_target,
            queue_limit=running.core.history.queue_limit,
        ),
    )
    return dataclasses.replace(running, core=core, sendq_bytes=read.sendq_bytes), tuple(waiting)


def reread(running: Config, source: ConfigSource | None) -> tuple[Config | None, Reloaded]:
    """Read the file again: the config to run with (None: unchanged) and the answer."""
    if source is None:
        return None, Reloaded(None, "", (), "this server was started without a config file")
    try:
        path, read = source.load()
    except ConfigError as err:
        log.error("config file refused; nothing changed", extra={"error": error_text(err)})
        return None, Reloaded(None, "", (), str(err))
    except Exception as err:  # never a crash, nor an operator left waiting for an answer
        log.exception("reading the config file again failed; nothing changed")
        return None, Reloaded(None, "", (), f"the config file could not be read: {err}")
    config, waiting = merge(running, read)
    log.info("config file read again", extra={"file": path, "restart_needed": list(waiting)})
    return config, Reloaded(config.core, path, waiting)
