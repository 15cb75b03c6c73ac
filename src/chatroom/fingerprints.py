"""The forms of a certificate's SHA-256 fingerprint that people compare by eye.

``chatroom serve`` prints its certificate's fingerprint in each form a client may show,
and ChatRoom's own clients show one of them; one module for both keeps them equal.
"""

from __future__ import annotations


def normalize(text: str) -> str:
    """64 lowercase hex digits, whatever separators the text had."""
    return text.replace(":", "").replace(" ", "").lower()


def grouped(fingerprint: str) -> str:
    """``521e9c01 ...``: eight groups of eight, as ChatRoom's own clients show it."""
    digits = normalize(fingerprint)
    return " ".join(digits[i : i + 8] for i in range(0, len(digits), 8))


def grouped_rows(fingerprint: str, per_row: int = 4) -> list[str]:
    """``grouped``'s groups, ``per_row`` to a line: a terminal narrower than the whole
    (71 columns) then shows two even lines of four, never a group cut at its edge."""
    groups = grouped(fingerprint).split()
    return [" ".join(groups[i : i + per_row]) for i in range(0, len(groups), per_row)]


def colon(fingerprint: str) -> str:
    """``52:1E:...``: how WeeChat, Irssi, ZNC and openssl print it."""
    digits = normalize(fingerprint).upper()
    return ":".join(digits[i : i + 2] for i in range(0, len(digits), 2))
