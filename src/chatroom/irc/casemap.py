"""Case mappings for nick and channel names (ISUPPORT CASEMAPPING).

``rfc1459`` treats ``[]\\~`` as the upper case of ``{}|^`` (a Scandinavian legacy);
``ascii`` folds only A-Z. Folding is one ``str.translate`` with a table built once,
because names are folded on every lookup; the names folded last are remembered, because
``str.translate`` walks a dict per character (~300 ns for a room name) and the same few
names (the room a line goes to, its sender) are folded for every message.
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


# Bounded: at most this many names of at most this length are remembered per mapping
# (about 200 kB at worst), and the memory is simply cleared when full.
_REMEMBERED = 1024
_REMEMBERED_LENGTH = 64
_ascii_folded: dict[str, str] = {}
_rfc1459_folded: dict[str, str] = {}
# Two module-level functions, not one made per table by a factory: a cluster snapshot
# pickles the world with its fold, and pickle takes a function only by its name.


def _fold_ascii(name: str) -> str:
    folded = _ascii_folded.get(name)
    if folded is None:
        folded = name.translate(_ASCII_TABLE)
        if len(name) <= _REMEMBERED_LENGTH:
            if len(_ascii_folded) >= _REMEMBERED:
                _ascii_folded.clear()
            _ascii_folded[name] = folded
    return folded


def _fold_rfc1459(name: str) -> str:
    folded = _rfc1459_folded.get(name)
    if folded is None:
        folded = name.translate(_RFC1459_TABLE)
        if len(name) <= _REMEMBERED_LENGTH:
            if len(_rfc1459_folded) >= _REMEMBERED:
                _rfc1459_folded.clear()
            _rfc1459_folded[name] = folded
    return folded


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
