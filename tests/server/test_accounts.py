"""Accounts through the core harness: SASL, PASS, REGISTER, the nick guard, account caps."""

from __future__ import annotations

from dataclasses import replace

from chatroom.irc import numerics as n
from chatroom.server.harness import Harness
from tests.server.login_support import b64, sasl_plain, scram_login, settings, unregistered
from tests.server.support import codes

REMOTE = "192.0.2.50"  # not loopback: plaintext passwords are refused from here


# ------------------------------------------------------------------ SASL PLAIN


def test_sasl_plain_logs_in_before_registration() -> None:
    h = Harness()
    h.add_account("alice", "correct horse")
    c = unregistered(h)
    reply = sasl_plain(c, "alice", "correct horse")
    assert codes(reply) == [n.RPL_LOGGEDIN, n.RPL_SASLSUCCESS]
    assert reply[0].params[2] == "alice"
    assert codes(c.cmd("CAP END"))[0] == n.RPL_WELCOME
    assert c.session.account == "alice"


def test_sasl_plain_wrong_password_and_unknown_account_get_the_same_answer() -> None:
    h = Harness()
    h.add_account("alice", "correct horse")
    wrong = sasl_plain(unregistered(h, "a1"), "alice", "battery staple")
    unknown = sasl_plain(unregistered(h, "a2"), "nobody", "battery staple")
    assert codes(wrong) == codes(unknown) == [n.ERR_SASLFAIL]
    assert wrong[0].params[1:] == unknown[0].params[1:]


def test_registration_waits_for_a_login_in_flight() -> None:
    h = Harness()
    h.add_account("alice", "correct horse")
    c = unregistered(h)
    c.send("AUTHENTICATE PLAIN")
    h.world.receive(c.session, ("AUTHENTICATE " + b64(b"\0alice\0correct horse")).encode())
    h.world.receive(c.session, b"CAP END")  # arrives before the password check answers
    assert not c.session.registered
    h.pump()
    got = codes(c.take())
    assert got.index(n.RPL_SASLSUCCESS) < got.index(n.RPL_WELCOME)


def test_login_rehashes_a_password_stored_with_outdated_parameters() -> None:
    """Raising the argon2 costs takes effect for each account at its next login."""
    h = Harness()
    account = h.add_account("alice", "correct horse")
    h.world.accounts.put(replace(account, password_hash="old$correct horse"))
    c = unregistered(h)
    assert n.RPL_SASLSUCCESS in codes(sasl_plain(c, "alice", "correct horse"))
    stored = h.store.load().accounts["alice"]
    assert stored.password_hash == "fake$correct horse"
    assert h.world.accounts["alice"].password_hash == "fake$correct horse"
    again = unregistered(h, "alice2")
    assert n.RPL_SASLSUCCESS in codes(sasl_plain(again, "alice", "correct horse"))


def test_sasl_without_the_cap_is_refused() -> None:
    h = Harness()
    c = h.connect()
    assert codes(c.cmd("AUTHENTICATE PLAIN")) == [n.ERR_SASLFAIL]


def test_unknown_mechanism_lists_the_available_ones() -> None:
    h = Harness()
    c = unregistered(h)
    reply = c.cmd("AUTHENTICATE DIGEST-MD5")
    assert codes(reply) == [n.RPL_SASLMECHS, n.ERR_SASLFAIL]
    assert "SCRAM-SHA-256" in reply[0].params[1].split(",")


def test_sasl_abort_and_overlong_chunk() -> None:
    h = Harness()
    c = unregistered(h)
    c.send("AUTHENTICATE PLAIN")
    assert codes(c.cmd("AUTHENTICATE *")) == [n.ERR_SASLABORTED]
    c.send("AUTHENTICATE PLAIN")
    assert codes(c.cmd("AUTHENTICATE " + "A" * 401)) == [n.ERR_SASLTOOLONG]


def test_sasl_data_in_400_byte_chunks_is_joined() -> None:
    """sasl-3.1: a chunk of exactly 400 bytes means more follows; "+" ends an exact fit."""
    h = Harness()
    password = "p" * 400
    h.add_account("alice", password)
    c = unregistered(h)
    c.send("AUTHENTICATE PLAIN")
    payload = b64(f"\0alice\0{password}".encode())
    chunks = [payload[i : i + 400] for i in range(0, len(payload), 400)]
    for chunk in chunks[:-1]:
        assert c.cmd("AUTHENTICATE " + chunk) == []
    reply = c.cmd("AUTHENTICATE " + chunks[-1])
    assert n.RPL_SASLSUCCESS in codes(reply)


def test_second_login_gets_907() -> None:
    h = Harness()
    h.add_account("alice", "correct horse")
    c = unregistered(h)
    sasl_plain(c, "alice", "correct horse")
    assert codes(c.cmd("AUTHENTICATE PLAIN")) == [n.ERR_SASLALREADY]


def test_plaintext_sasl_plain_is_refused_from_a_remote_address_without_tls() -> None:
    h = Harness(settings())
    h.add_account("alice", "correct horse")
    c = unregistered(h, ip=REMOTE)
    reply = c.cmd("AUTHENTICATE PLAIN")
    assert codes(reply) == [n.ERR_SASLFAIL]
    assert "TLS" in reply[0].params[-1]


def test_sasl_plain_over_tls_from_a_remote_address_works() -> None:
    h = Harness(settings())
    h.add_account("alice", "correct horse")
    c = unregistered(h, ip=REMOTE, secure=True)
    assert n.RPL_SASLSUCCESS in codes(sasl_plain(c, "alice", "correct horse"))


def test_operator_may_allow_plaintext_logins() -> None:
    h = Harness(settings(allow_plaintext_login=True))
    h.add_account("alice", "correct horse")
    c = unregistered(h, ip=REMOTE)
    assert n.RPL_SASLSUCCESS in codes(sasl_plain(c, "alice", "correct horse"))


# ------------------------------------------------------------------ brute force


def test_fifty_wrong_guesses_in_a_row_are_throttled() -> None:
    h = Harness(settings())
    h.add_account("alice", "correct horse")
    answers = []
    for i in range(50):
        c = unregistered(h, f"guess{i}", ip="198.51.100.7", secure=True)
        answers.append(sasl_plain(c, "alice", f"wrong{i}")[0].params[-1])
    throttled = [a for a in answers if "Too many failed logins" in a]
    assert len(throttled) >= 45
    assert h.world.stats.failed_logins <= 5  # throttled guesses never reach the hasher


def test_owner_gets_back_in_after_the_lockout_ends() -> None:
    h = Harness(settings())
    h.add_account("alice", "correct horse")
    for i in range(10):
        sasl_plain(unregistered(h, f"g{i}", ip="198.51.100.7", secure=True), "alice", "bad")
    h.clock.advance(3600)
    c = unregistered(h, ip="203.0.113.9", secure=True)
    assert n.RPL_SASLSUCCESS in codes(sasl_plain(c, "alice", "correct horse"))


# ------------------------------------------------------------------ SCRAM-SHA-256


def test_scram_sha_256_login_works_without_sending_the_password() -> None:
    h = Harness(settings())
    h.add_account("alice", "correct horse")
    c = unregistered(h, ip=REMOTE)  # no TLS needed: the password never crosses the wire
    assert codes(scram_login(c, "alice", "correct horse")) == [
        n.RPL_LOGGEDIN,
        n.RPL_SASLSUCCESS,
    ]


def test_scram_with_a_wrong_password_fails_like_an_unknown_account() -> None:
    h = Harness()
    h.add_account("alice", "correct horse")
    wrong = scram_login(unregistered(h, "a1"), "alice", "wrong one")
    unknown = scram_login(unregistered(h, "a2"), "nobody", "wrong one")
    assert codes(wrong) == codes(unknown) == [n.ERR_SASLFAIL]


# ------------------------------------------------------------------ EXTERNAL


def test_sasl_external_logs_in_with_a_registered_certificate() -> None:
    h = Harness()
    account = h.add_account("alice", "correct horse")
    h.world.accounts.put(replace(account, certfps=("ab" * 32,)))
    c = h.connect(secure=True)
    c.session.certfp = "ab" * 32
    c.send("CAP LS 302", "CAP REQ :sasl", "NICK alice", "USER a 0 * :A", "AUTHENTICATE EXTERNAL")
    c.take()
    assert codes(c.cmd("AUTHENTICATE +")) == [n.RPL_LOGGEDIN, n.RPL_SASLSUCCESS]


def test_sasl_external_without_a_known_certificate_fails() -> None:
    h = Harness()
    c = h.connect(secure=True)
    c.session.certfp = "cd" * 32
    c.send("CAP LS 302", "CAP REQ :sasl", "NICK bob", "USER b 0 * :B", "AUTHENTICATE EXTERNAL")
    c.take()
    assert codes(c.cmd("AUTHENTICATE +")) == [n.ERR_SASLFAIL]


# ------------------------------------------------------------------ PASS


def test_pass_account_colon_password_logs_in() -> None:
    h = Harness()
    h.add_account("alice", "correct horse")
    c = h.connect()
    c.send("PASS :alice:correct horse", "NICK alice", "USER a 0 * :A")
    got = c.take()
    assert codes(got)[:2] == [n.RPL_LOGGEDIN, n.RPL_WELCOME]
    assert c.session.account == "alice"


def test_pass_with_a_wrong_password_is_refused_and_closed() -> None:
    h = Harness()
    h.add_account("alice", "correct horse")
    c = h.connect()
    c.send("PASS alice:nope", "NICK alice", "USER a 0 * :A")
    assert codes(c.take())[:2] == [n.ERR_PASSWDMISMATCH, "ERROR"]
    assert c.closed_reason is not None


def test_new_nick_plus_password_creates_the_account_when_registration_is_open() -> None:
    """The original chat room's flow: a new nickname and a password make an account."""
    h = Harness()
    c = h.connect()
    c.send("PASS s3cret-pass", "NICK carol", "USER c 0 * :C")
    assert codes(c.take())[:2] == [n.RPL_LOGGEDIN, n.RPL_WELCOME]
    assert "carol" in h.world.accounts
    assert h.store.load().accounts["carol"].password_hash.startswith("fake$")


def test_pass_over_plaintext_from_a_remote_address_is_refused() -> None:
    h = Harness(settings())
    c = h.connect(ip=REMOTE)
    c.send("PASS carol:s3cret-pass", "NICK carol", "USER c 0 * :C")
    assert codes(c.take())[:2] == [n.ERR_PASSWDMISMATCH, "ERROR"]


# ------------------------------------------------------------------ REGISTER


def test_register_creates_the_account_only_after_commit_and_logs_in() -> None:
    h = Harness()
    c = h.connect()
    c.send("CAP LS 302", "NICK dave", "USER d 0 * :D")
    reply = c.cmd("REGISTER * dave@example.org long-password")
    assert reply[0].command == "REGISTER"
    assert reply[0].params[:2] == ("SUCCESS", "dave")
    assert reply[1].command == n.RPL_LOGGEDIN
    assert h.store.load().accounts["dave"].email == "dave@example.org"


def test_register_when_the_store_fails_says_so_and_creates_nothing() -> None:
    h = Harness()
    h.store_fails = True
    c = h.connect("dave")
    reply = c.cmd("REGISTER dave * long-password")
    assert reply[0].command == "FAIL"
    assert reply[0].params[:2] == ("REGISTER", "TEMPORARILY_UNAVAILABLE")
    assert "dave" not in h.world.accounts


def test_register_existing_account_weak_password_and_other_nick_fail() -> None:
    h = Harness()
    h.add_account("alice", "correct horse")
    c = h.connect("alicia")
    assert c.cmd("REGISTER alicia * short")[0].params[1] == "WEAK_PASSWORD"
    assert c.cmd("REGISTER someone * long-password")[0].params[1] == "ACCOUNT_NAME_MUST_BE_NICK"
    d = h.connect("zed")
    d.send("NICK alice")  # a guest may sit on a registered nick for the grace period
    assert d.cmd("REGISTER alice * long-password")[0].params[1] == "ACCOUNT_EXISTS"


def test_register_is_refused_when_registration_is_closed() -> None:
    h = Harness(settings(registration="closed"))
    c = h.connect("dave")
    assert c.cmd("REGISTER dave * long-password")[0].params[1] == "TEMPORARILY_UNAVAILABLE"


def test_registration_cap_is_advertised_with_before_connect() -> None:
    h = Harness()
    c = h.connect()
    caps = [cap for m in c.cmd("CAP LS 302") for cap in m.params[-1].split()]
    assert "draft/account-registration=before-connect" in caps
    assert "sasl=PLAIN,EXTERNAL,SCRAM-SHA-256" in caps


# ------------------------------------------------------------------ guests and registered nicks


def test_guest_on_a_registered_nick_is_renamed_after_the_grace_period() -> None:
    h = Harness(settings(nick_grace_seconds=30))
    h.add_account("alice", "correct horse")
    c = h.connect("alice")
    h.tick(29)
    assert c.nick == "alice"
    h.tick(2)
    assert c.nick.startswith("Guest")
    assert h.world.nicks.find("alice") is None


def test_guest_is_warned_when_taking_a_registered_nick() -> None:
    h = Harness()
    h.add_account("alice", "correct horse")
    c = h.connect("bob")
    notices = [m for m in c.cmd("NICK alice") if m.command == "NOTICE"]
    assert "registered" in notices[0].params[-1]


def test_owner_keeps_the_nick() -> None:
    h = Harness()
    h.add_account("alice", "correct horse")
    c = unregistered(h)
    sasl_plain(c, "alice", "correct horse")
    c.send("CAP END")
    h.tick(3600)
    assert c.nick == "alice"


def test_guests_can_be_switched_off() -> None:
    h = Harness(settings(guests=False))
    c = h.connect()
    c.send("NICK guest", "USER g 0 * :G")
    assert c.closed_reason is not None
    assert "needs an account" in c.closed_reason


# ------------------------------------------------------------------ account caps


def test_account_notify_and_account_tag_and_extended_join() -> None:
    h = Harness()
    h.add_account("alice", "correct horse")
    watcher = h.connect("bob", caps=["account-notify", "account-tag", "extended-join"])
    watcher.send("JOIN #lobby")
    c = h.connect("alice")
    c.send("JOIN #lobby")
    watcher.take()
    c.send("CAP LS 302", "CAP REQ :sasl")
    sasl_plain(c, "alice", "correct horse")
    seen = watcher.take()
    assert [m.params for m in seen if m.command == "ACCOUNT"] == [("alice",)]
    c.send("PRIVMSG #lobby :hi")
    assert watcher.take()[0].tags.get("account") == "alice"
    late = h.connect("carol")
    late.send("JOIN #lobby")
    join = next(m for m in watcher.take() if m.command == "JOIN")
    assert join.params == ("#lobby", "*", "carol real")


def test_oper_account_gets_operator_powers_on_login() -> None:
    h = Harness()
    h.add_account("root", "correct horse", oper=True)
    c = unregistered(h, "root")
    sasl_plain(c, "root", "correct horse")
    c.send("CAP END")
    assert "o" in c.session.modes
