"""The command table: one small function per verb, registered with its preconditions.

The dispatcher checks the preconditions once (451 not registered, 461 too few parameters,
481 not an operator whose role holds the verb's capability, 421 unknown verb) so handlers
start from a valid request. A handler reports a refusal by raising ``CommandError``; the
dispatcher turns it into the numeric.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from chatroom.irc.message import Message

if TYPE_CHECKING:
    from chatroom.server.core.context import Context
    from chatroom.server.core.session import Session

Handler = Callable[["Context", "Session", Message], None]


class CommandError(Exception):
    """A refusal answered with one numeric: ``CommandError(ERR_NOSUCHNICK, nick, text)``."""

    def __init__(self, numeric: str, *params: str) -> None:
        super().__init__(numeric, *params)
        self.numeric = numeric
        self.params = params


@dataclass(frozen=True, slots=True)
class CommandSpec:
    name: str
    handler: Handler
    min_params: int
    before_registration: bool
    oper_capability: str | None  # the operator capability the verb needs, if any


COMMANDS: dict[str, CommandSpec] = {}


@dataclass(frozen=True, slots=True)
class Shortcut:
    """The commonest line, read without ``parse`` and the table (``World.receive``).

    ``read`` looks at a line starting with ``prefix`` and returns what ``run`` needs when
    running it that way does exactly what the general path would (the same checks, the
    same replies, the same effects), else None, and the general path takes the line.
    ``read`` changes nothing. ``run`` is guarded as the table's handlers are, under
    ``command``'s name.
    """

    command: str
    prefix: bytes
    read: Callable[[Context, Session, bytes], tuple[str, str] | None]
    run: Callable[[Context, Session, tuple[str, str]], None]


# At most one, set by the command module that owns the line (commands/messaging.py).
SHORTCUTS: list[Shortcut] = []


def command(
    name: str,
    *,
    min_params: int = 0,
    before_registration: bool = False,
    oper_capability: str | None = None,
) -> Callable[[Handler], Handler]:
    """Register a handler for ``name``; the handler's docstring starts with its syntax."""

    def register(handler: Handler) -> Handler:
        if name in COMMANDS:
            raise RuntimeError(f"command {name} registered twice")
        COMMANDS[name] = CommandSpec(
            name, handler, min_params, before_registration, oper_capability
        )
        return handler

    return register


def load_commands() -> dict[str, CommandSpec]:
    """Import every command family so their decorators fill the table."""
    from chatroom.server.core import commands  # noqa: F401  (import registers handlers)

    return COMMANDS
