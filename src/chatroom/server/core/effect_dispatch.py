"""The one place that decides which code carries out each kind of effect.

The asyncio shell (``net.backends.Backends``) and the test harness (``server.harness``)
each implement ``EffectHandler``, one method per effect type, and both hand every effect
they take from ``World.take_effects()`` to ``dispatch_effect``. The ``match`` below is
exhaustive over the closed ``Effect`` union: a new effect type without a case here (and a
method on ``EffectHandler``) fails ``mypy --strict``, and at run time an object that is not
an effect raises instead of being dropped silently.

No I/O here, so the core's layering allows it and both the shell and the harness may
import it. The dispatch costs one class test per case (the hot ``StoreMessages`` first)
and allocates nothing.
"""

from __future__ import annotations

from typing import Never, NoReturn, Protocol

from chatroom.server.core.effects import (
    Close,
    Effect,
    HashPassword,
    Persist,
    QueryHistory,
    RedactHistory,
    ReloadConfig,
    RenameHistory,
    StoreMessages,
    VerifyPassword,
)


class UnknownEffectError(TypeError):
    """Something that is not one of the core's effects reached the dispatcher."""


class EffectHandler(Protocol):
    """Carries out the core's effects; one method per type in the ``Effect`` union.

    Methods that owe the core an answer (a token on the effect) give it through the
    matching ``World`` input, now or later, then make sure the shell flushes again.
    """

    def on_close(self, effect: Close) -> None: ...

    def on_verify_password(self, effect: VerifyPassword) -> None: ...

    def on_hash_password(self, effect: HashPassword) -> None: ...

    def on_persist(self, effect: Persist) -> None: ...

    def on_store_messages(self, effect: StoreMessages) -> None: ...

    def on_query_history(self, effect: QueryHistory) -> None: ...

    def on_redact_history(self, effect: RedactHistory) -> None: ...

    def on_rename_history(self, effect: RenameHistory) -> None: ...

    def on_reload_config(self, effect: ReloadConfig) -> None: ...


def dispatch_effect(effect: Effect, handler: EffectHandler) -> None:
    """Hand ``effect`` to the handler method for its type."""
    match effect:
        case StoreMessages():  # once per input that said something: tested first
            handler.on_store_messages(effect)
        case Close():
            handler.on_close(effect)
        case Persist():
            handler.on_persist(effect)
        case VerifyPassword():
            handler.on_verify_password(effect)
        case HashPassword():
            handler.on_hash_password(effect)
        case QueryHistory():
            handler.on_query_history(effect)
        case RedactHistory():
            handler.on_redact_history(effect)
        case RenameHistory():
            handler.on_rename_history(effect)
        case ReloadConfig():
            handler.on_reload_config(effect)
        case _:
            _unhandled(effect)


def _unhandled(effect: Never) -> NoReturn:
    """``typing.assert_never`` with a message that says what to do.

    mypy accepts the call only where every effect type has been matched already.
    """
    raise UnknownEffectError(
        f"no handler for {type(effect).__name__} ({effect!r}): an effect type needs a case"
        " in dispatch_effect and a method on EffectHandler"
    )
