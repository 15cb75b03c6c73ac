"""Packing words into as few reply lines as fit.

Several replies carry a list that may not fit one line (NAMES, WHOIS channels, CAP LS,
MONITOR lists); each fills lines up to a byte budget and starts a new one when the next
word would not fit. Sizes are UTF-8 bytes, the unit of the 512-byte line limit.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["pack_words"]


def pack_words(words: Iterable[str], budget: int, sep: str = " ") -> list[str]:
    """``words`` joined by ``sep`` into lines of at most ``budget`` bytes each.

    A word longer than the budget gets a line of its own rather than being cut. No words,
    no lines.
    """
    lines: list[str] = []
    current: list[str] = []
    used = 0
    gap = len(sep.encode())
    for word in words:
        size = len(word.encode())
        if current and used + gap + size > budget:
            lines.append(sep.join(current))
            current, used = [], 0
        used += size + (gap if current else 0)
        current.append(word)
    if current:
        lines.append(sep.join(current))
    return lines
