"""``chatroom admin ...``: manage accounts from the shell, whether or not the server runs.

Changes go straight to the SQLite file; a running server notices them within seconds
(it watches the file's data version) and applies them, e.g. logs out a deleted account.
"""

from __future__ import annotations

import argparse
import getpass
import sqlite3
import sys
import time
from pathlib import Path

from chatroom import admin
from chatroom import config as cfg
from chatroom.irc.casemap import casefolder
from chatroom.server.auth.passwords import Argon2Params, PasswordHasher
from chatroom.server.store.backup import backup_data_dir
from chatroom.server.store.sqlite import SqliteStore, default_db_path


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("admin", help="manage accounts, operators and bans")
    commands = parser.add_subparsers(dest="admin_command", required=True)

    def command(name: str, help: str) -> argparse.ArgumentParser:
        p = commands.add_parser(name, help=help)
        p.add_argument("--config", type=Path, help="TOML config file")
        p.add_argument("--data-dir", help="data directory (default ./chatroom-data)")
        return p

    create = command("create", "create an account (the password is asked for)")
    create.add_argument("name")
    create.add_argument("--oper", action="store_true", help="make it a server operator")
    create.add_argument("--password-stdin", action="store_true", help="read the password")
    create.add_argument("--email")
    passwd = command("passwd", "set an account's password")
    passwd.add_argument("name")
    passwd.add_argument("--password-stdin", action="store_true", help="read the password")
    command("list", "list accounts")
    delete = command("delete", "delete an account")
    delete.add_argument("name")
    oper = command("oper", "grant or revoke server operator rights")
    oper.add_argument("name")
    oper.add_argument("state", choices=["on", "off"])
    backup = command("backup", "copy the databases while the server runs (SQLite online backup)")
    backup.add_argument("file", type=Path)


def _password(args: argparse.Namespace, minimum: int) -> str:
    """From stdin (one line) or an interactive prompt, asked twice; never echoed or logged."""
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != password:
            raise ValueError("the passwords do not match")
    if len(password) < minimum:
        raise ValueError(f"use a password of at least {minimum} characters")
    return password


def run(args: argparse.Namespace) -> int:
    config = cfg.load(args.config, flags={"server.data_dir": args.data_dir})
    if args.admin_command == "backup":
        try:
            for path in backup_data_dir(config.data_dir, args.file):
                print(f"wrote {path}")
        except (ValueError, sqlite3.Error) as err:
            print(f"chatroom admin: {err}", file=sys.stderr)
            return 1
        return 0
    config.data_dir.mkdir(parents=True, exist_ok=True)
    store = SqliteStore(default_db_path(config.data_dir))
    fold = casefolder(config.core.casemapping)
    hasher = PasswordHasher(Argon2Params(*config.argon2))
    minimum = config.core.accounts.min_password_length
    try:
        if args.admin_command == "create":
            password = _password(args, minimum)
            account = admin.create_account(
                store, hasher, args.name, password, args.oper, fold, email=args.email
            )
            role = " (server operator)" if account.oper else ""
            print(f"created account {account.name}{role}")
        elif args.admin_command == "passwd":
            account = admin.set_password(store, hasher, args.name, _password(args, minimum), fold)
            print(f"password changed for {account.name}")
        elif args.admin_command == "list":
            for account in admin.list_accounts(store):
                created = time.strftime("%Y-%m-%d", time.gmtime(account.created_at))
                role = "oper" if account.oper else "user"
                print(f"{account.name}\t{role}\tcreated {created}")
        elif args.admin_command == "delete":
            print(f"deleted account {admin.delete_account(store, args.name, fold).name}")
        elif args.admin_command == "oper":
            account = admin.set_oper(store, args.name, args.state == "on", fold)
            print(f"{account.name} is {'now' if account.oper else 'no longer'} a server operator")
        else:
            return 1
    except ValueError as err:
        print(f"chatroom admin: {err}", file=sys.stderr)
        return 1
    finally:
        store.close()
    return 0
