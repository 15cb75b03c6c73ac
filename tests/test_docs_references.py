"""The docs name only commands, options, files and figures that are true of the code.

Commands and modules get renamed and bounds change as fixes land; a doc that still names
the old one sends a reader to something that is not there. These checks are cheap and
catch the whole class: every `chatroom SUB [SUBSUB] --option` written in the docs is
accepted by the real parser and every option is named somewhere; every source or test path
they name exists; every ``module.CONSTANT`` they cite is defined, with the figure given
before it; every IRC verb, capability and NickServ/ChanServ subcommand the server has is in
docs/commands.md; environment variables are read; the login throttle table and the
defaults written next to setting names are the code's.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

from chatroom.cli import build_parser
from chatroom.server.core.dispatch import load_commands

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
# Where a path in the docs may be relative to.
PATH_BASES = [
    ROOT,
    ROOT / "src",
    ROOT / "src" / "chatroom",
    ROOT / "src" / "chatroom" / "server",
    ROOT / "src" / "chatroom" / "server" / "core",
    ROOT / "tests",
]


def _lines(document: Path) -> list[tuple[int, str]]:
    """(line number, text) of every code span and every line of a code block."""
    found: list[tuple[int, str]] = []
    in_block = False
    for number, line in enumerate(document.read_text().splitlines(), 1):
        if line.startswith("```"):
            in_block = not in_block
            continue
        if in_block:
            found.append((number, line.split(" #")[0]))
        else:
            found.extend((number, span) for span in re.findall(r"`([^`]*)`", line))
    return found


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _options(parser: argparse.ArgumentParser) -> set[str]:
    return {option for action in parser._actions for option in action.option_strings}


def _cli_mentions() -> list[tuple[str, int, list[str], str]]:
    """(document, line, [subcommand, sub-subcommand?], the rest) of each `chatroom ...`."""
    # `chatroom` where a command starts: a span's or line's start, after a path or a pipe
    # (not a database named chatroom: `createdb --owner chatroom chatroom`).
    pattern = re.compile(
        r"(?:^\s*|bin/|[|;&(]\s*|\$ )chatroom +([a-z][-a-z]*)(?: +([a-z][-a-z]*))?(.*)"
    )
    mentions = []
    for document in DOCUMENTS:
        for number, text in _lines(document):
            for match in pattern.finditer(text):
                words = [w for w in (match.group(1), match.group(2)) if w]
                mentions.append((document.name, number, words, match.group(3)))
    return mentions


def test_every_chatroom_command_and_option_in_the_docs_exists() -> None:
    parser = build_parser()
    wrong = []
    mentions = _cli_mentions()
    for document, number, words, rest in mentions:
        where = f"{document}:{number}: chatroom {' '.join(words)}"
        top = _subparsers(parser)
        if words[0] not in top:
            wrong.append(f"{where}: no subcommand {words[0]!r}")
            continue
        command = top[words[0]]
        inner = _subparsers(command)
        if inner and len(words) > 1:
            if words[1] not in inner:
                wrong.append(f"{where}: no subcommand {words[1]!r}")
                continue
            command = inner[words[1]]
        elif len(words) > 1:
            rest = f"{words[1]}{rest}"
        for option in re.findall(r"(?<![\w-])(--?[a-zA-Z][-a-z0-9]*)", rest):
            if option not in _options(command):
                wrong.append(f"{where}: no option {option}")
    assert not wrong, "\n".join(wrong)
    named = {tuple(words) for _, _, words, _ in mentions}
    assert ("admin", "backup") in named  # the pattern does find them
    assert ("serve",) in named


def test_every_admin_subcommand_is_named_in_the_docs() -> None:
    """`chatroom admin --help` lists them; a reader of the docs should meet each one."""
    named = {tuple(words) for _, _, words, _ in _cli_mentions()}
    text = "\n".join(d.read_text() for d in DOCUMENTS)
    admin = _subparsers(_subparsers(build_parser())["admin"])
    missing = [
        name
        for name in admin
        if ("admin", name) not in named and not re.search(rf"`{re.escape(name)}`", text)
    ]
    assert not missing, f"chatroom admin subcommands the docs never name: {missing}"


def test_every_option_of_every_chatroom_command_is_named_in_the_docs() -> None:
    """`--help` is not the only place a user learns what a command takes."""
    text = "\n".join(d.read_text() for d in DOCUMENTS if d.name != "benchmarks.md")

    def unnamed(parser: argparse.ArgumentParser, path: str) -> list[str]:
        found = []
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, inner in action.choices.items():
                    found += unnamed(inner, f"{path} {name}")
            for option in action.option_strings:
                named = re.search(rf"{re.escape(option)}(?![\w-])", text)
                if option.startswith("--") and option != "--help" and not named:
                    found.append(f"{path} {option}")
        return found

    missing = unnamed(build_parser(), "chatroom")
    assert not missing, f"options the docs never name: {missing}"


def test_every_source_path_named_in_the_docs_exists() -> None:
    pattern = re.compile(
        r"(?<![\w/.-])([A-Za-z0-9_.-]+(?:/[A-Za-z0-9_.-]+)+\.(?:py|md|toml|js|css|html|service))\b"
    )
    missing = []
    # benchmarks.md is a record: it names files that earlier rounds deleted, as deleted.
    for document in [d for d in DOCUMENTS if d.name != "benchmarks.md"]:
        text = document.read_text()
        for match in pattern.finditer(text):
            path = match.group(1)
            if path.startswith("./"):  # a file of the operator's, e.g. ./chatroom.toml
                continue
            if not any((base / path).exists() for base in PATH_BASES):
                line = text[: match.start()].count("\n") + 1
                missing.append(f"{document.name}:{line}: {path}")
    assert not missing, "\n".join(missing)


def test_every_module_constant_cited_in_the_docs_is_defined_there() -> None:
    """`readmarkers.MAX_TARGETS`, `store.history.TOUCHED_TARGETS`: the figure the docs give
    comes from that constant, so the constant must still be there."""
    pattern = re.compile(r"`([a-z_]+(?:\.[a-z_]+)*)\.([A-Z][A-Z0-9_]+)`")
    package = ROOT / "src" / "chatroom"
    cited, missing = 0, []
    for document in DOCUMENTS:
        for match in pattern.finditer(document.read_text()):
            module, constant = match.group(1).replace(".", "/") + ".py", match.group(2)
            cited += 1
            sources = [p.read_text() for p in package.glob(f"**/{module}")]
            if not any(re.search(rf"^{constant}\b", s, re.M) for s in sources):
                missing.append(f"{document.name}: {match.group(0)}")
    assert not missing, "\n".join(missing)
    assert cited >= 5  # the pattern does find them


@pytest.mark.parametrize("verb", sorted(load_commands()))
def test_every_irc_command_the_server_handles_is_in_commands_md(verb: str) -> None:
    assert re.search(rf"`{verb}\b", (ROOT / "docs" / "commands.md").read_text()), verb


def test_every_environment_variable_in_the_docs_is_read_somewhere() -> None:
    """`CHATROOM_LISTEN_PORT` is a setting's; the few others must be read by the code."""
    from chatroom.config import SETTINGS, env_name

    settings = {env_name(setting.key) for setting in SETTINGS}
    code = "\n".join(
        p.read_text() for folder in ("src", "tests") for p in (ROOT / folder).glob("**/*.py")
    )
    unknown = set()
    for document in [*DOCUMENTS, ROOT / "chatroom.example.toml"]:
        for name in re.findall(r"\bCHATROOM_[A-Z0-9_]*[A-Z0-9]", document.read_text()):
            if name not in settings and f'"{name}"' not in code:
                unknown.add(f"{document.name}: {name}")
    assert not unknown, sorted(unknown)


def test_every_capability_the_server_offers_is_in_commands_md() -> None:
    from chatroom.server.core.caps import CAPABILITIES

    doc = (ROOT / "docs" / "commands.md").read_text()
    missing = [cap for cap in CAPABILITIES if f"`{cap}`" not in doc]
    assert not missing, f"capabilities docs/commands.md does not describe: {missing}"
    # "CAP LS offers exactly these": the table names no capability the server lacks.
    table = doc.split("### Capabilities", 1)[1].split("\n\n", 3)[2]
    named = {
        cap
        for row in table.splitlines()
        for cap in re.findall(r"`([a-z/-]+)`", row.split(" | ")[0])
    }
    assert named - set(CAPABILITIES) == {"sts"}  # sts: only with a configured certificate


@pytest.mark.parametrize("module", ["nickserv", "chanserv"])
def test_every_service_subcommand_is_in_its_section_of_commands_md(module: str) -> None:
    """NickServ and ChanServ answer HELP from their own table; the docs follow it."""
    import importlib

    load_commands()
    service = importlib.import_module(f"chatroom.server.core.commands.{module}").SERVICE
    doc = (ROOT / "docs" / "commands.md").read_text()
    heading = re.search(rf"^(#+) {service.name}\b.*$", doc, re.M)
    assert heading, f"docs/commands.md has no section for {service.name}"
    rest = doc[heading.end() :]
    end = re.search(rf"^#{{1,{len(heading.group(1))}}} ", rest, re.M)
    text = rest[: end.start() if end else None]
    missing = [name for name in service.subcommands if not re.search(rf"`{name}\b", text)]
    assert not missing, f"{service.name} subcommands docs/commands.md omits: {missing}"


def test_the_figure_before_a_cited_constant_is_its_value() -> None:
    """ "at most 1000 targets per account (`readmarkers.MAX_TARGETS`)": when the constant
    changes, the figure in front of it must change too."""
    import importlib

    pattern = re.compile(r"`([a-z_]+(?:\.[a-z_]+)*)\.([A-Z][A-Z0-9_]+)`")
    number = re.compile(r"(\d{1,3}(?:[ ,]\d{3})+|\d+)\D*$")
    package = ROOT / "src" / "chatroom"
    checked, wrong = 0, []
    for document in DOCUMENTS:
        text = document.read_text()
        for match in pattern.finditer(text):
            before = text[max(0, match.start() - 60) : match.start()].split("`")[-1]
            figure = number.search(before.split(".")[-1])
            if figure is None:
                continue
            module = match.group(1).replace(".", "/") + ".py"
            for path in package.glob(f"**/{module}"):
                dotted = ".".join(path.relative_to(ROOT / "src").with_suffix("").parts)
                value = getattr(importlib.import_module(dotted), match.group(2), None)
                if isinstance(value, int | float):
                    checked += 1
                    if float(re.sub(r"[ ,]", "", figure.group(1))) != value:
                        wrong.append(f"{document.name}: {figure.group(1)} but {match.group(0)}")
    assert not wrong, "\n".join(wrong)
    assert checked >= 5  # the pattern does find them


def test_the_login_throttle_table_in_security_md_is_the_policy_in_the_code() -> None:
    from chatroom.server.auth.throttle import ThrottlePolicy

    policy = ThrottlePolicy()
    doc = (ROOT / "docs" / "security.md").read_text()
    rows = dict(re.findall(r"^\| (.+?) \| (.+?) \|$", doc, re.M))

    def figures(row: str) -> list[float]:
        return [float(f.replace(" ", "")) for f in re.findall(r"\d{1,3}(?: \d{3})+|\d+", row)]

    assert figures(rows["Free consecutive failures"]) == [policy.free_failures]
    assert figures(rows[f"Wait after the {policy.free_failures}rd failure"])[0] == (
        policy.base_delay
    )
    assert figures(rows["Maximum wait"])[0] == policy.max_delay
    assert figures(rows["Counter forgotten after no failures for"])[0] == policy.forget_after
    known_good = rows["Known-good pair (address group that logged into the account)"]
    assert figures(known_good) == [policy.trusted_for / 86400]
    reserve = rows[
        f"Reserve for clean address groups (no failure in {policy.clean_after / 3600:g} h)"
    ]
    assert figures(reserve) == [policy.reserve, policy.reserve_every / 60]
    assert figures(rows["Tracked entries"]) == [policy.max_entries]


def test_a_default_the_docs_give_next_to_a_setting_is_its_default() -> None:
    """ "`connections_per_address` (16)", "`cluster.snapshot_every` entries (50,000)": the
    figure right after a setting's name is its default in config.SETTINGS."""
    from chatroom.config import SETTINGS

    by_key = {setting.key: setting for setting in SETTINGS}
    by_name: dict[str, list[object]] = {}
    for setting in SETTINGS:
        by_name.setdefault(setting.key.split(".", 1)[1], []).append(setting.default)
    pattern = re.compile(
        r"`([a-z_0-9]+(?:\.[a-z_0-9]+)?)`(?:,| \(|\s[a-z ]{0,25}\()\s?(?:default:? )?"
        r"(\d{1,3}(?:[ ,]\d{3})+|\d+)\b"
    )
    checked, wrong = 0, []
    for document in DOCUMENTS:
        if document.name == "benchmarks.md":  # a record of configurations measured
            continue
        for match in pattern.finditer(document.read_text()):
            key, figure = match.group(1), int(re.sub(r"[ ,]", "", match.group(2)))
            if key in by_key:
                default = by_key[key].default
            elif len(by_name.get(key, [])) == 1:
                default = by_name[key][0]
            else:
                continue  # a core-only field (timeouts.answer) or not a setting
            checked += 1
            if figure != default:
                wrong.append(f"{document.name}: {match.group(0)!r}, default {default}")
    assert not wrong, "\n".join(wrong)
    assert checked >= 10  # the pattern does find them
