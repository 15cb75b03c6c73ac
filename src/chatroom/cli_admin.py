"""``chatroom admin ...``: manage accounts, bans and rooms from the shell, whether or not
the server runs.

Changes go straight to the store that ``store.url`` names (``--store``; by default the
SQLite files in the data directory), opened by the one factory the server uses. A running
server applies them within a second (PostgreSQL notifies it of the keys changed; with
SQLite it watches the file's data version), e.g. logs out a deleted account. A
confirmation is printed only once its transaction has committed, so what it reports
survives the server or the machine dying the next instant; a write the database refuses
(locked for longer than the lock timeout, disk full, a name taken meanwhile) prints an
error and exits 1 instead.
"""

from __future__ import annotations

import argparse
import getpass
import logging
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TextIO

from chatroom import admin, admin_history, admin_rooms
from chatroom import config as cfg
from chatroom.config_kinds import check as check_setting
from chatroom.irc.casemap import casefolder
from chatroom.irc.formatting import terminal_safe
from chatroom.server.auth.passwords import Argon2Params, PasswordHasher
from chatroom.server.core.bans import format_time, until_text
from chatroom.server.store.backup import backup_store
from chatroom.server.store.base import Store
from chatroom.server.store.factory import open_store
from chatroom.server.store.restore import restore_sqlite
from chatroom.server.store.transfer import migrate
from chatroom.server.store.url import SqliteLocation, parse_store_url, redacted
from chatroom.store_errors import (
    database_errors,
    one_line,
    store_failure,
    value_or_database_errors,
)

Fold = Callable[[str], str]


def _say(text: str, file: TextIO | None = None) -> None:
    """Print a message that may quote stored text (ban reasons, room names, audit targets
    that users chose): formatting removed and controls made visible, as in the clients."""
    print(terminal_safe(text), file=file or sys.stdout)


def _row(*fields: str) -> None:
    """One line of a listing, tab-separated; a tab or control inside a field is shown as a
    space or a symbol, so it can neither break the columns nor act on the terminal."""
    print("\t".join(terminal_safe(field) for field in fields))


def _header(rows: Sequence[object], *labels: str) -> None:
    """The column names above a listing, on a terminal only: piped to a script, a listing
    stays one line per item (``chatroom admin list | cut -f1``)."""
    if rows and sys.stdout.isatty():
        print("\t".join(labels))


_STDIN_HELP = "read the password from the first line of stdin (for scripts)"


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "admin", help="manage accounts, operators, bans and rooms", allow_abbrev=False
    )
    commands = parser.add_subparsers(dest="admin_command", required=True)

    def command(name: str, help: str) -> argparse.ArgumentParser:
        p = commands.add_parser(name, help=help, allow_abbrev=False)
        p.add_argument("--config", type=Path, help="TOML config file")
        p.add_argument(
            "--data-dir", help="data directory (default: the config's, else ./chatroom-data)"
        )
        p.add_argument("--store", metavar="URL", help="store.url: sqlite:///DIR or postgresql://…")
        return p

    create = command("create", "create an account (the password is asked for)")
    create.add_argument("name", help="the account name (also its nick)")
    create.add_argument("--oper", action="store_true", help="make it a server operator")
    create.add_argument("--role", help="its operator role (implies --oper; default: oper)")
    create.add_argument("--password-stdin", action="store_true", help=_STDIN_HELP)
    create.add_argument("--email", help="the account's e-mail address (optional)")
    passwd = command("passwd", "set an account's password")
    passwd.add_argument("name", help="an existing account")
    passwd.add_argument("--password-stdin", action="store_true", help=_STDIN_HELP)
    command("list", "list accounts")
    delete = command("delete", "delete an account")
    delete.add_argument("name", help="an existing account (logged out at once if running)")
    oper = command("oper", "grant or revoke server operator rights")
    oper.add_argument("name", help="an existing account")
    oper.add_argument(
        "state", choices=["on", "off"], help="on: grant (or change the role); off: revoke"
    )
    oper.add_argument("--role", help="the operator role to give (default: oper)")
    ban = command("ban", "ban from the whole server (disconnects at once if running)")
    ban.add_argument("target", help="a:ACCOUNT, NAME, nick!user@host, IP or CIDR")
    ban.add_argument("--reason", default="", help="shown to the banned user")
    ban.add_argument("--duration", help="e.g. 30m, 2h, 7d (default: permanent)")
    unban = command("unban", "lift a server ban")
    unban.add_argument("target", help="as 'bans' shows it (e.g. account:bob), or its id")
    command("bans", "list server bans")
    mute = command("mute", "mute an account server-wide (it may still read)")
    mute.add_argument("name", help="an existing account")
    mute.add_argument("--reason", default="", help="shown to the muted user")
    mute.add_argument("--duration", help="e.g. 30m, 2h, 7d (default: until unmuted)")
    unmute = command("unmute", "lift a server-wide mute")
    unmute.add_argument("name", help="a muted account")
    command("mutes", "list server-wide mutes")
    command("rooms", "list registered rooms (ChanServ) with founder and registration time")
    room_drop = command("room-drop", "unregister a room (takes effect at once if running)")
    room_drop.add_argument("room", help="a registered room, e.g. '#ops'")
    room_founder = command("room-founder", "transfer a registered room to another account")
    room_founder.add_argument("room", help="a registered room, e.g. '#ops'")
    room_founder.add_argument("account", help="an existing account")
    audit = command("audit", "show the audit log of moderation and admin actions")
    audit.add_argument("--since", help="a duration back from now (2h, 7d) or a UTC date")
    backup = command(
        "backup",
        "copy the databases while the server runs (SQLite online backup; PostgreSQL: pg_dump,"
        " or SQLite files in a new directory without it)",
    )
    backup.add_argument(
        "file", type=Path, help="a new file (SQLite: the history goes to FILE.history.db)"
    )
    backup.add_argument("--force", action="store_true", help="replace an earlier backup there")
    restore = command(
        "restore",
        "put a backup back into the data directory (SQLite; stop the server first; PostgreSQL:"
        " pg_restore)",
    )
    restore.add_argument(
        "source", metavar="FROM", type=Path, help="the file backup wrote (FILE.history.db beside)"
    )
    restore.add_argument(
        "--force",
        action="store_true",
        help="replace the store there, its files kept in before-restore-<time>/",
    )
    move = command("migrate", "copy everything from one store to another (empty) one, verified")
    move.add_argument("--from", dest="source", metavar="URL", help="default: the store in use")
    move.add_argument(
        "--to",
        dest="target",
        metavar="URL",
        required=True,
        help="an empty store: sqlite:///DIR or postgresql://…",
    )
    purge = command("purge", "delete a room's message history")
    purge.add_argument("room", help="a room, e.g. '#ops'")
    purge.add_argument("--before", help="only lines older than this: a UTC date or a duration")
    export = command("export", "print a room's message history as JSON lines")
    export.add_argument("room", help="a room, e.g. '#ops'")
    nodes = command("nodes", "list the live nodes of a network (cluster.url) and their users")
    nodes.add_argument("--cluster", metavar="URL", help="cluster.url: redis://HOST:PORT/DB")


def _password(args: argparse.Namespace, minimum: int) -> str:
    """From stdin (one line) or an interactive prompt, asked twice; never echoed or logged."""
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    elif not sys.stdin.isatty():
        raise ValueError(
            "no terminal to ask the password on: pipe it in with --password-stdin,"
            " e.g. `printf '%s\\n' \"$PASSWORD\" | chatroom admin ... --password-stdin`"
        )
    else:
        password = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != password:
            raise ValueError("the passwords do not match")
    if len(password) < minimum:
        raise ValueError(f"use a password of at least {minimum} characters")
    return password


def _checked_role(config: cfg.Config, role: str | None) -> str | None:
    """A role the config defines, so nobody is given powers that do not exist yet."""
    if role is not None and config.core.role_capabilities(role) is None:
        known = ", ".join(config.core.role_names())
        raise ValueError(f"no operator role {role!r} in the config (opers.roles); roles: {known}")
    return role


def _ban(store: Store, args: argparse.Namespace, fold: Fold) -> None:
    ban = admin.add_ban(store, args.target, args.reason, args.duration, fold)
    _say(f"banned {ban.kind}:{ban.mask} ({until_text(ban.expires_at, time.time())})")


def _unban(store: Store, args: argparse.Namespace, fold: Fold) -> None:
    ban = admin.remove_ban(store, args.target, fold)
    _say(f"lifted the ban on {ban.kind}:{ban.mask}")


def _bans(store: Store, args: argparse.Namespace, fold: Fold) -> None:
    now = time.time()
    bans = admin.list_bans(store, now)
    _header(bans, "id", "target", "reason", "set by", "set at", "until")
    for ban in bans:
        _row(
            str(ban.id),
            f"{ban.kind}:{ban.mask}",
            ban.reason or "-",
            ban.set_by,
            format_time(ban.set_at),
            until_text(ban.expires_at, now),
        )


def _mute(store: Store, args: argparse.Namespace, fold: Fold) -> None:
    mute = admin.mute_account(store, args.name, args.reason, args.duration, fold)
    _say(f"muted {mute.account_name} ({until_text(mute.expires_at, time.time())})")


def _mutes(store: Store, args: argparse.Namespace, fold: Fold) -> None:
    now = time.time()
    mutes = admin.list_mutes(store, now)
    _header(mutes, "account", "reason", "set by", "set at", "until")
    for mute in mutes:
        _row(
            mute.account_name,
            mute.reason or "-",
            mute.set_by,
            format_time(mute.set_at),
            until_text(mute.expires_at, now),
        )


def _unmute(store: Store, args: argparse.Namespace, fold: Fold) -> None:
    _say(f"unmuted {admin.unmute_account(store, args.name, fold).account_name}")


def _audit(store: Store, args: argparse.Namespace, fold: Fold) -> None:
    since = admin.parse_since(args.since, time.time()) if args.since else None
    entries = admin.audit_log(store, since)
    _header(entries, "when", "by", "action", "target", "details")
    for entry in entries:
        # Always five columns ("-" for none, as in bans): a script can cut -f5. The fifth
        # is the reason, or what else the action needs saying (a role, "was <founder>").
        _row(format_time(entry.at), entry.actor, entry.action, entry.target, entry.reason or "-")


def _rooms(store: Store, args: argparse.Namespace, fold: Fold) -> None:
    rooms = admin_rooms.list_rooms(store)
    _header(rooms, "room", "founder", "registered")
    for room in rooms:
        _row(room.name, room.founder or "(server)", format_time(room.registered_at))


def _room_drop(store: Store, args: argparse.Namespace, fold: Fold) -> None:
    room = admin_rooms.drop_room(store, args.room, fold)
    _say(f"dropped the registration of {room.name} (founder {room.founder})")


def _room_founder(store: Store, args: argparse.Namespace, fold: Fold) -> None:
    room, previous = admin_rooms.set_room_founder(store, args.room, args.account, fold)
    if previous is None:
        _say(f"{room.founder} is already the founder of {room.name}")
    else:
        _say(f"{room.name} now belongs to {room.founder} (was {previous})")


_MODERATION: dict[str, Callable[[Store, argparse.Namespace, Fold], None]] = {
    "ban": _ban,
    "unban": _unban,
    "bans": _bans,
    "mute": _mute,
    "unmute": _unmute,
    "mutes": _mutes,
    "audit": _audit,
    "rooms": _rooms,
    "room-drop": _room_drop,
    "room-founder": _room_founder,
}


def _history_command(args: argparse.Namespace, config: cfg.Config) -> int:
    """purge/export: history lives in its own database (history.db)."""
    fold = casefolder(config.core.casemapping)
    try:
        if args.admin_command == "export":
            admin_history.export_room(config.store, args.room, fold, sys.stdout)
            return 0
        before = admin.parse_since(args.before, time.time(), "--before") if args.before else None
        count = admin_history.purge_room(config.store, args.room, fold, before)
    except ValueError as err:
        _say(f"chatroom admin: {one_line(err)}", file=sys.stderr)
        return 1
    except database_errors() as err:
        _say(f"chatroom admin: {store_failure(config.store, err)}", file=sys.stderr)
        return 1
    _say(f"deleted {count} lines of {args.room}")
    return 0


def _missing_database(args: argparse.Namespace, config_file: Path | None, data: Path) -> str | None:
    """Why not to work here: no database in the default data directory, which nobody named.

    Run in the wrong directory, admin would otherwise make a new empty ``./chatroom-data``
    and change accounts that no server reads. A directory named by ``--data-dir``, a config
    file or the environment is the operator's choice, and a new database is made there.
    """
    named = args.data_dir is not None or config_file is not None or bool(args.store)
    named = named or any(cfg.env_name(k) in os.environ for k in ("server.data_dir", "store.url"))
    location = parse_store_url("", data)
    if named or (isinstance(location, SqliteLocation) and location.store_path.exists()):
        return None
    looked = " or ".join(str(path) for path in cfg.search_paths())
    return (
        f"no ChatRoom database in {data.resolve()} (the default data directory; no config"
        f" file at {looked}). Run this where `chatroom serve` runs, or name the server's"
        " data with --config FILE or --data-dir DIR (a new database is made there if none"
        " exists)"
    )


def _migrate(args: argparse.Namespace, config: cfg.Config) -> int:
    try:
        source = parse_store_url(args.source, config.data_dir) if args.source else config.store
        target = parse_store_url(args.target, config.data_dir)
        counts = migrate(source, target, report=_say)
    except value_or_database_errors() as err:  # a mismatch is a StoreError
        _say(f"chatroom admin: {one_line(err)}", file=sys.stderr)
        return 1
    shown = ", ".join(f"{table} {count}" for table, count in counts.items())
    _say(f"migrated {source} to {target}; verified: {shown}")
    return 0


def _restore(args: argparse.Namespace, config: cfg.Config) -> int:
    location = config.store
    if not isinstance(location, SqliteLocation):
        _say(
            f"chatroom admin: restore works on SQLite stores; {location} is PostgreSQL:"
            " restore a pg_dump backup with `pg_restore --no-owner --dbname URL FILE` into an"
            " empty database (see README, Backup and restore)",
            file=sys.stderr,
        )
        return 1
    failures: tuple[type[Exception], ...] = (*value_or_database_errors(), OSError)
    try:
        restored = restore_sqlite(args.source, location, args.force)
    except failures as err:
        _say(f"chatroom admin: {one_line(err)}", file=sys.stderr)
        return 1
    if restored.set_aside is not None:
        _say(f"moved the files it replaced to {restored.set_aside}")
    for path in restored.written:
        _say(f"restored {path}")
    held = [f"{table} {count}" for table, count in restored.counts.items() if count]
    _say(f"it holds: {', '.join(held) or 'nothing'}; start the server")
    return 0


def _nodes(url: str) -> int:
    """One line per live node: its name, its users (connections it holds), since when."""
    if not url:
        print("chatroom admin: no network: give --cluster redis://HOST:PORT/DB", file=sys.stderr)
        return 1
    try:
        check_setting("cluster.url", "cluster_url", url)  # --cluster skips the config's checks
    except cfg.ConfigError as err:
        print(f"chatroom admin: {err}", file=sys.stderr)
        return 1
    import asyncio

    from redis.exceptions import RedisError

    from chatroom.server.cluster.node import list_nodes

    try:
        found = asyncio.run(list_nodes(url))
    except (RedisError, OSError) as err:
        shown = redacted(url)
        print(f"chatroom admin: cannot reach Redis at {shown}: {one_line(err)}", file=sys.stderr)
        return 1
    if not found:
        _say("no live nodes")
    for name, incarnation, info in found:
        since = format_time(float(info.get("since", 0)))
        _row(name, f"users={info.get('users', 0)}", f"since {since}", incarnation)
    return 0


class _SchemaUpgrades(logging.Handler):
    """``chatroom admin`` sets up no logging, yet the first command after an upgrade of
    ChatRoom migrates the store: that one event is said on stderr, the rest stays quiet."""

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage() != "database schema upgraded":
            return
        where = record.__dict__.get("file") or record.__dict__.get("component") or "the store"
        before, after = record.__dict__.get("from_version"), record.__dict__.get("to_version")
        _say(
            f"chatroom admin: upgraded the database schema of {where} from {before} to {after}",
            file=sys.stderr,
        )


def run(args: argparse.Namespace) -> int:
    store_log = logging.getLogger("chatroom.store")
    level, handler = store_log.level, _SchemaUpgrades(logging.INFO)
    store_log.addHandler(handler)
    if store_log.getEffectiveLevel() > logging.INFO:
        store_log.setLevel(logging.INFO)
    try:
        return _run(args)
    finally:
        store_log.removeHandler(handler)
        store_log.setLevel(level)


def _run(args: argparse.Namespace) -> int:
    config_file = cfg.find_file(args.config)
    flags = {"server.data_dir": args.data_dir, "store.url": args.store}
    config = cfg.load(config_file, flags=flags)
    if args.admin_command == "nodes":
        return _nodes(args.cluster or config.cluster_url)
    if args.admin_command == "migrate":
        return _migrate(args, config)
    refusal = _missing_database(args, config_file, config.data_dir)
    if refusal is not None:
        print(f"chatroom admin: {refusal}", file=sys.stderr)
        return 1
    if args.admin_command == "backup":
        try:
            for path in backup_store(config.store, args.file, _say, args.force):
                _say(f"wrote {path}")
        except ValueError as err:
            _say(f"chatroom admin: {one_line(err)}", file=sys.stderr)
            return 1
        except database_errors() as err:
            _say(f"chatroom admin: {store_failure(config.store, err)}", file=sys.stderr)
            return 1
        return 0
    cfg.make_data_dir(config.data_dir)
    if args.admin_command == "restore":
        return _restore(args, config)
    if args.admin_command in ("purge", "export"):
        return _history_command(args, config)
    try:
        store = open_store(config.store)
    except database_errors() as err:
        print(f"chatroom admin: {store_failure(config.store, err)}", file=sys.stderr)
        return 1
    try:
        return _store_command(store, args, config)
    except ValueError as err:
        _say(f"chatroom admin: {one_line(err)}", file=sys.stderr)
        return 1
    except database_errors() as err:
        # Printed instead of a confirmation: the transaction was rolled back.
        print(
            f"chatroom admin: the database failed ({one_line(err)}); nothing was changed",
            file=sys.stderr,
        )
        return 1
    finally:
        store.close()


def _store_command(store: Store, args: argparse.Namespace, config: cfg.Config) -> int:
    """Accounts, operators, bans, mutes, rooms: each confirmation is printed only after
    its commit returned (``Store.apply``), so what it reports survives a crash."""
    fold = casefolder(config.core.casemapping)
    hasher = PasswordHasher(Argon2Params(*config.argon2))
    minimum = config.core.accounts.min_password_length
    if args.admin_command == "create":
        role = _checked_role(config, args.role)
        password = _password(args, minimum)
        account = admin.create_account(
            store, hasher, args.name, password, args.oper, fold, email=args.email, role=role
        )
        shown = f" (server operator, role {account.oper_role})" if account.oper_role else ""
        _say(f"created account {account.name}{shown}")
    elif args.admin_command == "passwd":
        account = admin.set_password(store, hasher, args.name, _password(args, minimum), fold)
        _say(f"password changed for {account.name}")
    elif args.admin_command == "list":
        accounts = admin.list_accounts(store)
        # "-": no operator role. "user" said so before, and is a name a role may have.
        _header(accounts, "account", "operator role", "created (UTC)")
        for account in accounts:
            created = time.strftime("%Y-%m-%d", time.gmtime(account.created_at))
            _row(account.name, account.oper_role or "-", created)
    elif args.admin_command == "delete":
        _say(f"deleted account {admin.delete_account(store, args.name, fold).name}")
    elif args.admin_command == "oper":
        role = _checked_role(config, args.role)
        account = admin.set_oper(store, args.name, args.state == "on", fold, role=role)
        if account.oper_role is not None:
            _say(f"{account.name} is now a server operator (role {account.oper_role})")
        else:
            _say(f"{account.name} is no longer a server operator")
    elif args.admin_command in _MODERATION:
        _MODERATION[args.admin_command](store, args, fold)
    else:
        return 1
    return 0
