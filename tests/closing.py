"""Things a test opens and the fixture closes: the body of every "closed at the end" fixture."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol, TypeVar


class Closable(Protocol):
    def close(self) -> None: ...


C = TypeVar("C", bound=Closable)


def closed_at_end() -> Iterator[list[C]]:
    """Yield the list a test appends to; close every item in it once the test is over.

    Used as ``yield from closed_at_end()`` in a fixture typed ``Iterator[list[X]]``."""
    made: list[C] = []
    yield made
    for thing in made:
        thing.close()
