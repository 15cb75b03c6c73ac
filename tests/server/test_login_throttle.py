"""The login throttle through the core: tries reserved when the check starts, on every path.

The harness answers password checks at once unless ``hold_password_checks`` is set; then
they wait in ``held_checks``, which is how 16 checks are in flight together here, as they
are in a real server while its workers hash.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest

from chatroom import config as cfg
from chatroom.irc import numerics as n
from chatroom.server.core.settings import CoreSettings, Limits
from chatroom.server.harness import Harness, SimClient
from tests.server.login_support import (
    b64,
    sasl_plain,
    scram_client_final,
    scram_first,
    scram_login,
    server_first_of,
    settings,
    unregistered,
)
from tests.server.support import codes

ATTACKER = "198.51.100.7"
PASSWORD = "correct horse"
THROTTLED = "Too many failed logins; try again in 1 seconds"


def harness(core: CoreSettings | None = None) -> Harness:
    h = Harness(core or settings())
    h.add_account("alice", PASSWORD, oper=True)
    return h


def said(c: SimClient) -> str:
    """Everything ``c`` received since the last look, as one text to search."""
    return "\n".join(" ".join(m.params) for m in c.take())


# Each starts one login to alice with ``password`` on a fresh connection from ``ip``.
def by_sasl_plain(h: Harness, i: int, ip: str, password: str) -> SimClient:
    c = unregistered(h, f"p{i}", ip=ip, secure=True)
    c.send("AUTHENTICATE PLAIN", "AUTHENTICATE " + b64(f"\0alice\0{password}".encode()))
    return c


def by_pass(h: Harness, i: int, ip: str, password: str) -> SimClient:
    c = h.connect(ip=ip, secure=True)
    c.send(f"PASS alice:{password}", f"NICK p{i}", f"USER p{i} 0 * :p")
    return c


def by_identify(h: Harness, i: int, ip: str, password: str) -> SimClient:
    c = h.connect(f"p{i}", ip=ip, secure=True)
    c.send(f"PRIVMSG NickServ :IDENTIFY alice {password}")
    return c


def by_oper(h: Harness, i: int, ip: str, password: str) -> SimClient:
    c = h.connect(f"p{i}", ip=ip, secure=True)
    c.send(f"OPER alice :{password}")
    return c


PATHS = [by_sasl_plain, by_pass, by_identify, by_oper]
Start = Callable[[Harness, int, str, str], SimClient]


@pytest.mark.parametrize("start", PATHS, ids=lambda f: f.__name__)
def test_sixteen_guesses_in_flight_from_one_address_get_three_checks(start: Start) -> None:
    h = harness()
    h.hold_password_checks = True
    clients = [start(h, i, ATTACKER, f"guess{i}") for i in range(16)]
    assert len(h.held_checks) == 3  # the free budget; the other 13 wait for these
    h.answer_password_checks()
    answers = [said(c) for c in clients]
    assert sum(THROTTLED in a for a in answers) == 13
    checked = [a for a in answers if THROTTLED not in a]
    assert len(checked) == 3
    assert all(
        "Invalid account name or password" in a or "authentication failed" in a for a in checked
    )
    assert h.world.stats.failed_logins == 3


@pytest.mark.parametrize("start", PATHS, ids=lambda f: f.__name__)
def test_the_paths_share_one_budget(start: Start) -> None:
    h = harness()
    h.hold_password_checks = True
    others = [path for path in PATHS if path is not start]
    clients = [path(h, i, ATTACKER, "guess") for i, path in enumerate(others)]
    clients.append(start(h, 9, ATTACKER, "guess"))
    assert len(h.held_checks) == 3
    h.answer_password_checks()
    assert THROTTLED in said(clients[-1])


def test_after_the_wait_sixteen_more_get_one_check() -> None:
    h = harness()
    h.hold_password_checks = True
    for i in range(16):
        by_sasl_plain(h, i, ATTACKER, "guess")
    h.answer_password_checks()
    h.clock.advance(1.0)
    clients = [by_sasl_plain(h, 100 + i, ATTACKER, "guess") for i in range(16)]
    assert len(h.held_checks) == 1
    h.answer_password_checks()
    answers = [said(c) for c in clients]
    assert sum("try again in 2 seconds" in a for a in answers) == 15


def test_scram_proofs_in_parallel_get_three_checks() -> None:
    """All 16 get a salt; only the free budget of proofs is checked."""
    h = harness()
    started = []
    for i in range(16):
        c = unregistered(h, f"s{i}", ip=ATTACKER)
        bare, challenge = scram_first(c, "alice")
        started.append((c, bare, server_first_of(challenge)))
    answers: list[str] = []
    for c, bare, server_first in started:
        final = scram_client_final(f"guess{len(answers)}", bare, server_first)
        answers.append(" ".join(m.params[-1] for m in c.cmd("AUTHENTICATE " + b64(final.encode()))))
    assert sum(THROTTLED in a for a in answers) == 13
    assert h.world.stats.failed_logins == 3


def test_a_scram_proof_waits_for_plain_checks_in_flight() -> None:
    h = harness()
    h.hold_password_checks = True
    c = unregistered(h, "s", ip=ATTACKER)
    bare, challenge = scram_first(c, "alice")  # the salt is given while nothing failed yet
    for i in range(3):
        by_sasl_plain(h, i, ATTACKER, "guess")
    final = scram_client_final(PASSWORD, bare, server_first_of(challenge))
    assert c.cmd("AUTHENTICATE " + b64(final.encode())) == []  # held, not checked
    assert c.cmd("CAP END") == []  # registration waits for the answer, as for PLAIN
    h.answer_password_checks()
    answer = c.take()
    assert THROTTLED in answer[0].params[-1]
    assert n.RPL_WELCOME in codes(answer)


def test_logins_held_behind_checks_that_succeed_go_ahead() -> None:
    """A household logging in at once from one address is never throttled by itself."""
    h = harness()
    for name in ("bob", "carol", "dave", "erin", "frank"):
        h.add_account(name, PASSWORD)
    h.hold_password_checks = True
    clients = []
    for i, name in enumerate(("alice", "bob", "carol", "dave", "erin", "frank")):
        c = unregistered(h, f"u{i}", ip=ATTACKER, secure=True)
        c.send("AUTHENTICATE PLAIN", "AUTHENTICATE " + b64(f"\0{name}\0{PASSWORD}".encode()))
        clients.append(c)
    assert len(h.held_checks) == 3
    h.answer_password_checks()
    h.answer_password_checks()
    assert all(n.RPL_SASLSUCCESS in codes(c.take()) for c in clients)


def test_a_held_login_of_a_connection_that_left_is_never_checked() -> None:
    h = harness()
    h.hold_password_checks = True
    for i in range(3):
        by_sasl_plain(h, i, ATTACKER, PASSWORD)
    gone = by_sasl_plain(h, 3, ATTACKER, "guess")
    gone.drop()
    h.answer_password_checks()
    assert h.held_checks == []
    assert h.world.stats.failed_logins == 0


def test_a_login_held_while_the_client_aborts_sasl_is_never_checked() -> None:
    h = harness()
    h.hold_password_checks = True
    for i in range(3):
        by_sasl_plain(h, i, ATTACKER, "guess")
    c = unregistered(h, "s", ip=ATTACKER)
    bare, challenge = scram_first(c, "alice")
    final = scram_client_final(PASSWORD, bare, server_first_of(challenge))
    c.send("AUTHENTICATE " + b64(final.encode()), "AUTHENTICATE *")
    h.answer_password_checks()
    assert h.world.stats.failed_logins == 3
    assert n.RPL_SASLSUCCESS not in codes(c.take())


# ------------------------------------------------------------------ many addresses, one account


def lock_alice(h: Harness) -> None:
    """Guesses from 40 addresses: the account's budget and its reserve are spent."""
    for i in range(40):
        sasl_plain(unregistered(h, f"g{i}", ip=f"10.0.{i}.1", secure=True), "alice", "guess")
    assert h.world.stats.failed_logins == 6  # 3 free + 3 from the reserve


def test_the_owner_gets_in_from_an_address_that_logged_in_before() -> None:
    h = harness()
    owner = unregistered(h, "o1", ip="203.0.113.5", secure=True)
    assert n.RPL_SASLSUCCESS in codes(sasl_plain(owner, "alice", PASSWORD))
    lock_alice(h)
    again = unregistered(h, "o2", ip="203.0.113.5", secure=True)
    assert n.RPL_SASLSUCCESS in codes(sasl_plain(again, "alice", PASSWORD))


def test_the_owner_gets_in_from_a_new_address_when_the_reserve_comes_back() -> None:
    h = harness()
    lock_alice(h)
    owner = unregistered(h, "o", ip="203.0.113.5", secure=True)
    refused = sasl_plain(owner, "alice", PASSWORD)[0].params[-1]
    assert "Too many failed logins" in refused
    h.clock.advance(20 * 60)  # the account's wait is over, and one reserve try came back
    for ip in ("10.0.1.1", "10.0.2.1"):  # both failed before: no reserve for them
        sasl_plain(unregistered(h, "g", ip=ip, secure=True), "alice", "guess")
    assert h.world.stats.failed_logins == 7  # the first took the account's one try
    assert n.RPL_SASLSUCCESS in codes(sasl_plain(owner, "alice", PASSWORD))


def test_the_owner_gets_in_with_a_certificate_whatever_the_throttle_says() -> None:
    h = harness()
    account = h.world.accounts["alice"]
    h.world.accounts.put(replace(account, certfps=("ab" * 32,)))
    lock_alice(h)
    c = unregistered(h, "o", ip="10.0.1.1", secure=True)
    c.session.certfp = "ab" * 32
    c.send("AUTHENTICATE EXTERNAL")
    assert n.RPL_SASLSUCCESS in codes(c.cmd("AUTHENTICATE +"))


def test_scram_draws_on_the_same_account_budget() -> None:
    h = harness()
    lock_alice(h)
    c = unregistered(h, "s", ip="10.0.1.1")
    assert "Too many failed logins" in " ".join(scram_login(c, "alice", PASSWORD)[0].params)


# ------------------------------------------------------------------ IPv6 networks


def test_ipv6_addresses_of_one_64_share_a_budget() -> None:
    h = harness()
    for i in range(3):
        sasl_plain(unregistered(h, f"g{i}", ip=f"2001:db8::{i + 1}", secure=True), "bob", "x")
    same = unregistered(h, "g4", ip="2001:db8::ffff", secure=True)
    assert "Too many failed logins" in sasl_plain(same, "carol", "x")[0].params[-1]
    other = unregistered(h, "g5", ip="2001:db8:0:1::1", secure=True)
    assert "Too many failed logins" not in sasl_plain(other, "carol", "x")[0].params[-1]


def test_the_ipv6_prefix_is_a_setting() -> None:
    limits = Limits(connections_per_address=1000, ipv6_prefix=128)
    h = harness(replace(settings(), limits=limits))
    for i in range(3):
        sasl_plain(unregistered(h, f"g{i}", ip="2001:db8::1", secure=True), "bob", "x")
    other = unregistered(h, "g4", ip="2001:db8::2", secure=True)
    assert "Too many failed logins" not in sasl_plain(other, "carol", "x")[0].params[-1]


def test_the_ipv6_prefix_setting_is_read_and_checked() -> None:
    assert cfg.load(env={"CHATROOM_LIMITS_IPV6_PREFIX": "56"}).core.limits.ipv6_prefix == 56
    with pytest.raises(cfg.ConfigError, match=r"limits\.ipv6_prefix"):
        cfg.load(env={}, flags={"limits.ipv6_prefix": 129})


def test_connection_limits_count_an_ipv6_64_as_one_address() -> None:
    h = Harness(CoreSettings(limits=Limits(connections_per_address=2)))
    h.connect(ip="2001:db8::1")
    h.connect(ip="2001:db8::2")
    third = h.connect(ip="2001:db8::3")
    assert third.closed_reason == "Too many connections from your address"
    assert h.connect(ip="2001:db8:0:1::1").closed_reason is None
    assert h.connect(ip="::ffff:192.0.2.1").closed_reason is None


def test_connect_rate_counts_an_ipv6_64_as_one_address() -> None:
    limits = Limits(connections_per_address=100, connects_per_address_per_minute=3)
    h = Harness(CoreSettings(limits=limits))
    for i in range(3):
        h.connect(ip=f"2001:db8::{i + 1}").drop()
    assert h.connect(ip="2001:db8::99").closed_reason == "Connecting too fast; wait a minute"


# ------------------------------------------------------------------ SCRAM for unknown names


def fake_salt(h: Harness, name: str) -> str:
    _, challenge = scram_first(unregistered(h, "probe"), name)
    attrs = dict(part.split("=", 1) for part in server_first_of(challenge).split(","))
    return attrs["s"]


def test_an_unknown_names_scram_salt_comes_from_the_servers_secret() -> None:
    first, second, other = Harness(), Harness(), Harness()
    other.world.scram_secret = b"another server"
    assert fake_salt(first, "nobody") == fake_salt(second, "nobody")  # a restart: same secret
    assert fake_salt(first, "nobody") != fake_salt(other, "nobody")
    assert fake_salt(first, "nobody") != fake_salt(first, "someone")


def test_an_unknown_names_scram_salt_does_not_change_with_its_case() -> None:
    """ALICE and alice get one account's salt; NOBODY and nobody must get one salt too, or
    asking for both spellings tells which names have an account."""
    h = harness()
    assert fake_salt(h, "ALICE") == fake_salt(h, "alice")
    assert fake_salt(h, "NOBODY") == fake_salt(h, "nobody")
    assert fake_salt(h, "No[Body]") == fake_salt(h, "no{body}")  # rfc1459 casemapping


def test_a_login_held_past_its_deadline_leaves_no_try_reserved() -> None:
    """A held login answered by its deadline must not take a try when it is woken later.

    Correct logins to the attacker's own account keep the address's free budget in flight
    while a guess at alice waits; it is answered "try again" at the deadline. Before, the
    wake that came after still reserved a try for it that nobody ended: three such guesses
    left alice's counter full for good, and her own login from a new address waited its
    deadline out and was refused.
    """
    h = harness()
    h.add_account("mallory", "mallory's own")
    h.hold_password_checks = True
    deadline = h.world.settings.timeouts.answer
    for round_ in range(3):
        ip = f"203.0.113.{round_ + 1}"
        for i in range(6):  # 3 in flight, 3 held behind them
            c = unregistered(h, f"m{round_}x{i}", ip=ip, secure=True)
            c.send("AUTHENTICATE PLAIN", "AUTHENTICATE " + b64(b"\0mallory\0mallory's own"))
        guess = by_sasl_plain(h, 10 + round_, ip, "guess")  # held behind all six
        h.tick(deadline / 3)
        h.answer_password_checks(3)  # the held three go; the guess is held behind them
        h.tick(deadline * 5 / 6)  # the guess's deadline passes; the checks in flight are younger
        assert THROTTLED in said(guess)
        h.answer_password_checks()  # they succeed and wake the guess that was answered
        assert h.held_checks == []
    owner = unregistered(h, "owner", ip="192.0.2.50", secure=True)
    owner.send("AUTHENTICATE PLAIN", "AUTHENTICATE " + b64(f"\0alice\0{PASSWORD}".encode()))
    h.answer_password_checks()
    assert n.RPL_SASLSUCCESS in codes(owner.take())


# ------------------------------------------------------------------ the server password


def test_guesses_at_the_server_password_on_one_connection_get_three_checks() -> None:
    """Each PASS was compared at once, and an early REGISTER said whether it was right:
    one connection could guess at the flood limit's pace. Now a PASS is a throttled try."""
    h = Harness(settings_with(server_password="letmein"))
    c = h.connect(ip=ATTACKER)
    c.send("CAP LS 302", "NICK guesser")
    c.take()
    answers = []
    for guess in ("one", "two", "three", "four", "letmein"):
        answers.append(said_to(c, f"PASS {guess}", "REGISTER * * a-long-password"))
    assert all("Send the server password" in a for a in answers[:3])
    assert THROTTLED in answers[3]
    assert c.closed_reason == THROTTLED
    assert "SUCCESS" not in answers[4]  # the right one comes too late: closed
    assert h.world.fold("guesser") not in h.world.accounts
    assert h.world.stats.failed_logins == 3
    # Another address is not held back, and the right password still works there.
    other = h.connect(ip="192.0.2.99")
    other.send("PASS letmein", "NICK honest", "USER h 0 * :H")
    assert n.RPL_WELCOME in codes(other.take())


def settings_with(**core: object) -> CoreSettings:
    return replace(settings(), **core)  # type: ignore[arg-type]


def said_to(c: SimClient, *lines: str) -> str:
    c.send(*lines)
    return said(c)
