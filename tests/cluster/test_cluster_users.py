"""Users across nodes: private messages cross nodes, a nick is held by one user on the
whole network (two clients racing for it on two nodes: exactly one wins), and two
connections of one account on two nodes are one user with one nick (multiclient)."""

from __future__ import annotations

from tests.cluster.support import (
    PASSWORD,
    Network,
    barrier,
    guest,
    heard,
    join,
    login,
    source,
    trailing,
)
from tests.realserver import Wire

ACCOUNTS = ("mona",)


def test_private_messages_cross_nodes_both_ways(network: Network, wires: list[Wire]) -> None:
    amy = guest(network["a"].port, wires, "amy")
    bo = guest(network["c"].port, wires, "bo")
    amy.write("PRIVMSG bo :psst from a")
    heard(bo, "amy", " PRIVMSG bo :psst from a")
    bo.write("PRIVMSG amy :back from c", "NOTICE amy :and a notice")
    heard(amy, "bo", " PRIVMSG amy :back from c")
    heard(amy, "bo", " NOTICE amy :and a notice")
    amy.write("PRIVMSG nobody-anywhere :hello?")
    amy.until(" 401 ")  # a nick nobody holds on any node


def test_two_clients_racing_for_one_nick_on_two_nodes_exactly_one_gets_it(
    network: Network, wires: list[Wire]
) -> None:
    for round_ in range(6):
        nick = f"racer{round_}"
        first, second = Wire(network["a"].port), Wire(network["b"].port)
        wires.extend((first, second))
        for wire in (first, second):
            wire.write(f"USER {nick} 0 * :{nick}")
        barrier(first)
        barrier(second)
        both = (first, second) if round_ % 2 == 0 else (second, first)
        for wire in both:  # back to back: each node claims the nick while the other does
            wire.write(f"NICK {nick}")
        outcomes = [wire.until((" 001 ", " 433 "))[-1] for wire in (first, second)]
        welcomed = [line for line in outcomes if " 001 " in line]
        refused = [line for line in outcomes if " 433 " in line]
        assert len(welcomed) == 1, outcomes
        assert len(refused) == 1, outcomes
        assert welcomed[0].split()[2] == nick
        assert f" {nick} " in refused[0]
        third = Wire(network["c"].port)  # and the third node agrees who holds it
        wires.append(third)
        third.write(f"NICK {nick}", f"USER {nick} 0 * :{nick}")
        third.until(" 433 ")


def test_a_nick_held_on_one_node_is_refused_on_every_other(
    network: Network, wires: list[Wire]
) -> None:
    guest(network["a"].port, wires, "holder")
    for node in ("b", "c"):
        newcomer = Wire(network[node].port)
        wires.append(newcomer)
        newcomer.write("NICK holder", "USER h 0 * :h")
        newcomer.until(" 433 ")
        changer = guest(network[node].port, wires, f"changer{node}")
        changer.write("NICK Holder")  # the same nick, folded
        changer.until(" 433 ")


def test_two_connections_of_one_account_on_two_nodes_share_one_nick(
    network: Network, wires: list[Wire]
) -> None:
    laptop = login(network["a"].port, wires, "mona")
    join(laptop, "#mc")
    pat = guest(network["c"].port, wires, "pat")
    join(pat, "#mc")
    heard(laptop, "pat", " JOIN #mc")
    phone = login(network["b"].port, wires, "mona")  # held by her own user: it attaches
    heard(phone, "mona", " JOIN #mc")  # her rooms come with the welcome
    laptop.write("PRIVMSG #mc :typed on the laptop")
    heard(phone, "mona", " PRIVMSG #mc :typed on the laptop")
    seen = pat.until(" PRIVMSG #mc :typed on the laptop")
    assert not [line for line in seen if source(line) == "mona" and " JOIN " in line], seen
    pat.write("NAMES #mc")
    listed = [n.lstrip("@+") for n in _names_list(pat.until(" 366 "))]
    assert listed.count("mona") == 1, listed

    pat.write("PRIVMSG #mc :hi mona", "PRIVMSG mona :psst, mona")
    for device in (laptop, phone):
        heard(device, "pat", " PRIVMSG #mc :hi mona")
        heard(device, "pat", " PRIVMSG mona :psst, mona")

    laptop.close()
    phone.write("PRIVMSG #mc :still here, on the phone")
    seen = pat.until(" PRIVMSG #mc :still here, on the phone")
    assert not [line for line in seen if " QUIT " in line or " PART " in line], seen
    pat.write("PRIVMSG mona :got it?")
    heard(phone, "pat", " PRIVMSG mona :got it?")


def _names_list(lines: list[str]) -> list[str]:
    return [name for line in lines if " 353 " in line for name in trailing(line).split()]


def test_on_a_node_answers_that_wait_come_before_the_pong_of_a_later_ping(
    network: Network, wires: list[Wire]
) -> None:
    """Replies in order on a network node: the password check and the history query are
    answered through the log, and the PING sent after them still comes back last."""
    caps = ("batch", "server-time", "message-tags", "draft/chathistory")
    oper = guest(network["b"].port, wires, "opal", *caps)
    oper.write(f"OPER admin {PASSWORD}", "PING barrier")
    assert any(" 381 " in line for line in oper.until("PONG"))
    join(oper, "#ordered")
    oper.write("PRIVMSG #ordered :one", "CHATHISTORY LATEST #ordered * 10", "PING barrier")
    got = oper.until("PONG")
    assert " BATCH -" in got[-2], got[-3:]
    assert any(line.endswith(" PRIVMSG #ordered one") for line in got), got


def test_on_a_node_a_bot_that_logs_in_speaks_and_hangs_up_at_once_is_heard(
    network: Network, wires: list[Wire]
) -> None:
    watcher = guest(network["c"].port, wires, "warden")
    join(watcher, "#deploys")
    bot = Wire(network["a"].port)
    bot.write(
        f"PASS mona:{PASSWORD}",
        "NICK mona",
        "USER m 0 * :M",
        "JOIN #deploys",
        "PRIVMSG #deploys :shipped",
        "QUIT :bye",
    )
    bot.close()
    heard = watcher.until(" QUIT ")
    assert any(line.endswith(" PRIVMSG #deploys shipped") for line in heard), heard
    assert heard[-1].endswith(" QUIT :Quit: bye"), heard
