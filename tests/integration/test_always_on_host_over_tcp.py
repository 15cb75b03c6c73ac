"""The host of an always-on user brought back by a restart, against a real server: a
placeholder while it has no device, then its first device's host, announced with CHGHOST
to clients with the chghost capability."""

from __future__ import annotations

from pathlib import Path

from tests.integration.moderation_support import PASSWORD, config_with_accounts
from tests.realserver import Client, ServerThread, Wire, guest_wire


def test_an_always_on_user_back_from_a_restart_gets_its_devices_host_with_chghost(
    tmp_path: Path, clients: list[Client], wires: list[Wire]
) -> None:
    config = config_with_accounts(tmp_path, "alice")
    first = ServerThread(config).start()
    try:
        alice = Client(first.port, "alice", PASSWORD, sasl_login="alice")
        clients.append(alice)
        alice.wait_type("welcome")
        alice.conn.join("#garden")
        alice.wait_for(lambda e: e.type == "join" and e.target == "#garden")
        alice.conn.privmsg("NickServ", "SET ALWAYS-ON ON")
        alice.wait_for(lambda e: e.type == "privnotice" and "ALWAYS-ON is now ON" in str(e))
    finally:
        first.stop()
    second = ServerThread(config).start()
    try:
        bob = guest_wire(second.port, wires, "bob", "chghost")
        bob.write("JOIN #garden", "WHO alice")
        assert any("always-on.invalid" in line for line in bob.until(" 315 "))
        back = Client(second.port, "alice", PASSWORD, sasl_login="alice")
        clients.append(back)
        welcome = back.wait_type("welcome")
        assert welcome.arguments[0].endswith("alice!~alice@127.0.0.1")
        changed = bob.until(" CHGHOST ")[-1]
        assert changed == ":alice!~alice@always-on.invalid CHGHOST ~alice 127.0.0.1"
        bob.write("WHO alice")
        assert any(" 352 bob #garden ~alice 127.0.0.1 " in line for line in bob.until(" 315 "))
    finally:
        second.stop()
