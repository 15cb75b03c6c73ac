"""An operator on one node reaches users on the others: a server ban or a KILL given on
node a ends the user's connection on node b at once (a push through the network, not a
poll: the bound below is loose only because this machine is shared), the rooms on node c
see the user quit, and a banned account is refused on every node afterwards."""

from __future__ import annotations

import signal

from tests.cluster.support import PASSWORD, Network, closed, eventually, guest, heard, join, login
from tests.realserver import Wire

ACCOUNTS = ("spammer", "troll")
AT_ONCE = 5.0  # seconds; the contract is "within a second"


def test_a_server_ban_on_one_node_disconnects_the_user_on_another_at_once(
    network: Network, wires: list[Wire]
) -> None:
    boss = login(network["a"].port, wires, "admin")
    spammer = login(network["b"].port, wires, "spammer")
    watcher = guest(network["c"].port, wires, "watcher")
    join(spammer, "#mod1")
    join(watcher, "#mod1")
    heard(spammer, "watcher", " JOIN #mod1")
    boss.write("BAN spammer :spamming links")
    boss.until("spamming links")  # the ban is confirmed once saved
    said = closed(spammer, AT_ONCE)
    assert [line for line in said if line.startswith("ERROR") and "spamming links" in line], said
    heard(watcher, "spammer", " QUIT ")
    again = Wire(network["c"].port)
    wires.append(again)
    again.write(f"PASS spammer:{PASSWORD}", "NICK spammer", "USER s 0 * :s")
    refusal = again.until("ERROR")
    assert "You are banned from this server: spamming links" in refusal[-1], refusal


def test_kill_by_an_operator_on_one_node_ends_the_connection_on_another(
    network: Network, wires: list[Wire]
) -> None:
    boss = login(network["a"].port, wires, "admin")
    victim = guest(network["b"].port, wires, "victim")
    onlooker = guest(network["c"].port, wires, "onlooker")
    join(victim, "#mod2")
    join(onlooker, "#mod2")
    heard(victim, "onlooker", " JOIN #mod2")
    boss.write("KILL victim :go away")
    said = closed(victim, AT_ONCE)
    assert [line for line in said if line.startswith("ERROR") and "Killed" in line], said
    assert "go away" in heard(onlooker, "victim", " QUIT ")
    newcomer = guest(network["a"].port, wires, "victim")  # the nick is free again
    assert newcomer


def test_a_ban_from_chatroom_admin_disconnects_the_account_on_every_node(
    network: Network, wires: list[Wire]
) -> None:
    """``chatroom admin ban`` writes PostgreSQL only; the nodes hear of it (NOTIFY) and
    put it in the network's log, so the account's connections on two nodes both end."""
    on_b = login(network["b"].port, wires, "troll")
    on_c = login(network["c"].port, wires, "troll")
    network._cli("admin", "ban", "troll", "--reason", "from the shell", "--store",
                 network.store_url)  # fmt: skip
    for wire in (on_b, on_c):
        said = closed(wire, AT_ONCE)
        assert [line for line in said if line.startswith("ERROR") and "from the shell" in line]


def test_sighup_on_a_node_says_in_its_log_that_the_settings_were_not_read_again(
    network: Network,
) -> None:
    """`systemctl reload` after editing the file: the node reloads its TLS certificate
    only (one node cannot change its settings alone); without a line saying so the
    operator believed the new settings applied."""
    node = network["a"]
    before = len(node.stderr())
    node.process.proc.send_signal(signal.SIGHUP)
    eventually(
        lambda: "send REHASH as an operator" in node.stderr()[before:],
        "the node logs why it did not read the config file again",
    )
    said = node.stderr()[before:]
    assert "WARNING" in said, said
    assert node.alive
