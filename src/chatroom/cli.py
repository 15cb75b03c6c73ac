"""The ``chatroom`` command: serve, config, and (with later issues) init, admin, connect."""

from __future__ import annotations

import argparse
import contextlib
import errno
import os
import signal
import sys
from pathlib import Path

from chatroom import cli_admin, cli_init, logs, store_errors
from chatroom import config as cfg
from chatroom.server.store.url import redacted

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


def _port(value: str) -> str:
    return value  # validated with the other layers in config.load, for one error style


def build_parser() -> argparse.ArgumentParser:
    # No abbreviations: `serve --tls` must not quietly mean `--tls-port`.
    parser = argparse.ArgumentParser(
        prog="chatroom",
        description="ChatRoom: a self-hosted chat server that speaks IRC.",
        allow_abbrev=False,
    )
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the server", allow_abbrev=False)
    serve.add_argument("--config", type=Path, help="TOML config file")
    serve.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=_port, help="plain IRC port, or 'off' (default 6667)")
    serve.add_argument(
        "--http-port", type=_port, help="web client and /metrics port, or 'off' (default 8080)"
    )
    serve.add_argument("--tls-port", type=_port, help="IRC over TLS port, or 'off' (default 6697)")
    serve.add_argument("--data-dir", help="data directory (default ./chatroom-data)")
    serve.add_argument(
        "--store",
        metavar="URL",
        help="store.url: sqlite:///DIR or postgresql://USER@HOST:PORT/DB (default: SQLite"
        " files in the data directory)",
    )
    serve.add_argument(
        "--cluster",
        metavar="URL",
        help="cluster.url: run as one node of a network sharing this Redis"
        " (redis://HOST:PORT/DB; needs a postgresql:// --store; see docs/cluster.md)",
    )
    serve.add_argument("--node", help="cluster.node: this node's name (default: the host name)")
    serve.add_argument(
        "--workers",
        type=int,
        default=1,
        metavar="N",
        help="run N nodes of the network on this machine, sharing the ports (needs --cluster)",
    )
    serve.add_argument("--server-name", help="server name shown to clients")
    serve.add_argument(
        "--log-level",
        default="INFO",
        type=str.upper,
        choices=LOG_LEVELS,
        help="DEBUG, INFO, WARNING or ERROR (default INFO)",
    )
    serve.add_argument(
        "--log-format",
        default="human",
        choices=("human", "json"),
        help="human: readable lines (default); json: one JSON object per line",
    )

    connect = sub.add_parser(
        "connect", help="the terminal client (Textual, or --plain)", allow_abbrev=False
    )
    from chatroom.tui.launch import add_arguments as add_connect_arguments

    add_connect_arguments(connect)

    cli_admin.add_parser(sub)
    cli_init.add_parser(sub)

    conf = sub.add_parser("config", help="show configuration", allow_abbrev=False)
    conf.add_argument("--defaults", action="store_true", help="print the documented defaults")
    conf.add_argument(
        "--config", type=Path, help="TOML config file to check and show in effect (with CHATROOM_*)"
    )
    return parser


def serve_flags(args: argparse.Namespace) -> dict[str, object]:
    """``serve``'s options as config keys (the flags layer of ``config.load``)."""
    return {
        "listen.host": args.host,
        "listen.port": args.port,
        "listen.http_port": args.http_port,
        "listen.tls_port": args.tls_port,
        "server.data_dir": args.data_dir,
        "server.name": args.server_name,
        "store.url": args.store,
        "cluster.url": args.cluster,
        "cluster.node": args.node,
    }


def _serve(args: argparse.Namespace) -> int:
    from chatroom.server.net.rehash import ConfigSource
    from chatroom.server.net.runner import run, serve

    def read_config() -> tuple[str, cfg.Config]:
        found = cfg.find_file(args.config)
        shown = str(found) if found is not None else "(no file: defaults and environment)"
        return shown, cfg.load(found, flags=serve_flags(args))

    config = read_config()[1]
    if config.listen.port is None and config.tls.port is None and config.listen.http_port is None:
        raise cfg.ConfigError(
            "every listener is off (listen.port, listen.tls_port, listen.http_port): "
            "turn at least one on, e.g. --tls-port 6697"
        )
    if args.workers < 1:
        raise cfg.ConfigError("--workers: give a number of nodes, 1 or more")
    if args.workers > 1:
        from chatroom.cli_workers import run_workers

        log_args = ["--log-level", args.log_level, "--log-format", args.log_format]
        found = cfg.find_file(args.config)
        return run_workers(config, None if found is None else str(found), args.workers, log_args)
    logs.setup(args.log_level, args.log_format, config.node if config.cluster_url else "")
    cfg.make_data_dir(config.data_dir)
    try:
        run(serve(config, source=ConfigSource(read_config)))
    except _cluster_errors(config) as err:
        print(redacted(f"chatroom: the network at {config.cluster_url}: {err}"), file=sys.stderr)
        return 1
    except store_errors.database_errors() as err:
        print(f"chatroom: {store_errors.store_failure(config.store, err)}", file=sys.stderr)
        return 1
    return 0


def _cluster_errors(config: cfg.Config) -> tuple[type[Exception], ...]:
    """Joining a network can fail in ways a single server cannot: reported in one line."""
    if not config.cluster_url:
        return ()
    from chatroom.server.cluster.node import ClusterError

    return (ClusterError,)


def _config(args: argparse.Namespace) -> int:
    from chatroom.config_show import effective_toml

    if args.defaults:
        sys.stdout.write(cfg.defaults_toml())
        return 0
    sys.stdout.write(effective_toml(cfg.find_file(args.config)))
    return 0


# Errors of a full or failing output (``chatroom admin export > /dev/full``, a quota).
_OUTPUT_FULL = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO}


def main(argv: list[str] | None = None) -> int:
    try:
        return _run(argv)
    except BrokenPipeError:
        _drop_stdout()
        return 128 + signal.SIGPIPE
    except OSError as err:
        if err.errno not in _OUTPUT_FULL:
            raise
        _drop_stdout()
        print(f"chatroom: cannot write: {err.strerror or err}", file=sys.stderr)
        return 1


def _drop_stdout() -> None:
    """The output is gone: ``chatroom admin export '#room' | head`` (the reader closed the
    pipe, which is what ``head`` does, not a failure worth a traceback; the exit code is
    a tool's killed by SIGPIPE, 128 + 13) or a full disk. Point stdout at /dev/null so the
    flush at exit cannot raise again."""
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


def _innermost(
    parser: argparse.ArgumentParser, args: argparse.Namespace
) -> argparse.ArgumentParser:
    """The parser of the (sub)command that was run: ``chatroom admin ban`` for
    ``chatroom admin ban vic 1h``, whose usage and ``--help`` are the ones to show."""
    while True:
        chosen = [
            action.choices[getattr(args, action.dest)]
            for action in parser._actions
            if isinstance(action, argparse._SubParsersAction)
            and getattr(args, action.dest, None) in action.choices
        ]
        if not chosen:
            return parser
        parser = chosen[0]


def _run(argv: list[str] | None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra:
        # Said by the subcommand, with its usage ("chatroom admin ban: error: ..."), not by
        # the top-level parser, whose usage does not help.
        _innermost(parser, args).error(f"unrecognized arguments: {' '.join(extra)}")
    try:
        if args.command == "serve":
            return _serve(args)
        if args.command == "connect":
            from chatroom.tui.launch import main as connect_main

            return connect_main(args)
        if args.command == "config":
            return _config(args)
        if args.command == "admin":
            return cli_admin.run(args)
        if args.command == "init":
            return cli_init.run(args)
    except cfg.ConfigError as err:
        print(f"chatroom: {err}", file=sys.stderr)
        return 2
    return 1


if __name__ == "__main__":
    raise SystemExit(main())
