"""``chatroom connect``: resolve what the user named, then run the app or the line mode."""

from __future__ import annotations

import argparse
import asyncio
import sys
from dataclasses import replace

from chatroom.client.connection import Endpoint
from chatroom.client.servers import SavedServer, ServerStore, parse_address
from chatroom.client.session import ClientSession

__all__ = ["add_arguments", "main", "resolve"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("target", nargs="?", help="a saved server's name, or HOST[:PORT]")
    parser.add_argument(
        "--plain", action="store_true", help="line mode for scripts and screen readers"
    )
    parser.add_argument("--nick", help="nickname (default: the saved one)")
    parser.add_argument("--no-tls", action="store_true", help="plain TCP (default port 6667)")
    parser.add_argument("--create-account", action="store_true", help="--plain: register the nick")
    parser.add_argument(
        "--insecure-accept-new-cert",
        action="store_true",
        help="pin a server's unknown certificate without asking (a changed one is still refused)",
    )
    parser.add_argument(
        "--forget-pin", action="store_true", help="drop the pinned certificate, to pin anew"
    )


def resolve(store: ServerStore, target: str, no_tls: bool) -> SavedServer:
    """A saved server by name, else by address, else a new unsaved entry for HOST[:PORT]."""
    saved = store.get(target)
    if saved is None:
        host, port = parse_address(target, tls=not no_tls)
        saved = store.find_address(host, port) or SavedServer(host, host, port, not no_tls)
    if no_tls and saved.tls:
        saved = replace(saved, tls=False)
    return saved


def main(args: argparse.Namespace) -> int:
    store = ServerStore()
    server = resolve(store, args.target, args.no_tls) if args.target else None
    if server is not None and args.forget_pin:
        if store.get(server.name) is not None:
            server = replace(server, fingerprint="")
            store.put(server)
        print(f"chatroom: forgot the certificate pinned for {server.name}", file=sys.stderr)
    if args.plain:
        if server is None:
            print("chatroom: --plain needs a server: NAME or HOST[:PORT]", file=sys.stderr)
            return 2
        return _plain(store, server, args)
    from chatroom.tui.app import ChatApp

    app = ChatApp(store, server, args.nick or "", accept_new_cert=args.insecure_accept_new_cert)
    app.run()
    return 0


def _plain(store: ServerStore, server: SavedServer, args: argparse.Namespace) -> int:
    from chatroom.client.plain import password_from_env_or_prompt, run_plain

    nick = args.nick or server.nick
    if not nick:
        print("chatroom: --plain needs --nick (or a saved nickname)", file=sys.stderr)
        return 2
    from chatroom.client.vault import PasswordVault

    password = password_from_env_or_prompt(lambda: PasswordVault().get(server, nick))
    if args.create_account and not password:
        print("chatroom: --create-account needs a password (CHATROOM_PASSWORD)", file=sys.stderr)
        return 2
    session = ClientSession(nick, password, create_account=args.create_account)
    endpoint = Endpoint(server.host, server.port, server.tls, server.fingerprint, server.name)

    def pin(fingerprint: str) -> None:
        known = store.get(server.name)
        entry = known or replace(server, name=store.unique_name(server.name), nick=nick)
        store.put(replace(entry, fingerprint=fingerprint, tls=True))

    return asyncio.run(
        run_plain(endpoint, session, accept_new_cert=args.insecure_accept_new_cert, on_pin=pin)
    )
