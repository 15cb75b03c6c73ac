"""The import rules that keep the layers apart (docs/architecture.md).

- ``chatroom.irc`` is the pure IRC language: standard library only.
- ``chatroom.server.core`` is sans-I/O: no asyncio, sockets, TLS, SQLite or threads.
- clients (``chatroom.client``, ``chatroom.tui``) never import the server.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src" / "chatroom"
IO_MODULES = {"asyncio", "socket", "ssl", "sqlite3", "threading", "selectors", "subprocess"}


def _imports(package: Path) -> dict[Path, set[str]]:
    found: dict[Path, set[str]] = {}
    for path in sorted(package.rglob("*.py")):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module)
        found[path] = names
    return found


def test_irc_package_imports_only_the_standard_library() -> None:
    for path, names in _imports(SRC / "irc").items():
        for name in names:
            top = name.split(".")[0]
            allowed = top in sys.stdlib_module_names or name.startswith("chatroom.irc")
            assert allowed, f"{path.name} imports {name}"
            assert top not in IO_MODULES, f"{path.name} imports I/O module {name}"


def test_server_core_does_no_io() -> None:
    for path, names in _imports(SRC / "server" / "core").items():
        for name in names:
            top = name.split(".")[0]
            assert top not in IO_MODULES, f"{path.name} imports I/O module {name}"
            if top == "chatroom":
                assert name.startswith(("chatroom.irc", "chatroom.server.core")), (
                    f"{path.name} imports {name}: the core may use only irc and itself"
                )


@pytest.mark.parametrize("package", ["client", "tui"])
def test_clients_never_import_the_server(package: str) -> None:
    if not (SRC / package).exists():
        pytest.skip(f"chatroom.{package} is not written yet")
    for path, names in _imports(SRC / package).items():
        for name in names:
            assert not name.startswith("chatroom.server"), f"{path.name} imports {name}"
