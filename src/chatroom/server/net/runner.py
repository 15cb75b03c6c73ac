"""``chatroom serve``: build the shell, run it until SIGINT/SIGTERM, shut down cleanly."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

from chatroom import fingerprints
from chatroom.config import Config, make_data_dir
from chatroom.program import command_name
from chatroom.server.malloc import fix_mmap_threshold
from chatroom.server.net.rehash import ConfigSource
from chatroom.server.net.shell import Shell

log = logging.getLogger("chatroom")


async def serve(
    config: Config, ready: asyncio.Event | None = None, source: ConfigSource | None = None
) -> None:
    fix_mmap_threshold()  # TLS read buffers stay their own mappings (see server/malloc.py)
    make_data_dir(config.data_dir)
    shell = Shell(config, source)
    # Signals are handled from the start: a SIGTERM while the listeners (or a cluster
    # node's catch-up) are still starting ends in a clean shutdown, not a killed process.
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    bound = await shell.start()
    for kind, host, port in bound:
        # Also on stdout, plainly, so people and test fixtures can read the port.
        if kind in ("http", "https"):
            shown = f"[{host}]" if ":" in host else host
            print(f"chatroom: web client on {kind}://{shown}:{port}/", flush=True)
        elif kind == "tls":
            print(f"chatroom: listening for IRC over TLS on {host}:{port}", flush=True)
            print(f"chatroom: TLS certificate SHA-256 {shell.fingerprint}", flush=True)
            fingerprint = shell.fingerprint or ""
            colons, groups = fingerprints.colon(fingerprint), fingerprints.grouped(fingerprint)
            print(f"chatroom: (the same in colon form, for Irssi, ZNC, openssl) {colons}")
            print(f"chatroom: (the same as chatroom connect shows it) {groups}", flush=True)
        else:
            print(f"chatroom: listening for IRC on {host}:{port}", flush=True)
    for notice in shell.notices:
        print(f"chatroom: {notice}", flush=True)
    if not shell.world.accounts:
        where = "" if config.data_dir == Path("chatroom-data") else f" --data-dir {config.data_dir}"
        print(
            "chatroom: no accounts yet. Create the first admin in another terminal, here:"
            f" {command_name()} admin create NAME --oper{where}",
            flush=True,
        )
    loop.add_signal_handler(signal.SIGHUP, shell.on_sighup)
    if ready is not None:
        ready.set()
    expelled = shell.cluster.expelled if shell.cluster is not None else asyncio.Event()
    waits = [asyncio.ensure_future(event.wait()) for event in (stop, expelled)]
    _, pending = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    for waiting in pending:
        waiting.cancel()
    log.info("shutting down")
    await shell.shutdown()
    if expelled.is_set() and not stop.is_set():
        from chatroom.server.cluster.node import ClusterError

        raise ClusterError(
            "this node lost touch with the network (the others declared it lost, or the"
            " log moved on past what it had applied, after a pause or while Redis was out"
            " of its reach; the log says which) and its clients were disconnected;"
            " start it again to rejoin"
        )


def run(coro: Coroutine[Any, Any, None]) -> None:
    """Run on uvloop when it is importable, else on the standard event loop."""
    try:
        import uvloop
    except ImportError:
        asyncio.run(coro)
        return
    uvloop.run(coro)
