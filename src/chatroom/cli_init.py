"""``chatroom init``: ask the few questions that matter and write a config file.

It asks for the address, the ports, the registration policy and the first admin account;
the admin's password is hashed into the database at once and never written anywhere else.
Answers come from the terminal, or from standard input line by line when it is not one
(so the command can be scripted and tested).
"""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Callable
from pathlib import Path

from chatroom import admin, store_errors
from chatroom import config as cfg
from chatroom.irc.casemap import CaseMapping, casefolder
from chatroom.program import command_name
from chatroom.server.auth.passwords import Argon2Params, PasswordHasher
from chatroom.server.store.factory import open_store
from chatroom.server.store.private import private_file


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "init", help="answer a few questions, write a config file", allow_abbrev=False
    )
    parser.add_argument("--config", type=Path, default=Path("chatroom.toml"), help="file to write")
    parser.add_argument("--force", action="store_true", help="overwrite an existing file")
    parser.add_argument(
        "--store",
        metavar="URL",
        help="store.url to write and create the admin in (default: SQLite in the data dir)",
    )


class Asker:
    """Prompts on a terminal; plain lines from stdin otherwise."""

    def __init__(self) -> None:
        self.interactive = sys.stdin.isatty()

    def line(self, prompt: str, default: str) -> str:
        shown = f"{prompt} [{default}]: "
        if self.interactive:
            answer = input(shown)
        else:
            print(shown, end="", flush=True)
            answer = sys.stdin.readline().rstrip("\r\n")
            print()
        return answer.strip() or default

    def secret(self, prompt: str) -> str:
        if self.interactive:
            return getpass.getpass(f"{prompt}: ")
        print(f"{prompt}: ", flush=True)
        return sys.stdin.readline().rstrip("\r\n")

    def password(self, minimum: int) -> str:
        """The admin password, asked twice; asked again at once while it is too short or
        the two differ (a script gets the error instead of a second try)."""
        while True:
            password = self.secret(f"Admin password (at least {minimum} characters)")
            problem = None
            if len(password) < minimum:
                problem = f"use a password of at least {minimum} characters"
            elif self.secret("Again") != password:
                problem = "the passwords do not match"
            if problem is None:
                return password
            print(f"  {problem}")
            if not self.interactive:
                raise ValueError(problem)

    def valid(self, prompt: str, default: str, check: Callable[[str], object]) -> str:
        while True:
            answer = self.line(prompt, default)
            try:
                check(answer)
            except (ValueError, cfg.ConfigError) as err:
                print(f"  {err}")
                if not self.interactive:
                    raise
                continue
            return answer


def _check(key: str) -> Callable[[str], object]:
    return lambda value: cfg.load(env={}, flags={key: value})


def run(args: argparse.Namespace) -> int:
    path: Path = args.config
    if path.exists() and not args.force:
        print(f"chatroom init: {path} exists; use --force to overwrite it", file=sys.stderr)
        return 1
    ask = Asker()
    try:
        answers = {
            "listen.host": ask.valid("Address to listen on", "127.0.0.1", _check("listen.host")),
            "listen.port": ask.valid("Plain IRC port (or off)", "6667", _check("listen.port")),
            "listen.tls_port": ask.valid(
                "TLS IRC port (or off)", "6697", _check("listen.tls_port")
            ),
            "listen.http_port": ask.valid(
                "Web client port (or off)", "8080", _check("listen.http_port")
            ),
            "server.data_dir": ask.line("Data directory", "./chatroom-data"),
            "accounts.registration": ask.valid(
                "Registration: open (anyone) or closed (admins only)",
                "open",
                _check("accounts.registration"),
            ),
            "accounts.guests": ask.valid(
                "Allow guests without an account? (true/false)", "true", _check("accounts.guests")
            ),
        }
        admin_name = ask.valid("Admin account name", "admin", admin.validate_nick)
        if args.store:
            _check("store.url")(args.store)
            answers["store.url"] = args.store
    except (ValueError, cfg.ConfigError) as err:
        print(f"chatroom init: {err}", file=sys.stderr)
        return 2
    # The data directory as `serve --config PATH` will read it: from the file's folder.
    config = cfg.load(env={}, flags=cfg.paths_from_folder(dict(answers), path.parent))
    try:
        password = ask.password(config.core.accounts.min_password_length)
    except ValueError as err:
        print(f"chatroom init: {err}", file=sys.stderr)
        return 2
    cfg.make_data_dir(config.data_dir)
    try:
        store = open_store(config.store)
    except store_errors.database_errors() as err:
        print(f"chatroom init: {store_errors.store_failure(config.store, err)}", file=sys.stderr)
        return 1
    try:
        hasher = PasswordHasher(Argon2Params(*config.argon2))
        fold = casefolder(CaseMapping(config.core.casemapping))
        admin.create_account(store, hasher, admin_name, password, oper=True, fold=fold)
    except ValueError as err:
        hint = ""
        if fold(admin_name) in store.load().accounts:  # init run again, e.g. with --force
            hint = (
                f" in {config.store}; nothing was written: answer another name for a new"
                f" admin, or keep this one (`{command_name()} admin passwd {admin_name}`"
                " sets its password) and edit the config file by hand"
            )
        print(f"chatroom init: {err}{hint}", file=sys.stderr)
        return 1
    except store_errors.database_errors() as err:
        print(f"chatroom init: {store_errors.store_failure(config.store, err)}", file=sys.stderr)
        return 1
    finally:
        store.close()
    # 0600 whatever the umask: it may name a store URL with a password, and whoever can
    # write it decides what the server runs with.
    private_file(path).write_text(_render(answers))
    print(f"wrote {path}; admin account {admin_name!r} created (server operator)")
    config_flag = "" if path == Path(cfg.CONFIG_NAME) else f" --config {path}"
    print(f"start the server with: {command_name()} serve{config_flag}")
    return 0


def _render(answers: dict[str, str]) -> str:
    sections: dict[str, list[str]] = {}
    for key, value in answers.items():
        section, name = key.split(".", 1)
        setting = cfg.BY_KEY[key]
        if setting.kind in ("port", "count") and value.isdigit():
            rendered = value
        elif setting.kind == "bool":
            rendered = value.lower()
        else:
            rendered = '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
        sections.setdefault(section, []).append(f"# {setting.help}\n{name} = {rendered}")
    lines = ["# Written by `chatroom init`; see `chatroom config --defaults` for every setting."]
    for section, entries in sections.items():
        lines += ["", f"[{section}]", *entries]
    return "\n".join(lines) + "\n"
