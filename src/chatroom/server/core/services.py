"""The machinery every service shares: NickServ and ChanServ are each one ``Service``.

A service is not a session. PRIVMSG/NOTICE addressed to it are diverted by messaging.py
(through ``find``) before any delivery, so service text, which may carry passwords, is
never relayed, echoed or logged. What is common lives here so each service module holds
only its subcommands:

- a registry of subcommands, each with its syntax and help text next to its code;
- ``message``: one PRIVMSG text split into a subcommand and its arguments; a NOTICE
  (``quiet``) still runs a command but is never answered with a complaint (RFC 2812
  3.3.2), and no complaint quotes what was sent (it may be a password sent by mistake);
- the command aliases (``NICKSERV``/``NS``) that mean the same as a message to the service;
- answers as NOTICEs from ``Name!Name@services.``;
- the registry of services by folded nick, which is also what reserves their nicknames.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from chatroom.irc.message import Message, format_line
from chatroom.server.core.accounts import SERVICE_HOST
from chatroom.server.core.context import Context
from chatroom.server.core.dispatch import Handler, command
from chatroom.server.core.session import Session

SubHandler = Callable[[Context, Session, list[str]], None]

SERVICES: dict[str, Service] = {}
"""Every service by folded nickname; service names are ASCII letters, so any casemapping
folds them to their lowercase form."""

_INITIALS: set[str] = set()
_HOSTS = ("", SERVICE_HOST, SERVICE_HOST[:-1])


@dataclass(frozen=True, slots=True)
class SubCommand:
    handler: SubHandler
    syntax: str
    summary: str
    details: tuple[str, ...] = ()


class Service:
    """One service: its name, its subcommands, and how it answers.

    ``about`` opens the HELP listing; ``prompt`` answers an empty message (by default the
    same answer as an unknown command).
    """

    def __init__(self, name: str, *, about: str, prompt: str | None = None) -> None:
        if not (name.isascii() and name.isalpha()):
            raise ValueError(f"service name {name!r} must be ASCII letters")
        if name.lower() in SERVICES:
            raise RuntimeError(f"service {name} defined twice")
        self.name = name
        self.source = f"{name}!{name}@{SERVICE_HOST}"
        self.about = about
        self.unknown = f"Unknown command. Send /msg {name} HELP for a list."
        self.prompt = prompt if prompt is not None else self.unknown
        self.subcommands: dict[str, SubCommand] = {}
        SERVICES[name.lower()] = self
        _INITIALS.update((name[0].lower(), name[0].upper()))

    def subcommand(
        self, name: str, syntax: str, summary: str, *details: str
    ) -> Callable[[SubHandler], SubHandler]:
        """Register a verb; the syntax and help text live next to the code they describe."""

        def register(handler: SubHandler) -> SubHandler:
            self.subcommands[name] = SubCommand(handler, syntax, summary, details)
            return handler

        return register

    def aliases(self, long: str, short: str) -> None:
        """``/NICKSERV HELP`` and ``/NS HELP`` mean the same as ``/msg NickServ HELP``."""
        same = f"(the same as /msg {self.name} <command> [arguments])"
        command(long)(self._forwarder(f"{long} <command> [arguments]  {same}"))
        command(short)(self._forwarder(f"{short} <command> [arguments]  (short for {long})"))

    def _forwarder(self, doc: str) -> Handler:
        """A verb handler that passes its parameters to the service as one message.

        It gets a docstring because the HELP verb shows a handler's first line as its syntax.
        """

        def forward(ctx: Context, session: Session, msg: Message) -> None:
            self.message(ctx, session, " ".join(msg.params))

        forward.__doc__ = doc
        return forward

    def message(self, ctx: Context, session: Session, text: str, *, quiet: bool = False) -> None:
        """A PRIVMSG (or, with ``quiet``, a NOTICE) sent to the service."""
        words = text.split()
        if not words:
            if not quiet:
                self.notice(ctx, session, self.prompt)
            return
        sub = self.subcommands.get(words[0].upper())
        if sub is None:
            if not quiet:
                self.notice(ctx, session, self.unknown)
            return
        sub.handler(ctx, session, words[1:])

    def notice(self, ctx: Context, session: Session, text: str) -> None:
        """Answer as the service; an answer that arrives after the client left is dropped."""
        if not session.closed:
            session.send(format_line(self.source, "NOTICE", session.nick, text))

    def usage(self, ctx: Context, session: Session, name: str) -> None:
        self.notice(ctx, session, f"Syntax: {self.subcommands[name].syntax}")

    def help(self, ctx: Context, session: Session, args: list[str]) -> None:
        """HELP [command]: the sorted list, or one command's syntax and details."""
        if args:
            sub = self.subcommands.get(args[0].upper())
            if sub is None:
                self.notice(
                    ctx, session, f"No such command. Send /msg {self.name} HELP for a list."
                )
                return
            self.notice(ctx, session, f"Syntax: {sub.syntax}")
            self.notice(ctx, session, sub.summary)
            for line in sub.details:
                self.notice(ctx, session, line)
            return
        self.notice(ctx, session, f"{self.about} Commands:")
        width = max(len(name) for name in self.subcommands)
        for name in sorted(self.subcommands):
            self.notice(ctx, session, f"  {name.ljust(width)}  {self.subcommands[name].summary}")
        self.notice(ctx, session, f"Send /msg {self.name} HELP <command> for more on one command.")


def find(ctx: Context, target: str) -> Service | None:
    """The service a message target means (``NickServ``, ``nickserv@services.``), if any.

    The first-letter test comes first because this runs for every message on the hot path.
    """
    if target[:1] not in _INITIALS:
        return None
    name, _, host = ctx.fold(target).partition("@")
    return SERVICES.get(name) if host in _HOSTS else None


def is_service_nick(ctx: Context, nick: str) -> bool:
    """Service nicknames are reserved: no client may take one. So is the network's name
    (``NETWORK``), which clients show as the server's own (the web client's server tab):
    a user called that could pass notices off as the server's."""
    folded = ctx.fold(nick)
    return folded in SERVICES or folded == ctx.fold(ctx.settings.network_name)
