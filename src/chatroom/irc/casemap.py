"""Case mappings for nick and channel names (ISUPPORT CASEMAPPING).

``rfc1459`` treats ``[]\\~`` as the upper case of ``{}|^`` (a Scandinavian legacy);
``ascii`` folds only A-Z. Folding is one ``str.translate`` with a table built once,
because names are folded on every lookup.
"""

from __future__ import annotations

import string
from collections.abc import Callable
from enum import StrEnum

__all__ = ["CaseMapping", "casefold", "casefolder"]


class CaseMapping(StrEnum):
    """The value is the ISUPPORT CASEMAPPING token."""

    ASCII = "ascii"
    RFC1459 = "rfc1459"


_ASCII_TABLE = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)
_RFC1459_TABLE = str.maketrans(string.ascii_uppercase + "[]\\~", string.ascii_lowercase + "{}|^")


def _fold_ascii(name: str) -> str:
    return name.translate(_ASCII_TABLE)


def _fold_rfc1459(name: str) -> str:
    return name.translate(_RFC1459_TABLE)


_FOLDERS: dict[CaseMapping, Callable[[str], str]] = {
    CaseMapping.ASCII: _fold_ascii,
    CaseMapping.RFC1459: _fold_rfc1459,
}


def casefolder(mapping: CaseMapping) -> Callable[[str], str]:
    """The folding function for ``mapping``; fetch once and keep it on hot paths."""
    return _FOLDERS[mapping]


def casefold(name: str, mapping: CaseMapping) -> str:
    """Fold ``name`` so equal names under ``mapping`` compare equal."""
    return _FOLDERS[mapping](name)
