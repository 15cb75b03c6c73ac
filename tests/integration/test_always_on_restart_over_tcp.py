"""An always-on user brought back by a restart, against a real server: its host is a
placeholder while it has no device, then its first device's, announced with CHGHOST to
clients with the chghost capability; after a crash with its device connected, it is
replayed only what was said after the server came back."""

from __future__ import annotations

from pathlib import Path

from tests.integration.devices_support import serving
from tests.integration.moderation_support import config_with_accounts
from tests.integration.restart_support import (
    join_garden,
    running,
    signed_in,
    turn_always_on,
    welcomed,
)
from tests.realserver import Client, Wire, guest_wire


def test_an_always_on_user_back_from_a_restart_gets_its_devices_host_with_chghost(
    tmp_path: Path, clients: list[Client], wires: list[Wire]
) -> None:
    config = config_with_accounts(tmp_path, "alice")
    with running(config) as first:
        alice = welcomed(first.port, clients)
        join_garden(alice)
        turn_always_on(alice)
    with running(config) as second:
        bob = guest_wire(second.port, wires, "bob", "chghost")
        bob.write("JOIN #garden", "WHO alice")
        assert any("always-on.invalid" in line for line in bob.until(" 315 "))
        back = signed_in(second.port, clients)
        welcome = back.wait_type("welcome")
        assert welcome.arguments[0].endswith("alice!~alice@127.0.0.1")
        changed = bob.until(" CHGHOST ")[-1]
        assert changed == ":alice!~alice@always-on.invalid CHGHOST ~alice 127.0.0.1"
        bob.write("WHO alice")
        assert any(" 352 bob #garden ~alice 127.0.0.1 " in line for line in bob.until(" 315 "))


def test_after_a_crash_a_connected_always_on_user_is_replayed_only_what_came_after(
    tmp_path: Path, clients: list[Client], wires: list[Wire]
) -> None:
    config = config_with_accounts(tmp_path, "alice", "carol")  # the store serve runs on
    with serving(tmp_path, config) as first:
        alice = welcomed(first.irc_port, clients)
        turn_always_on(alice)
        join_garden(alice)
        bob = guest_wire(first.irc_port, wires, "bob")
        bob.write("JOIN #garden", "PRIVMSG #garden :seen live")
        alice.wait_for(lambda e: e.type == "pubmsg" and e.arguments == ["seen live"])
        # "kept" is said once the history committed, and so everything written before it
        carol = welcomed(first.irc_port, clients, "carol")
        carol.conn.privmsg("admin", "a barrier")
        carol.wait_for(lambda e: e.type == "privnotice" and "was kept" in e.arguments[0])
        first.proc.kill()  # a crash, with alice connected
        first.proc.wait(timeout=15)
    with serving(tmp_path, config) as second:
        bob = guest_wire(second.irc_port, wires, "bob")
        bob.write("JOIN #garden", "PRIVMSG #garden :said after the restart", "PING sent")
        bob.until("PONG")
        back = signed_in(second.irc_port, clients)
        back.wait_for(lambda e: e.type == "privnotice" and "said after the restart" in str(e))
        back.pump(0.5)
        replayed = [
            e.arguments[0]
            for e in back.events
            if e.type == "privnotice" and e.arguments and e.arguments[0].startswith("[")
        ]
        assert [line.split("> ", 1)[1] for line in replayed] == ["said after the restart"]


def _always_on_with_vhost(port: int, clients: list[Client]) -> Client:
    """alice, always-on in #garden, given the host ``cloak.example`` by the operator;
    returns once the operator is told it is done (after the commit)."""
    alice = welcomed(port, clients)
    turn_always_on(alice)
    join_garden(alice)
    oper = welcomed(port, clients, "admin")
    oper.conn.send_raw("CHGHOST alice cloak.example")
    oper.wait_for(lambda e: e.type == "privnotice" and "Changed the displayed host" in str(e))
    return alice


def _host_seen_by_bob(port: int, wires: list[Wire]) -> list[str]:
    bob = guest_wire(port, wires, "bob", "chghost")
    bob.write("JOIN #garden", "WHO alice")
    return [line for line in bob.until(" 315 ") if " 352 " in line]


def test_an_operators_vhost_on_an_always_on_user_survives_a_restart(
    tmp_path: Path, clients: list[Client], wires: list[Wire]
) -> None:
    config = config_with_accounts(tmp_path, "alice")
    with running(config) as first:
        alice = _always_on_with_vhost(first.port, clients)
        alice.close()  # no device left: it stays, and is saved as it is
    with running(config) as second:
        [who] = _host_seen_by_bob(second.port, wires)
        assert " 352 bob #garden ~alice cloak.example " in who
        back = signed_in(second.port, clients)
        welcome = back.wait_type("welcome")
        assert welcome.arguments[0].endswith("alice!~alice@cloak.example")  # kept


def test_an_operators_vhost_on_an_always_on_user_survives_kill_9(
    tmp_path: Path, clients: list[Client], wires: list[Wire]
) -> None:
    config = config_with_accounts(tmp_path, "alice")
    with serving(tmp_path, config) as first:
        _always_on_with_vhost(first.irc_port, clients)  # still connected
        first.proc.kill()
        first.proc.wait(timeout=15)
    with serving(tmp_path, config) as second:
        [who] = _host_seen_by_bob(second.irc_port, wires)
        assert " 352 bob #garden ~alice cloak.example " in who
