"""Run ChatRoom for a benchmark with its abuse limits lifted, like the peers are run.

Why: ChatRoom's core enforces per-connection flood control (a token bucket of a few lines
per second) and per-address connection limits. Every client of a loopback benchmark comes
from 127.0.0.1 and the senders send as fast as they can, so with the defaults the run
would measure those defences, not the server. The peers (InspIRCd, ngIRCd) get their
limits lifted in their generated configs; this gives ChatRoom the same treatment.

The limits are not all settable from the config file yet, so the loaded config's core
``Limits`` is replaced here with ``dataclasses.replace``; only fields that exist are
touched, so the script keeps working as the settings evolve. Everything else (ports,
data dir) comes from the usual flags, exactly as ``chatroom serve`` takes them.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import sys
from typing import Any

from chatroom import config as cfg
from chatroom import logs
from chatroom.server.net.runner import run, serve

# Lifted values: large enough for 10,000 loopback connections and unpaced senders.
LIFTED: dict[str, Any] = {
    "flood_per_second": 0.0,  # 0 disables the token bucket
    "flood_burst": 1_000_000,
    "flood_backlog": 1_000_000,
    "connections_per_address": 1_000_000,
    "connections_total": 1_000_000,
    "connects_per_address_per_minute": 10_000_000,
}


def lifted_config(args: argparse.Namespace) -> cfg.Config:
    flags = {"listen.host": args.host, "listen.port": args.port, "server.data_dir": args.data_dir}
    config = cfg.load(None, flags=flags)
    limits = config.core.limits
    names = {f.name for f in dataclasses.fields(limits)}
    changes = {k: v for k, v in LIFTED.items() if k in names}
    core = dataclasses.replace(config.core, limits=dataclasses.replace(limits, **changes))
    print(f"serve_unthrottled: lifted {sorted(changes)}", file=sys.stderr, flush=True)
    return dataclasses.replace(config, core=core)


def main() -> int:
    p = argparse.ArgumentParser(description="chatroom serve, with abuse limits lifted")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", default="0")
    p.add_argument("--data-dir", required=True)
    p.add_argument("--log-level", default="WARNING")
    p.add_argument(
        "--loop",
        choices=("uvloop", "asyncio"),
        default="uvloop",
        help="event loop; 'uvloop' is what `chatroom serve` picks when it is importable",
    )
    args = p.parse_args()
    config = lifted_config(args)
    logs.setup(args.log_level.upper())
    if args.loop == "uvloop":
        run(serve(config))
    else:
        asyncio.run(serve(config))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
