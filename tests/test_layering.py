"""The import rules that keep the layers apart (docs/architecture.md).

- ``chatroom.irc`` is the pure IRC language: standard library only.
- ``chatroom.server.core`` is sans-I/O: no asyncio, sockets, TLS, SQLite or threads.
- clients (``chatroom.client``, ``chatroom.tui``) never import the server.
- command modules (``chatroom.server.core.commands``) never import each other: what two
  of them share lives in a core module both import. Only the package's ``__init__``
  imports them all, which is what registers the handlers.
- command modules never import ``World`` (``chatroom.server.core.world``): a handler gets
  a ``Context`` (core/context.py), and mypy holds it to what the context offers. Nor do
  they import the modules ``World`` is written in (``WORLD_PARTS``: world.py binds their
  functions as its methods), which are as much ``World`` as world.py itself.
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
COMMANDS = "chatroom.server.core.commands"
WORLD = "chatroom.server.core.world"
WORLD_PARTS = tuple(
    f"chatroom.server.core.{name}"
    for name in ("connections", "fan_out", "loading", "shell_requests", "ticking")
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


def _modules_named(source: str, package: str) -> set[str]:
    """Every module an import in ``source`` may load, relative imports resolved from
    ``package``. ``from a import b`` counts as ``a`` and ``a.b``: ``b`` may be a module."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # from . / from .. : counted from the importing module's package
                parts = package.split(".")
                anchor = ".".join(parts[: len(parts) - node.level + 1])
                base = f"{anchor}.{base}" if base else anchor
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def _command_modules_imported(source: str, package: str = COMMANDS) -> list[str]:
    """The command modules (or the commands package) that ``source`` imports."""
    return sorted(
        name
        for name in _modules_named(source, package)
        if name == COMMANDS or name.startswith(COMMANDS + ".")
    )


def test_command_modules_never_import_each_other() -> None:
    package = SRC / "server" / "core" / "commands"
    modules = [path for path in sorted(package.glob("*.py")) if path.name != "__init__.py"]
    assert len(modules) > 10, "the command modules are not where this test looks"
    for path in modules:
        imported = _command_modules_imported(path.read_text())
        assert not imported, (
            f"commands/{path.name} imports {imported}: move what they share to a core module"
        )


@pytest.mark.parametrize(
    "line",
    [
        "from chatroom.server.core.commands.registration import try_register",
        "from chatroom.server.core.commands import rename",
        "from chatroom.server.core import commands",
        "import chatroom.server.core.commands.channels",
        "from . import multiline",
        "from .nickserv import SERVICE",
        "from ..commands.moderation import duration_and_reason",
    ],
)
def test_the_command_import_check_sees_every_form_of_import(line: str) -> None:
    assert _command_modules_imported(line), line


def test_the_command_import_check_allows_core_modules() -> None:
    source = (
        "from chatroom.server.core import replay, redirects\n"
        "from chatroom.server.core.joining import join_channel\n"
        "from ..welcome import try_register\n"
        "from chatroom.server.core.nickserv_service import SERVICE\n"
    )
    assert _command_modules_imported(source) == []


def _world_imports(source: str, package: str = COMMANDS) -> list[str]:
    """The imports in ``source`` that reach ``World``: its module or one of the modules
    it is written in (in any form), or any name ``World`` brought in from anywhere (a
    re-export would be the same hole)."""
    found = sorted(
        name
        for name in _modules_named(source, package)
        if any(name == part or name.startswith(part + ".") for part in (WORLD, *WORLD_PARTS))
    )
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            found.extend(f"{node.module or '.'}.World" for a in node.names if a.name == "World")
    return found


def test_command_modules_never_import_the_world() -> None:
    """Handlers see the core through ``Context``; ``World`` (its inputs, queues, pending
    answers and admission tables) is not theirs to reach, even for a type annotation."""
    package = SRC / "server" / "core" / "commands"
    modules = sorted(package.glob("*.py"))
    assert len(modules) > 10, "the command modules are not where this test looks"
    for path in modules:
        imported = _world_imports(path.read_text())
        assert not imported, f"commands/{path.name} imports {imported}: take a Context instead"


@pytest.mark.parametrize(
    "line",
    [
        "from chatroom.server.core.world import World",
        "from chatroom.server.core.world import Stats",
        "from chatroom.server.core import world",
        "import chatroom.server.core.world",
        "import chatroom.server.core.world as w",
        "from ..world import World",
        "from .. import world",
        "from chatroom.server.core.somewhere import World",
        "if TYPE_CHECKING:\n    from chatroom.server.core.world import World",
        "def f() -> None:\n    from chatroom.server.core.world import World",
        "from chatroom.server.core.connections import close_user",
        "from chatroom.server.core import fan_out",
        "from ..shell_requests import persist",
    ],
)
def test_the_world_import_check_sees_every_form_of_import(line: str) -> None:
    assert _world_imports(line), line


def test_the_world_import_check_allows_the_context() -> None:
    source = (
        "from chatroom.server.core.context import Context\n"
        "from chatroom.server.core import worldwide, rooms\n"
        "from chatroom.server.core.nicks import NickRegistry\n"
    )
    assert _world_imports(source) == []


def test_the_parts_of_world_are_the_modules_it_binds_methods_from() -> None:
    """``WORLD_PARTS`` stays the list of modules ``World`` is written in: every
    ``method = module.function`` in its class body names one, and each one is used."""
    tree = ast.parse((SRC / "server" / "core" / "world.py").read_text())
    world = next(
        node for node in tree.body if isinstance(node, ast.ClassDef) and node.name == "World"
    )
    bound = {
        f"chatroom.server.core.{node.value.value.id}"
        for node in world.body
        if isinstance(node, ast.Assign)
        and isinstance(node.value, ast.Attribute)
        and isinstance(node.value.value, ast.Name)
    }
    assert bound == set(WORLD_PARTS)
