"""NickServ CERT through the core harness: the certificates that log in with SASL EXTERNAL."""

from __future__ import annotations

import base64

from chatroom.irc import numerics as n
from chatroom.irc.message import Message
from chatroom.server.core.commands.nickserv_cert import MAX_CERTFPS, normalise_fingerprint
from chatroom.server.core.effects import HashPassword, Persist
from chatroom.server.core.settings import CoreSettings, Limits, OperRole
from chatroom.server.harness import Harness, SimClient
from chatroom.server.store.base import SetAccountCertfps
from tests.server.moderation_support import PASSWORD, audit_actions, oper, user

SERVICE = "NickServ!NickServ@services."
FP_A = "ab" * 32
FP_B = "cd" * 32
CERT_SYNTAX = (
    "CERT LIST [account] | ADD [fingerprint] | ADD <account> <fingerprint>"
    " | DEL [account] <fingerprint>"
)


def said(messages: list[Message]) -> list[str]:
    return [m.params[-1] for m in messages if m.command == "NOTICE" and m.source == SERVICE]


def ns(client: SimClient, text: str) -> list[str]:
    return said(client.cmd(f"PRIVMSG NickServ :{text}"))


def external_login(h: Harness, certfp: str | None, account: str = "") -> list[str]:
    """A new connection presenting ``certfp`` tries SASL EXTERNAL; the numerics it gets."""
    c = h.connect(secure=True, certfp=certfp)
    c.send("CAP LS 302", "CAP REQ :sasl", "NICK someone", "USER s 0 * :S", "AUTHENTICATE EXTERNAL")
    c.take()
    authzid = base64.b64encode(account.encode()).decode() or "+"
    return [m.command for m in c.cmd(f"AUTHENTICATE {authzid}") if m.command.isdigit()]


# ----------------------------------------------------------------------------- fingerprints


def test_fingerprints_are_stored_bare_and_lowercase_whatever_form_they_are_typed_in() -> None:
    colons = ":".join(FP_A[i : i + 2] for i in range(0, 64, 2)).upper()
    assert normalise_fingerprint(colons) == FP_A
    assert normalise_fingerprint(FP_A.upper()) == FP_A
    assert normalise_fingerprint("ab" * 31) is None
    assert normalise_fingerprint("zz" * 32) is None
    assert normalise_fingerprint("ab" * 33) is None


# ----------------------------------------------------------------------------- ADD


def test_cert_add_with_a_fingerprint_puts_it_on_the_account_and_in_the_store() -> None:
    h = Harness()
    alice = user(h, "alice")
    answer = ns(alice, f"CERT ADD {FP_A.upper()}")
    assert answer == [f"{FP_A} added: it now logs in to alice."]
    assert h.world.accounts["alice"].certfps == (FP_A,)
    assert h.store.load().accounts["alice"].certfps == (FP_A,)
    assert ("alice", "account.cert.add", f"alice {FP_A}") in audit_actions(h)


def test_cert_add_without_an_argument_adds_the_certificate_the_user_is_connected_with() -> None:
    h = Harness()
    h.add_account("alice", PASSWORD)
    alice = h.connect("alice", secure=True, certfp=FP_B)
    ns(alice, f"IDENTIFY {PASSWORD}")
    assert ns(alice, "CERT ADD") == [f"{FP_B} added: it now logs in to alice."]
    assert h.world.accounts["alice"].certfps == (FP_B,)


def test_cert_add_without_an_argument_and_without_a_certificate_explains_what_to_do() -> None:
    h = Harness()
    alice = user(h, "alice")
    (answer,) = ns(alice, "CERT ADD")
    assert "not connected with a client certificate" in answer
    assert "CERT ADD <fingerprint>" in answer
    assert h.world.accounts["alice"].certfps == ()


def test_cert_needs_a_login() -> None:
    h = Harness()
    guest = h.connect("guest")
    assert ns(guest, f"CERT ADD {FP_A}") == ["You are not logged in."]
    assert ns(guest, "CERT LIST") == ["You are not logged in."]


def test_cert_add_refuses_what_is_not_a_fingerprint() -> None:
    h = Harness()
    alice = user(h, "alice")
    assert ns(alice, "CERT ADD hunter2") == ["That is not a SHA-256 fingerprint (64 hex digits)."]
    assert h.world.accounts["alice"].certfps == ()


def test_cert_add_refuses_a_fingerprint_of_another_account_without_naming_it() -> None:
    h = Harness()
    alice, bob = user(h, "alice"), user(h, "bob")
    ns(alice, f"CERT ADD {FP_A}")
    (answer,) = ns(bob, f"CERT ADD {FP_A}")
    assert answer == "That certificate already logs in to another account."
    assert "alice" not in answer
    assert h.world.accounts["bob"].certfps == ()


def test_cert_add_of_a_fingerprint_already_on_the_account_changes_nothing() -> None:
    h = Harness()
    alice = user(h, "alice")
    ns(alice, f"CERT ADD {FP_A}")
    assert ns(alice, f"CERT ADD {FP_A}") == [f"{FP_A} is already on your account."]
    assert h.world.accounts["alice"].certfps == (FP_A,)


def test_an_account_holds_a_bounded_number_of_fingerprints() -> None:
    h = Harness()
    alice = user(h, "alice")
    for i in range(MAX_CERTFPS):
        ns(alice, f"CERT ADD {i:064x}")
    (answer,) = ns(alice, f"CERT ADD {FP_A}")
    assert f"{MAX_CERTFPS} fingerprints already" in answer
    assert len(h.world.accounts["alice"].certfps) == MAX_CERTFPS
    assert FP_A not in h.world.accounts["alice"].certfps


def test_cert_add_is_answered_only_after_the_commit() -> None:
    h = Harness()
    alice = user(h, "alice")
    world = h.world
    alice.take()
    world.receive(alice.session, f"PRIVMSG NickServ :CERT ADD {FP_A}".encode())
    (write,) = world.take_effects()
    assert isinstance(write, Persist)
    assert write.token is not None
    assert SetAccountCertfps("alice", (FP_A,)) in write.changes
    assert alice.session.out == []
    world.persisted(write.token, None)
    h.pump()
    assert said(alice.take()) == [f"{FP_A} added: it now logs in to alice."]


def test_a_failed_save_takes_the_fingerprint_back_and_says_so() -> None:
    h = Harness()
    alice = user(h, "alice")
    h.store_fails = True
    assert ns(alice, f"CERT ADD {FP_A}") == ["The change could not be saved; try again later."]
    assert h.world.accounts["alice"].certfps == ()
    assert external_login(h, FP_A) == [n.ERR_SASLFAIL]


def test_two_adds_before_either_commit_both_survive() -> None:
    """The shell commits later: the second write must build on the first, not replace it.

    One connection's commands wait for each other (replies in order), so the second change
    comes from an operator's connection while alice's is still being written.
    """
    h = Harness()
    alice = user(h, "alice")
    admin = oper(h)
    world = h.world
    world.receive(alice.session, f"PRIVMSG NickServ :CERT ADD {FP_A}".encode())
    world.receive(admin.session, f"PRIVMSG NickServ :CERT ADD alice {FP_B}".encode())
    first, second = world.take_effects()
    assert isinstance(first, Persist)
    assert isinstance(second, Persist)
    assert SetAccountCertfps("alice", (FP_A, FP_B)) in second.changes


def test_a_password_change_in_flight_keeps_a_fingerprint_added_meanwhile() -> None:
    h = Harness()
    alice = user(h, "alice")
    admin = oper(h)
    world = h.world
    world.receive(alice.session, b"PRIVMSG NickServ :SET PASSWORD a-new-password")
    (hash_request,) = world.take_effects()
    assert isinstance(hash_request, HashPassword)
    world.receive(admin.session, f"PRIVMSG NickServ :CERT ADD alice {FP_A}".encode())
    world.password_hashed(hash_request.token, "fake$a-new-password", "scram")
    h.pump()
    account = world.accounts["alice"]
    assert account.certfps == (FP_A,)
    assert account.password_hash == "fake$a-new-password"
    stored = h.store.load().accounts["alice"]
    assert (stored.certfps, stored.password_hash) == ((FP_A,), "fake$a-new-password")


# ----------------------------------------------------------------------------- DEL and LIST


def test_cert_list_shows_the_accounts_fingerprints() -> None:
    h = Harness()
    alice = user(h, "alice")
    assert ns(alice, "CERT LIST") == ["No certificate fingerprints are on alice."]
    ns(alice, f"CERT ADD {FP_A}")
    ns(alice, f"CERT ADD {FP_B}")
    assert ns(alice, "CERT LIST") == [
        "Certificate fingerprints on alice:",
        f"  {FP_A}",
        f"  {FP_B}",
    ]
    assert ns(alice, "CERT") == ns(alice, "CERT LIST")


def test_cert_del_removes_a_fingerprint_so_it_no_longer_logs_in() -> None:
    h = Harness()
    alice = user(h, "alice")
    ns(alice, f"CERT ADD {FP_A}")
    assert external_login(h, FP_A) == [n.RPL_LOGGEDIN, n.RPL_SASLSUCCESS]
    colons = ":".join(FP_A[i : i + 2] for i in range(0, 64, 2))
    assert ns(alice, f"CERT DEL {colons}") == [f"{FP_A} removed from alice."]
    assert h.world.accounts["alice"].certfps == ()
    assert h.store.load().accounts["alice"].certfps == ()
    assert ("alice", "account.cert.del", f"alice {FP_A}") in audit_actions(h)
    assert external_login(h, FP_A) == [n.ERR_SASLFAIL]


def test_cert_del_of_a_fingerprint_not_on_the_account_says_so() -> None:
    h = Harness()
    alice = user(h, "alice")
    assert ns(alice, f"CERT DEL {FP_A}") == [f"{FP_A} is not on your account."]


def test_cert_with_wrong_arguments_shows_its_syntax() -> None:
    h = Harness()
    alice = user(h, "alice")
    syntax = [f"Syntax: {CERT_SYNTAX}"]
    assert ns(alice, "CERT DEL") == syntax
    assert ns(alice, f"CERT FROB {FP_A}") == syntax
    assert ns(alice, f"CERT ADD alice {FP_A} {FP_B}") == syntax
    assert ns(alice, f"CERT DEL alice {FP_A} {FP_B}") == syntax
    assert ns(alice, "CERT LIST alice extra") == syntax


def test_help_lists_cert() -> None:
    h = Harness()
    c = h.connect("carol")
    assert any(line.strip().startswith("CERT") for line in ns(c, "HELP"))
    help_cert = ns(c, "HELP CERT")
    assert help_cert[0] == f"Syntax: {CERT_SYNTAX}"
    assert (
        "Operators with the 'accounts' capability may name another account first: CERT LIST"
        " <account>, CERT ADD <account> <fingerprint>, CERT DEL <account> <fingerprint>."
    ) in help_cert


# ----------------------------------------------------------------------------- EXTERNAL


def test_an_added_fingerprint_logs_in_with_sasl_external_without_a_password() -> None:
    h = Harness()
    alice = user(h, "alice")
    ns(alice, f"CERT ADD {FP_A}")
    assert external_login(h, FP_A) == [n.RPL_LOGGEDIN, n.RPL_SASLSUCCESS]
    assert external_login(h, FP_A, "alice") == [n.RPL_LOGGEDIN, n.RPL_SASLSUCCESS]
    assert external_login(h, FP_A, "bob") == [n.ERR_SASLFAIL]
    assert external_login(h, FP_B) == [n.ERR_SASLFAIL]
    assert external_login(h, None) == [n.ERR_SASLFAIL]


# ----------------------------------------------------------------------------- WHOIS


def whois_certfp(asker: SimClient, nick: str) -> list[Message]:
    return [m for m in asker.cmd(f"WHOIS {nick}") if m.command == n.RPL_WHOISCERTFP]


def test_whois_shows_the_certificate_fingerprint_to_its_owner_and_to_operators_only() -> None:
    h = Harness()
    alice = h.connect("alice", secure=True, certfp=FP_A)
    bob = h.connect("bob")
    admin = user(h, "admin", oper=True)
    (own,) = whois_certfp(alice, "alice")
    assert own.params[1:] == ("alice", f"has client certificate fingerprint {FP_A}")
    assert len(whois_certfp(admin, "alice")) == 1
    assert whois_certfp(bob, "alice") == []
    assert whois_certfp(alice, "bob") == []


# ----------------------------------------------------------------------------- operators


def test_oper_can_list_another_accounts_certificates() -> None:
    h = Harness()
    alice, admin = user(h, "alice"), oper(h)
    assert ns(admin, "CERT LIST alice") == ["No certificate fingerprints are on alice."]
    ns(alice, f"CERT ADD {FP_A}")
    assert ns(admin, "CERT LIST ALICE") == ["Certificate fingerprints on alice:", f"  {FP_A}"]


def test_oper_can_add_a_certificate_to_another_account() -> None:
    """Ergo's ``CERT ADD <account> <fp>``: the user who lost a key gets back in."""
    h = Harness()
    alice, admin = user(h, "alice"), oper(h)
    alice.take()
    answer = ns(admin, f"CERT ADD Alice {FP_A.upper()}")
    assert answer == [f"{FP_A} added: it now logs in to alice."]
    assert h.world.accounts["alice"].certfps == (FP_A,)
    assert h.store.load().accounts["alice"].certfps == (FP_A,)
    assert h.world.accounts["admin"].certfps == ()
    assert ("admin", "account.cert.add", f"alice {FP_A}") in audit_actions(h)
    assert said(alice.take()) == [
        f"Operator admin added to your account the certificate fingerprint {FP_A}."
    ]
    assert external_login(h, FP_A) == [n.RPL_LOGGEDIN, n.RPL_SASLSUCCESS]


def test_oper_can_delete_a_certificate_from_another_account() -> None:
    h = Harness()
    alice, admin = user(h, "alice"), oper(h)
    ns(alice, f"CERT ADD {FP_A}")
    ns(alice, f"CERT ADD {FP_B}")
    alice.take()
    assert ns(admin, f"CERT DEL alice {FP_A}") == [f"{FP_A} removed from alice."]
    assert h.world.accounts["alice"].certfps == (FP_B,)
    assert h.store.load().accounts["alice"].certfps == (FP_B,)
    assert ("admin", "account.cert.del", f"alice {FP_A}") in audit_actions(h)
    assert said(alice.take()) == [
        f"Operator admin removed from your account the certificate fingerprint {FP_A}."
    ]
    assert external_login(h, FP_A) == [n.ERR_SASLFAIL]
    assert ns(admin, f"CERT DEL alice {FP_A}") == [f"{FP_A} is not on alice."]


def test_non_oper_naming_another_account_is_refused_and_nothing_changes() -> None:
    h = Harness()
    alice, bob = user(h, "alice"), user(h, "bob")
    ns(alice, f"CERT ADD {FP_A}")
    logged = len(h.store.audit())
    refusal = [
        "Only operators may manage another account's certificates;"
        " leave the account name out to manage your own."
    ]
    assert ns(bob, "CERT LIST alice") == refusal
    assert ns(bob, f"CERT ADD alice {FP_B}") == refusal
    assert ns(bob, f"CERT DEL alice {FP_A}") == refusal
    assert ns(bob, f"CERT ADD ghost {FP_B}") == refusal  # whether it exists is not said
    assert h.world.accounts["alice"].certfps == (FP_A,)
    assert h.world.accounts["bob"].certfps == ()
    assert h.store.load().accounts["alice"].certfps == (FP_A,)
    assert len(h.store.audit()) == logged
    guest = h.connect("guest")
    assert ns(guest, "CERT LIST alice") == refusal


def test_oper_whose_role_lacks_the_accounts_capability_is_refused() -> None:
    h = Harness(CoreSettings(limits=Limits(), oper_roles=(OperRole("mod", frozenset({"kick"})),)))
    user(h, "alice")
    h.add_account("mod", PASSWORD, role="mod")
    mod = user(h, "mod")
    assert "o" in mod.session.modes
    assert ns(mod, f"CERT ADD alice {FP_A}") == [
        "Your operator role (mod) lacks the 'accounts' capability needed to manage another"
        " account's certificates."
    ]
    assert h.world.accounts["alice"].certfps == ()


def test_default_oper_role_has_the_accounts_capability_unless_the_config_leaves_it_out() -> None:
    h = Harness(CoreSettings(limits=Limits(), oper_capabilities=frozenset({"kick", "ban"})))
    user(h, "alice")
    admin = oper(h)
    (answer,) = ns(admin, f"CERT ADD alice {FP_A}")
    assert "lacks the 'accounts' capability" in answer
    assert h.world.accounts["alice"].certfps == ()


def test_oper_naming_an_unknown_account_or_a_bad_fingerprint_is_told_so() -> None:
    h = Harness()
    admin = oper(h)
    user(h, "alice")
    assert ns(admin, "CERT LIST ghost") == ["There is no account of that name."]
    assert ns(admin, f"CERT ADD ghost {FP_A}") == ["There is no account of that name."]
    assert ns(admin, "CERT ADD alice hunter2") == [
        "That is not a SHA-256 fingerprint (64 hex digits)."
    ]
    assert h.world.accounts["alice"].certfps == ()


def test_oper_adding_a_fingerprint_that_logs_in_elsewhere_is_told_whose_it_is() -> None:
    h = Harness()
    alice, admin = user(h, "alice"), oper(h)
    user(h, "bob")
    ns(alice, f"CERT ADD {FP_A}")
    assert ns(admin, f"CERT ADD bob {FP_A}") == ["That certificate already logs in to alice."]
    assert ns(admin, f"CERT ADD alice {FP_A}") == [f"{FP_A} is already on alice."]
    assert h.world.accounts["bob"].certfps == ()


def test_oper_add_to_a_full_account_says_how_to_make_room() -> None:
    h = Harness()
    alice, admin = user(h, "alice"), oper(h)
    for i in range(MAX_CERTFPS):
        ns(alice, f"CERT ADD {i:064x}")
    assert ns(admin, f"CERT ADD alice {FP_A}") == [
        f"alice has {MAX_CERTFPS} fingerprints already; remove one with CERT DEL alice"
        " <fingerprint>."
    ]


def test_naming_your_own_account_is_the_same_as_naming_none() -> None:
    h = Harness()
    alice = user(h, "alice")
    assert ns(alice, f"CERT ADD ALICE {FP_A}") == [f"{FP_A} added: it now logs in to alice."]
    assert ns(alice, "CERT LIST alice") == ["Certificate fingerprints on alice:", f"  {FP_A}"]
    assert ns(alice, f"CERT DEL alice {FP_A}") == [f"{FP_A} removed from alice."]
    assert ("alice", "account.cert.add", f"alice {FP_A}") in audit_actions(h)
