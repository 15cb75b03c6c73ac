"""RPL_ISUPPORT (005) tokens.

Rules (modern.ircdocs.horse, "Feature Advertisement"): a token is ``NAME``, ``NAME=value``
or ``-NAME``; in values, space, backslash and ``=`` are written ``\\x20``, ``\\x5C`` and
``\\x3D``. We also escape control characters, which could never travel in a parameter.
A reply carries at most 13 tokens, so clients with fixed parameter arrays see them all.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = [
    "escape_isupport_value",
    "format_token",
    "isupport_lines",
    "parse_token",
    "unescape_isupport_value",
]


def _needs_escape(ch: str) -> bool:
    return ch in " \\=" or ord(ch) < 0x20 or ch == "\x7f"


def escape_isupport_value(value: str) -> str:
    """Escape a token value with ``\\xHH``."""
    if not any(_needs_escape(ch) for ch in value):
        return value
    return "".join(f"\\x{ord(ch):02X}" if _needs_escape(ch) else ch for ch in value)


def unescape_isupport_value(value: str) -> str:
    """Decode ``\\xHH`` escapes; a malformed escape is kept as written (clients are lenient)."""
    if "\\x" not in value:
        return value
    out: list[str] = []
    i = 0
    n = len(value)
    while i < n:
        digits = value[i + 2 : i + 4]
        if (
            value.startswith("\\x", i)
            and len(digits) == 2
            and all(c in "0123456789abcdefABCDEF" for c in digits)
        ):
            out.append(chr(int(digits, 16)))
            i += 4
        else:
            out.append(value[i])
            i += 1
    return "".join(out)


def format_token(name: str, value: str | None) -> str:
    """``NAME`` when ``value`` is None, else ``NAME=escaped``."""
    if value is None:
        return name
    return f"{name}={escape_isupport_value(value)}"


def parse_token(token: str) -> tuple[str, str | None]:
    """Client side: ``"NAME=x"`` → ``("NAME", "x")``; ``"NAME"`` → ``("NAME", None)``."""
    name, sep, value = token.partition("=")
    return name, unescape_isupport_value(value) if sep else None


def isupport_lines(tokens: Mapping[str, str | None], per_line: int = 13) -> list[list[str]]:
    """Group the formatted tokens into the parameter lists of successive 005 replies.

    The caller adds the nick in front and "are supported by this server" at the end.
    """
    if per_line < 1:
        raise ValueError("per_line must be at least 1")
    formatted = [format_token(name, value) for name, value in tokens.items()]
    return [formatted[i : i + per_line] for i in range(0, len(formatted), per_line)]
