"""The parser fuzz target's corpus, replayed in every test run without atheris.

Each file under ``fuzz/corpus/`` is an input worth keeping: a seed that reaches a corner of
the framer or parser, or a crash the fuzzer once found. Replaying them through the very
function atheris calls keeps those corners covered and those bugs fixed.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path
from typing import cast

import pytest

FUZZ_DIR = Path(__file__).resolve().parents[2] / "fuzz"
CORPUS = sorted(p for p in (FUZZ_DIR / "corpus").iterdir() if p.is_file())


def _load_check() -> Callable[[bytes], None]:
    """The target is a script, not a package module, so it is loaded from its path."""
    spec = importlib.util.spec_from_file_location("fuzz_parser", FUZZ_DIR / "fuzz_parser.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return cast("Callable[[bytes], None]", module.check)


check = _load_check()


def test_corpus_is_not_empty() -> None:
    assert len(CORPUS) >= 5


@pytest.mark.parametrize("path", CORPUS, ids=[p.name for p in CORPUS])
def test_corpus_input_keeps_every_parser_promise(path: Path) -> None:
    check(path.read_bytes())


@pytest.mark.parametrize(
    "data",
    [b"", b"\n", b"\r", b"@", b":", b" ", b"\x00", b"A" * 70 + b"\n" + b"PING\n", b"\xff" * 600],
)
def test_degenerate_input_keeps_every_parser_promise(data: bytes) -> None:
    check(data)
