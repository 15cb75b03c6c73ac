"""The one effect dispatcher: every effect type reaches its own handler method, and
anything else is refused loudly instead of being dropped.

mypy --strict proves at check time that ``dispatch_effect`` has a case for every member of
the ``Effect`` union; these tests prove the same at run time, for the dispatcher alone and
for the harness, which hands every effect the core emits to it (as the shell does).
"""

from __future__ import annotations

import re
from typing import cast, get_args

import pytest

from chatroom.server.core.effect_dispatch import (
    EffectHandler,
    UnknownEffectError,
    dispatch_effect,
)
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
from chatroom.server.core.history import HistoryQuery
from chatroom.server.core.redaction import Redaction
from chatroom.server.harness import Harness

ONE_OF_EACH: list[Effect] = [
    Close(7, "Quit: bye"),
    VerifyPassword(1, "fake$pw", "pw"),
    HashPassword(2, "pw"),
    Persist(()),
    Persist((), token=3),
    StoreMessages([]),
    QueryHistory(4, HistoryQuery("LATEST", "#room", None, None, 10)),
    RedactHistory(5, Redaction("#room", "msgid", None, 0)),
    RenameHistory("#old", "#new", "#New"),
    ReloadConfig(6),
]


def _method_for(effect_type: type) -> str:
    """``StoreMessages`` -> ``on_store_messages``: the naming the protocol follows."""
    return "on_" + re.sub(r"(?<!^)(?=[A-Z])", "_", effect_type.__name__).lower()


class RecordingHandler:
    """An ``EffectHandler`` that only notes which method got which effect."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, object]] = []

    def on_close(self, effect: Close) -> None:
        self.calls.append(("on_close", effect))

    def on_verify_password(self, effect: VerifyPassword) -> None:
        self.calls.append(("on_verify_password", effect))

    def on_hash_password(self, effect: HashPassword) -> None:
        self.calls.append(("on_hash_password", effect))

    def on_persist(self, effect: Persist) -> None:
        self.calls.append(("on_persist", effect))

    def on_store_messages(self, effect: StoreMessages) -> None:
        self.calls.append(("on_store_messages", effect))

    def on_query_history(self, effect: QueryHistory) -> None:
        self.calls.append(("on_query_history", effect))

    def on_redact_history(self, effect: RedactHistory) -> None:
        self.calls.append(("on_redact_history", effect))

    def on_rename_history(self, effect: RenameHistory) -> None:
        self.calls.append(("on_rename_history", effect))

    def on_reload_config(self, effect: ReloadConfig) -> None:
        self.calls.append(("on_reload_config", effect))


def test_the_samples_cover_every_effect_type() -> None:
    # A new effect type fails here until it gets a sample, and so a routing check below.
    assert {type(effect) for effect in ONE_OF_EACH} == set(get_args(Effect))


def test_the_handler_protocol_has_one_method_per_effect_type() -> None:
    methods = {name for name in vars(EffectHandler) if name.startswith("on_")}
    assert methods == {_method_for(kind) for kind in get_args(Effect)}


def test_each_effect_reaches_the_handler_method_for_its_type_and_only_that() -> None:
    for effect in ONE_OF_EACH:
        handler = RecordingHandler()
        dispatch_effect(effect, handler)
        assert handler.calls == [(_method_for(type(effect)), effect)]
        assert handler.calls[0][1] is effect  # handed on as is, not copied


def test_effects_are_handed_on_in_the_order_given() -> None:
    handler = RecordingHandler()
    for effect in ONE_OF_EACH:
        dispatch_effect(effect, handler)
    assert [effect for _, effect in handler.calls] == ONE_OF_EACH


def test_an_object_that_is_not_an_effect_raises_a_clear_error() -> None:
    class Stranger:
        pass

    handler = RecordingHandler()
    with pytest.raises(UnknownEffectError, match=r"no handler for Stranger.*dispatch_effect"):
        dispatch_effect(cast(Effect, Stranger()), handler)
    assert handler.calls == []


def test_the_harness_refuses_an_unknown_effect_instead_of_ignoring_it() -> None:
    h = Harness()
    handler: EffectHandler = h  # the harness is a full handler (mypy checks this line)
    assert handler is h
    h.world.effects.append(cast(Effect, "not an effect"))
    with pytest.raises(UnknownEffectError, match="no handler for str"):
        h.pump()
