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
CORE_MAY_IMPORT = (
    "chatroom.irc",
    "chatroom.server.core",
    "chatroom.server.store.base",
    "chatroom.server.auth.scram",
    "chatroom.server.auth.throttle",
    "chatroom.server.auth.passwords",
)
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
                assert name.startswith(CORE_MAY_IMPORT), (
                    f"{path.name} imports {name}: the core may use only {CORE_MAY_IMPORT}"
                )


def test_pure_helpers_the_core_uses_do_no_io() -> None:
    """The record types and the SCRAM/throttle logic the core calls must be pure too."""
    for module in CORE_MAY_IMPORT[2:]:
        path = SRC.parent / (module.replace(".", "/") + ".py")
        for name in _imports(path.parent)[path]:
            assert name.split(".")[0] not in IO_MODULES, f"{module} imports {name}"


@pytest.mark.parametrize("package", ["client", "tui"])
def test_clients_never_import_the_server(package: str) -> None:
    assert (SRC / package).is_dir(), f"chatroom.{package} is missing"
    for path, names in _imports(SRC / package).items():
        for name in names:
            assert not name.startswith("chatroom.server"), f"{path.name} imports {name}"


def _names_imported(path: Path) -> set[str]:
    """Every module ``path`` imports, anywhere (in functions, under TYPE_CHECKING), with
    ``from package import module`` counted as ``package.module``."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            names.add("." * node.level + (node.module or ""))
    return names


def test_textual_screens_never_import_the_app() -> None:
    """Screens post messages up to the app and get attributes and calls down from it; a
    screen that imported the app would make the import cycle this rule removed."""
    screens = sorted((SRC / "tui" / "screens").glob("*.py"))
    assert len(screens) >= 3
    for path in screens:
        for name in _names_imported(path):
            assert not name.startswith("."), f"{path.name}: relative import {name}"
            assert name != "chatroom.tui.app", f"{path.name} imports the app"
            assert not name.startswith("chatroom.tui.app."), f"{path.name} imports {name}"
