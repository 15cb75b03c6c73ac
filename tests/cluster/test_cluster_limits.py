"""Limits and timers that must hold for the network, not per node: the login throttle
counts guesses made on every node together, and a timed ban or mute ends once for the
whole network (one expiry in the audit log, however many nodes apply the tick)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from tests.closing import closed_at_end
from tests.cluster.support import PASSWORD, Network, eventually, guest, login
from tests.integration.test_login_throttle_over_tcp import THROTTLED, Guesser, checked
from tests.realserver import Wire

ACCOUNTS = ("target", "shortban", "shortmute")


@pytest.fixture
def guessers() -> Iterator[list[Guesser]]:
    yield from closed_at_end()


def test_guesses_from_one_address_spread_over_three_nodes_share_one_budget(
    network: Network, guessers: list[Guesser]
) -> None:
    names = ("a", "b", "c")
    guessers.extend(
        Guesser(network[names[i % 3]].port, "127.0.0.5", f"guess{i}") for i in range(15)
    )
    for guesser in guessers:
        guesser.start_plain()
    for guesser in guessers:  # back to back, on every node at once
        guesser.send_plain("target", "wrong guess")
    answers = [guesser.answer() for guesser in guessers]
    # One throttle per node would check 3 on each (9); the network checks 3 in all (one
    # more at most if the 1 s wait ran out while this shared machine was slow).
    assert 3 <= checked(answers) <= 4, answers
    for i, name in enumerate(names):
        on_node = answers[i::3]
        assert any(THROTTLED.search(answer) for answer in on_node), (name, on_node)
    # The owner, from an address that never failed, still gets in, on any node.
    owner = Guesser(network["c"].port, "127.0.0.6", "owner")
    guessers.append(owner)
    assert " 903 " in owner.login("target", PASSWORD)


def _audit_rows(network: Network, action: str, target: str) -> list[str]:
    out = network._cli("admin", "audit", "--store", network.store_url)
    return [row for row in out.splitlines() if action in row and target in row]


def test_a_timed_ban_ends_once_for_the_whole_network(network: Network, wires: list[Wire]) -> None:
    boss = login(network["a"].port, wires, "admin")
    boss.write("BAN a:shortban 2s :cool off")
    boss.until("cool off")  # confirmed once saved
    refused = Wire(network["b"].port)
    wires.append(refused)
    refused.write(f"PASS shortban:{PASSWORD}", "NICK shortban", "USER s 0 * :s")
    assert "You are banned from this server: cool off" in refused.until("ERROR")[-1]
    eventually(
        lambda: bool(_audit_rows(network, "ban.expire", "shortban")),
        "the timed ban's expiry in the audit log",
    )
    time.sleep(2.0)  # every node has applied a few more ticks by now
    assert len(_audit_rows(network, "ban.expire", "shortban")) == 1
    for name in ("a", "b", "c"):
        boss_lists = login(network[name].port, wires, "admin", f"boss{name}")
        boss_lists.write("BANS", "PING :listed")
        listed = boss_lists.until("listed")
        assert not [line for line in listed if "shortban" in line], (name, listed)
    login(network["c"].port, wires, "shortban")  # asserts the welcome: the ban is over


def test_a_timed_mute_ends_once_and_the_account_speaks_again_on_every_node(
    network: Network, wires: list[Wire]
) -> None:
    boss = login(network["a"].port, wires, "admin", "bossmute")
    speaker = login(network["b"].port, wires, "shortmute")
    listener = guest(network["c"].port, wires, "mutelistener")
    boss.write("MUTE shortmute 4s :hush")
    boss.until("hush")  # confirmed once saved
    speaker.write("PRIVMSG mutelistener :muted?")
    assert " 404 " in speaker.until(" 404 ")[-1]
    eventually(
        lambda: bool(_audit_rows(network, "mute.expire", "shortmute")),
        "the timed mute's expiry in the audit log",
    )
    time.sleep(2.0)  # every node has applied a few more ticks by now
    assert len(_audit_rows(network, "mute.expire", "shortmute")) == 1
    speaker.write("PRIVMSG mutelistener :free again")
    assert "free again" in listener.until("free again")[-1]
