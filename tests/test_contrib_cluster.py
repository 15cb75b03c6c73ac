"""The examples for running a network (``contrib/cluster/compose.yaml`` and the systemd
template ``contrib/systemd/chatroom@.service``) say what the real CLI and configuration
accept: each command parses with ``chatroom``'s own parser, and each node's settings (the
compose file's environment, the TOML file the template's comment describes) load into a
node of one network. No Docker or systemd here: the files are read as they are."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from chatroom import config as cfg
from chatroom.cli import build_parser, serve_flags
from tests.test_systemd_unit import TEMPLATE, _read

CONTRIB = Path(__file__).parent.parent / "contrib"
COMPOSE = (CONTRIB / "cluster" / "compose.yaml").read_text()
SECRET = "s" * 64  # what `openssl rand -hex 32` gives, in length


def _compose_env() -> dict[str, str]:
    """The nodes' ``environment`` block, with ``${VAR:-default}`` taking its default and
    ``${VAR:?message}`` (required) a value the operator would have set."""
    block = COMPOSE.split("  environment:\n", 1)[1].split("\n  depends_on:", 1)[0]
    env = {}
    for line in block.splitlines():
        if line.strip().startswith("#"):
            continue
        key, _, value = line.strip().partition(": ")
        value = re.sub(r"\$\{[A-Z_]+:-([^}]*)\}", r"\1", value)
        env[key] = re.sub(r"\$\{[A-Z_]+:\?[^}]*\}", SECRET, value)
    return env


def _node_commands() -> dict[str, list[str]]:
    found = re.findall(r"\n  (node-\w+):\n(?:    .*\n)*?    command: (\[.*\])", COMPOSE)
    return {service: json.loads(command) for service, command in found}


def test_the_compose_file_runs_three_nodes_of_one_network_the_cli_accepts() -> None:
    commands = _node_commands()
    assert set(commands) == {"node-a", "node-b", "node-c"}
    nodes = set()
    for command in commands.values():
        args = build_parser().parse_args(command)
        assert args.command == "serve"
        config = cfg.load(env=_compose_env(), flags=serve_flags(args))
        assert config.cluster_url == "redis://redis:6379/0"  # the compose service's name
        assert config.store_url.startswith("postgresql://chatroom:change-me@postgres:5432/")
        assert config.data_dir == Path("/var/lib/chatroom/data")
        assert config.listen.host == "0.0.0.0"
        # Each container publishes the default ports; the host side differs per node.
        assert (config.listen.port, config.tls.port, config.listen.http_port) == (6667, 6697, 8080)
        nodes.add(config.node)
    assert nodes == {"a", "b", "c"}
    named = {**_compose_env(), "CHATROOM_HTTP_HOSTNAMES": "chat.example.org"}  # as commented
    assert cfg.load(env=named).http.hostnames == ("chat.example.org",)


@pytest.mark.parametrize(
    "usage", re.findall(r"docker compose run --rm node-a (.+?)\s*(?:#|\n)", COMPOSE)
)
def test_the_compose_file_s_admin_commands_parse(usage: str) -> None:
    args = build_parser().parse_args(usage.split())
    assert args.command == "admin"


def test_the_template_s_node_loads_the_toml_file_its_comment_describes(tmp_path: Path) -> None:
    unit = _read(TEMPLATE)
    command = unit["Service"]["ExecStart"].replace("%i", "a").split()[1:]
    toml = tmp_path / "a.toml"
    toml.write_text(
        '[store]\nurl = "postgresql://chat@10.0.0.6/chat"\n'
        f'[cluster]\nurl = "redis://10.0.0.5:6379/0"\nsecret = "{SECRET}"\n'
    )
    command[command.index("/etc/chatroom/a.toml")] = str(toml)
    args = build_parser().parse_args(command)
    data_dir = unit["Service"]["Environment"].replace("%i", "a").split("=", 1)
    config = cfg.load(args.config, env=dict([data_dir]), flags=serve_flags(args))
    assert config.node == "a"
    assert config.cluster_url == "redis://10.0.0.5:6379/0"
    assert config.data_dir == Path("/var/lib/chatroom/a")
    for key in ("[store] url", "[cluster] url", "[cluster] secret"):
        assert key in TEMPLATE.read_text()  # what the comment tells the operator to write


def test_every_setting_the_compose_file_offers_in_a_comment_loads() -> None:
    """Uncommenting one of the nodes' commented ``CHATROOM_*`` lines gives a valid node."""
    block = COMPOSE.split("  environment:\n", 1)[1].split("\n  depends_on:", 1)[0]
    offered = re.findall(r"# (CHATROOM_[A-Z_]+): (\S+)", block)
    assert {name for name, _value in offered} >= {
        "CHATROOM_HTTP_HOSTNAMES",
        "CHATROOM_HTTP_METRICS_FROM",
    }
    for name, value in offered:
        cfg.load(env={**_compose_env(), name: value})  # a bad value raises ConfigError
