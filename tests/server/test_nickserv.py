"""NickServ through the core harness: accounts for clients that only know services."""

from __future__ import annotations

import logging
import time

import pytest

from chatroom.irc import numerics as n
from chatroom.irc.message import Message
from chatroom.server.core.effects import HashPassword, Persist
from chatroom.server.core.settings import AccountSettings, CoreSettings, Limits
from chatroom.server.harness import Harness, SimClient
from chatroom.server.store.base import PutAccount

SERVICE = "NickServ!NickServ@services."
REMOTE = "192.0.2.5"


def said(messages: list[Message]) -> list[str]:
    """The texts of NickServ's notices among ``messages``."""
    return [m.params[-1] for m in messages if m.command == "NOTICE" and m.source == SERVICE]


def ns(client: SimClient, text: str) -> list[str]:
    """``/msg NickServ <text>``; NickServ's answers."""
    return said(client.cmd(f"PRIVMSG NickServ :{text}"))


def numerics(messages: list[Message]) -> list[str]:
    return [m.command for m in messages if m.command.isdigit()]


def logged_in(h: Harness, client: SimClient) -> str | None:
    """The account ``client`` is logged in to, as the server sees it."""
    assert client.session in h.world.sessions.values()
    return client.session.account


# ----------------------------------------------------------------------------- routing


def test_message_to_nickserv_is_answered_by_the_service_not_401() -> None:
    h = Harness()
    a = h.connect("alice")
    got = a.cmd("PRIVMSG NickServ :HELP")
    assert n.ERR_NOSUCHNICK not in numerics(got)
    assert got
    assert all(m.source == SERVICE and m.params[0] == "alice" for m in got)


def test_nickserv_is_found_whatever_the_case_and_with_its_services_host() -> None:
    h = Harness()
    a = h.connect("alice")
    for target in ("nickserv", "NICKSERV", "NickServ@services.", "nickserv@services"):
        assert said(a.cmd(f"PRIVMSG {target} :HELP")), target


def test_ns_and_nickserv_commands_reach_the_same_service() -> None:
    h = Harness()
    h.add_account("alice", "secret123")
    a = h.connect("alice")
    assert said(a.cmd("NS HELP")) == said(a.cmd("NICKSERV HELP"))
    got = a.cmd("NS IDENTIFY secret123")
    assert n.RPL_LOGGEDIN in numerics(got)
    assert logged_in(h, a) == "alice"


def test_unknown_command_points_at_help_without_repeating_what_was_sent() -> None:
    """A password sent on its own by mistake must not come back in the complaint."""
    h = Harness()
    a = h.connect("alice")
    answer = ns(a, "hunter2hunter2")
    assert len(answer) == 1
    assert "Unknown command" in answer[0]
    assert "HELP" in answer[0]
    assert "hunter2" not in answer[0]


def test_notice_to_nickserv_runs_a_command_but_never_complains() -> None:
    """RFC 2812 3.3.2: nothing answers a NOTICE automatically with an error."""
    h = Harness()
    h.add_account("alice", "secret123")
    a = h.connect("alice")
    assert a.cmd("NOTICE NickServ :gibberish") == []
    a.cmd("NOTICE NickServ :IDENTIFY secret123")
    assert logged_in(h, a) == "alice"


def test_message_to_nickserv_is_not_echoed_even_with_echo_message() -> None:
    h = Harness()
    h.add_account("alice", "secret123")
    a = h.connect("alice", caps=["echo-message"])
    got = a.cmd("PRIVMSG NickServ :IDENTIFY secret123")
    assert [m for m in got if m.command == "PRIVMSG"] == []
    assert logged_in(h, a) == "alice"


def test_nickserv_among_several_targets_is_refused_and_nobody_gets_the_text() -> None:
    """A password must not reach a person because NickServ was one target among several."""
    h = Harness()
    h.add_account("alice", "secret123")
    a, b = h.connect("alice"), h.connect("bob")
    got = a.cmd("PRIVMSG bob,NickServ :IDENTIFY secret123")
    assert numerics(got) == [n.ERR_TOOMANYTARGETS]
    assert b.take() == []
    assert logged_in(h, a) is None


def test_nick_nickserv_is_reserved() -> None:
    h = Harness()
    a = h.connect("alice")
    for nick in ("NickServ", "NICKSERV", "nickserv"):
        got = a.cmd(f"NICK {nick}")
        assert numerics(got) == [n.ERR_ERRONEUSNICKNAME]
        assert got[0].params[-1] == "Reserved nickname"
    assert a.nick == "alice"


def test_the_networks_name_is_reserved_as_a_nick() -> None:
    """Clients show notices from a nick named like the network (NETWORK=ChatRoom) as the
    server's own: nobody may take it."""
    h = Harness()
    a = h.connect("alice")
    for nick in ("ChatRoom", "chatroom"):
        got = a.cmd(f"NICK {nick}")
        assert numerics(got) == [n.ERR_ERRONEUSNICKNAME]
        assert got[0].params[-1] == "Reserved nickname"
    assert a.nick == "alice"


def test_nickserv_cannot_be_taken_before_registration_either() -> None:
    h = Harness()
    c = h.connect()
    got = c.cmd("NICK NickServ")
    assert numerics(got) == [n.ERR_ERRONEUSNICKNAME]


# ----------------------------------------------------------------------------- REGISTER


def test_register_creates_an_account_for_the_current_nick_and_logs_in() -> None:
    h = Harness()
    a = h.connect("Alice")
    got = a.cmd("PRIVMSG NickServ :REGISTER secret123")
    assert "Nickname Alice is now registered to you." in said(got)
    assert n.RPL_LOGGEDIN in numerics(got)
    assert logged_in(h, a) == "Alice"
    assert h.world.accounts["alice"].name == "Alice"
    assert "alice" in h.store.load().accounts


def test_register_answers_only_once_the_account_is_committed() -> None:
    """The reply promises the account is saved, so a failed commit must say so instead."""
    h = Harness()
    h.store_fails = True
    a = h.connect("alice")
    answer = ns(a, "REGISTER secret123")
    assert answer == ["The account could not be saved; try again later."]
    assert "alice" not in h.world.accounts
    assert logged_in(h, a) is None


def test_register_reply_waits_for_the_commit() -> None:
    """Play the shell by hand: no answer while the hash and the write are still in flight."""
    h = Harness()
    a = h.connect("alice")
    world = h.world
    world.receive(a.session, b"PRIVMSG NickServ :REGISTER secret123")
    (hash_request,) = world.take_effects()
    assert isinstance(hash_request, HashPassword)
    world.password_hashed(hash_request.token, "fake$secret123", "scram")
    (write,) = world.take_effects()
    assert isinstance(write, Persist)
    assert write.token is not None
    assert a.session.out == []
    assert "alice" not in world.accounts
    world.persisted(write.token, None)
    h.pump()
    assert "Nickname alice is now registered to you." in said(a.take())


def test_register_keeps_the_email_which_only_the_owner_sees_in_info() -> None:
    h = Harness()
    a, b = h.connect("alice"), h.connect("bob")
    ns(a, "REGISTER secret123 alice@example.org")
    assert h.world.accounts["alice"].email == "alice@example.org"
    assert "Email: alice@example.org" in ns(a, "INFO")
    assert not any("example.org" in line for line in ns(b, "INFO alice"))


def test_register_refuses_something_that_is_not_an_email() -> None:
    h = Harness()
    a = h.connect("alice")
    assert ns(a, "REGISTER secret123 not-an-address") == ["That is not a valid email address."]
    assert "alice" not in h.world.accounts


def test_register_refuses_a_short_password() -> None:
    h = Harness()
    a = h.connect("alice")
    answer = ns(a, "REGISTER short")
    assert answer == ["Use a password of at least 8 characters."]
    assert "alice" not in h.world.accounts


def test_register_refuses_a_nick_that_is_already_an_account() -> None:
    h = Harness()
    h.add_account("alice", "secret123")
    a = h.connect("alice")
    assert ns(a, "REGISTER other-password") == ["That account already exists."]
    assert h.hasher.verify(h.world.accounts["alice"].password_hash, "secret123")


def test_register_refuses_when_already_logged_in() -> None:
    h = Harness()
    a = h.connect("alice")
    ns(a, "REGISTER secret123")
    a.send("NICK alice2")
    assert ns(a, "REGISTER secret456") == ["You are already logged in as alice."]
    assert "alice2" not in h.world.accounts


def test_register_refuses_a_password_over_plaintext_from_another_machine() -> None:
    h = Harness()
    remote = h.connect("alice", ip=REMOTE)
    assert "TLS" in ns(remote, "REGISTER secret123")[0]
    assert "alice" not in h.world.accounts
    tls = h.connect("bob", ip=REMOTE, secure=True)
    ns(tls, "REGISTER secret123")
    assert "bob" in h.world.accounts


def test_register_refused_when_registration_is_closed() -> None:
    h = Harness(
        CoreSettings(
            limits=Limits(connections_per_address=100, connects_per_address_per_minute=100),
            accounts=AccountSettings(registration="closed"),
        )
    )
    a = h.connect("alice")
    assert ns(a, "REGISTER secret123") == ["Registration is closed; ask an administrator."]


def test_register_without_a_password_shows_the_syntax() -> None:
    h = Harness()
    a = h.connect("alice")
    assert ns(a, "REGISTER") == ["Syntax: REGISTER <password> [email]"]


# ----------------------------------------------------------------------------- IDENTIFY


def test_identify_works_after_registering_on_an_earlier_connection() -> None:
    """The common services flow: REGISTER once, IDENTIFY on every later connection."""
    h = Harness()
    first = h.connect("alice")
    ns(first, "REGISTER secret123")
    first.send("QUIT")
    again = h.connect("alice")
    got = again.cmd("PRIVMSG NickServ :IDENTIFY secret123")
    assert "You are now identified for alice." in said(got)
    assert n.RPL_LOGGEDIN in numerics(got)
    assert logged_in(h, again) == "alice"


def test_identify_with_an_account_name_logs_in_to_that_account() -> None:
    h = Harness()
    h.add_account("alice", "secret123")
    c = h.connect("laptop")
    assert ns(c, "IDENTIFY Alice secret123") == ["You are now identified for alice."]
    assert logged_in(h, c) == "alice"


def test_identify_says_the_same_for_an_unknown_account_and_a_wrong_password() -> None:
    h = Harness()
    h.add_account("alice", "secret123")
    c = h.connect("carol")
    wrong = ns(c, "IDENTIFY alice wrong-password")
    unknown = ns(c, "IDENTIFY nobody secret123")
    assert wrong == unknown == ["Invalid account name or password."]
    assert logged_in(h, c) is None


def test_identify_is_throttled_after_repeated_failures() -> None:
    h = Harness()
    h.add_account("alice", "secret123")
    c = h.connect("mallory")
    for _ in range(4):
        ns(c, "IDENTIFY alice guess-guess")
    answer = ns(c, "IDENTIFY alice secret123")
    assert answer[0].startswith("Too many failed logins")
    assert logged_in(h, c) is None


def test_identify_refuses_a_password_over_plaintext_from_another_machine() -> None:
    h = Harness()
    h.add_account("alice", "secret123")
    remote = h.connect("alice", ip=REMOTE)
    assert "TLS" in ns(remote, "IDENTIFY secret123")[0]
    assert logged_in(h, remote) is None


def test_identify_when_already_logged_in_is_refused() -> None:
    h = Harness()
    h.add_account("alice", "secret123")
    h.add_account("bob", "secret456")
    a = h.connect("alice")
    ns(a, "IDENTIFY secret123")
    assert ns(a, "IDENTIFY bob secret456") == ["You are already logged in as alice."]
    assert logged_in(h, a) == "alice"


def test_identifying_in_time_keeps_a_registered_nick() -> None:
    h = Harness()
    h.add_account("alice", "secret123")
    a = h.connect("alice")
    grace = h.world.settings.accounts.nick_grace_seconds
    h.tick(grace / 2)
    ns(a, "IDENTIFY secret123")
    h.tick(grace)
    assert a.nick == "alice"
    assert not any("did not identify" in line for line in said(a.take()))


def test_not_identifying_in_time_loses_a_registered_nick() -> None:
    h = Harness()
    h.add_account("alice", "secret123")
    a = h.connect("alice")
    h.tick(h.world.settings.accounts.nick_grace_seconds)
    assert a.nick.startswith("Guest")


# ----------------------------------------------------------------------------- SET PASSWORD


def test_set_password_replaces_the_password_once_committed() -> None:
    h = Harness()
    h.add_account("alice", "secret123")
    a = h.connect("alice")
    ns(a, "IDENTIFY secret123")
    assert ns(a, "SET PASSWORD brand-new-pw") == ["Your password has been changed."]
    stored = h.store.load().accounts["alice"]
    assert h.hasher.verify(stored.password_hash, "brand-new-pw")
    other = h.connect("laptop")
    assert ns(other, "IDENTIFY alice secret123") == ["Invalid account name or password."]
    assert ns(other, "IDENTIFY alice brand-new-pw") == ["You are now identified for alice."]


def test_set_password_needs_a_login() -> None:
    h = Harness()
    h.add_account("alice", "secret123")
    a = h.connect("alice")
    assert ns(a, "SET PASSWORD brand-new-pw") == ["You are not logged in."]
    assert h.hasher.verify(h.world.accounts["alice"].password_hash, "secret123")


def test_set_password_keeps_the_minimum_length() -> None:
    h = Harness()
    h.add_account("alice", "secret123")
    a = h.connect("alice")
    ns(a, "IDENTIFY secret123")
    assert ns(a, "SET PASSWORD short") == ["Use a password of at least 8 characters."]


def test_set_password_that_fails_to_commit_keeps_the_old_one() -> None:
    h = Harness()
    h.add_account("alice", "secret123")
    a = h.connect("alice")
    ns(a, "IDENTIFY secret123")
    h.store_fails = True
    answer = ns(a, "SET PASSWORD brand-new-pw")
    assert answer == ["The password could not be saved; try again later."]
    assert h.hasher.verify(h.world.accounts["alice"].password_hash, "secret123")


def test_set_with_an_unknown_option_shows_the_syntax() -> None:
    h = Harness()
    a = h.connect("alice")
    assert ns(a, "SET COLOUR blue") == [
        "Syntax: SET PASSWORD <new password> | SET MULTICLIENT ON|OFF | SET ALWAYS-ON ON|OFF"
    ]


# ----------------------------------------------------------------------------- DROP


def test_drop_needs_the_account_name_as_confirmation() -> None:
    h = Harness()
    h.add_account("alice", "secret123")
    a = h.connect("alice")
    ns(a, "IDENTIFY secret123")
    assert ns(a, "DROP bob") == ["To confirm, name your own account: DROP alice"]
    assert "alice" in h.world.accounts


def test_drop_deletes_the_account_and_logs_out_every_session_on_it() -> None:
    h = Harness()
    h.store.apply([PutAccount(h.add_account("alice", "secret123"))])
    a, laptop = h.connect("alice"), h.connect("laptop")
    ns(a, "IDENTIFY secret123")
    ns(laptop, "IDENTIFY alice secret123")
    got = a.cmd("PRIVMSG NickServ :DROP Alice")
    assert "Account alice has been dropped." in said(got)
    assert n.RPL_LOGGEDOUT in numerics(got)
    assert n.RPL_LOGGEDOUT in numerics(laptop.take())
    assert "alice" not in h.world.accounts
    assert "alice" not in h.store.load().accounts
    assert logged_in(h, a) is None
    assert logged_in(h, laptop) is None


def test_drop_frees_the_nick_from_its_guard() -> None:
    h = Harness()
    h.add_account("alice", "secret123")
    owner, squatter = h.connect("owner"), h.connect("alice")
    ns(owner, "IDENTIFY alice secret123")
    ns(owner, "DROP alice")
    h.tick(h.world.settings.accounts.nick_grace_seconds)
    assert squatter.nick == "alice"


def test_drop_that_fails_to_commit_keeps_the_account() -> None:
    h = Harness()
    h.add_account("alice", "secret123")
    a = h.connect("alice")
    ns(a, "IDENTIFY secret123")
    h.store_fails = True
    assert ns(a, "DROP alice") == ["The account could not be dropped; try again later."]
    assert "alice" in h.world.accounts
    assert logged_in(h, a) == "alice"


def test_drop_needs_a_login() -> None:
    h = Harness()
    h.add_account("alice", "secret123")
    a = h.connect("alice")
    assert ns(a, "DROP alice") == ["You are not logged in."]
    assert "alice" in h.world.accounts


# ----------------------------------------------------------------------------- INFO, HELP, LOGOUT


def test_info_shows_the_registration_date_in_utc_and_the_operator_flag() -> None:
    h = Harness()
    account = h.add_account("root", "secret123", oper=True)
    c = h.connect("carol")
    answer = ns(c, "INFO root")
    day = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(account.created_at))
    assert answer == ["Information on root:", f"Registered: {day}", "Operator account: yes (oper)"]


def test_info_about_an_unknown_account_says_so() -> None:
    h = Harness()
    c = h.connect("carol")
    assert ns(c, "INFO nobody") == ["nobody is not a registered account."]


def test_help_lists_every_command() -> None:
    h = Harness()
    c = h.connect("carol")
    text = "\n".join(ns(c, "HELP"))
    for name in ("REGISTER", "IDENTIFY", "SET", "DROP", "INFO", "LOGOUT", "GHOST", "REGAIN"):
        assert name in text


def test_help_for_one_command_gives_its_syntax() -> None:
    h = Harness()
    c = h.connect("carol")
    answer = ns(c, "help identify")
    assert answer[0] == "Syntax: IDENTIFY [account] <password>"
    assert ns(c, "HELP FROB")[0].startswith("No such command")


def test_logout_ends_the_login() -> None:
    h = Harness()
    h.add_account("alice", "secret123")
    a = h.connect("alice")
    ns(a, "IDENTIFY secret123")
    got = a.cmd("PRIVMSG NickServ :LOGOUT")
    assert n.RPL_LOGGEDOUT in numerics(got)
    assert said(got) == ["You are no longer identified for alice."]
    assert logged_in(h, a) is None
    assert ns(a, "LOGOUT") == ["You are not logged in."]


# ----------------------------------------------------------------------------- GHOST, REGAIN


def test_ghost_renames_an_unidentified_holder_of_your_nick_to_a_guest() -> None:
    h = Harness()
    h.add_account("alice", "secret123")
    squatter, owner = h.connect("alice"), h.connect("laptop")
    ns(owner, "IDENTIFY alice secret123")
    assert ns(owner, "GHOST alice") == ["alice has been freed."]
    assert squatter.nick.startswith("Guest")
    assert any("reclaimed" in line for line in said(squatter.take()))
    assert owner.nick == "laptop"
    assert h.world.nicks.find("alice") is None


def test_ghost_only_works_on_your_own_accounts_nick() -> None:
    h = Harness()
    h.add_account("alice", "secret123")
    owner, bob = h.connect("laptop"), h.connect("bob")
    ns(owner, "IDENTIFY alice secret123")
    assert "only reclaim" in ns(owner, "GHOST bob")[0]
    assert bob.nick == "bob"


def test_ghost_leaves_a_session_logged_in_to_the_same_account() -> None:
    h = Harness()
    h.add_account("alice", "secret123")
    home, laptop = h.connect("alice"), h.connect("laptop")
    ns(home, "IDENTIFY secret123")
    ns(laptop, "IDENTIFY alice secret123")
    assert ns(laptop, "GHOST") == ["alice is logged in to your account; it stays."]
    assert home.nick == "alice"


def test_ghost_needs_a_login() -> None:
    h = Harness()
    h.add_account("alice", "secret123")
    squatter, c = h.connect("alice"), h.connect("carol")
    assert ns(c, "GHOST alice") == ["You are not logged in."]
    assert squatter.nick == "alice"


def test_regain_frees_the_nick_and_takes_it() -> None:
    h = Harness()
    h.add_account("alice", "secret123")
    squatter, owner = h.connect("alice"), h.connect("laptop")
    ns(owner, "IDENTIFY alice secret123")
    got = owner.cmd("PRIVMSG NickServ :REGAIN")
    assert [m.params[0] for m in got if m.command == "NICK"] == ["alice"]
    assert "You have regained the nickname alice." in said(got)
    assert owner.nick == "alice"
    assert squatter.nick.startswith("Guest")
    assert owner.session.nick_deadline is None


def test_regain_of_a_free_nick_just_takes_it() -> None:
    h = Harness()
    h.add_account("alice", "secret123")
    owner = h.connect("laptop")
    ns(owner, "IDENTIFY alice secret123")
    ns(owner, "REGAIN")
    assert owner.nick == "alice"
    assert ns(owner, "REGAIN") == ["You already have the nickname alice."]


# ----------------------------------------------------------------------------- secrecy


def test_passwords_never_appear_in_any_line_sent_to_anyone(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Whatever route a password takes to NickServ, no client and no log line sees it."""
    caplog.set_level(logging.DEBUG)
    h = Harness()
    caps = ["echo-message", "message-tags", "labeled-response", "batch", "account-notify"]
    a = h.connect("alice", caps=caps)
    b = h.connect("bob", caps=caps)
    root = h.connect("root")
    for c in (a, b, root):
        c.send("JOIN #lobby")
    a.send(
        "PRIVMSG NickServ :REGISTER first-Secret",
        "@label=x NICKSERV LOGOUT",
        "NS IDENTIFY wrong-Secret",
        "PRIVMSG nickserv@services. :IDENTIFY alice first-Secret",
        "NOTICE NickServ :SET PASSWORD second-Secret",
        "PRIVMSG NickServ :second-Secret",
        "PRIVMSG bob,NickServ :IDENTIFY third-Secret",
        "@label=y PRIVMSG NickServ :DROP alice",
    )
    b.send("NS REGISTER bobs-Secret", "NICKSERV IDENTIFY bob bobs-Secret")
    assert "alice" not in h.world.accounts
    assert "bob" in h.world.accounts
    sent = b"".join(line for c in h.clients.values() for line in c.inbox)
    assert b"Secret" not in sent
    assert "Secret" not in caplog.text
