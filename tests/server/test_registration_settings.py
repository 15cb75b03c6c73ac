"""``accounts.registration_before_connect`` and ``accounts.require_email``: what REGISTER
(and NickServ, and PASS) allow, and the draft/account-registration value that says so."""

from __future__ import annotations

from chatroom.server.core.settings import AccountSettings, CoreSettings, Limits
from chatroom.server.harness import Harness, SimClient
from tests.server.support import one

PASSWORD = "long-password"


def _harness(**accounts: object) -> Harness:
    limits = Limits(connections_per_address=1000, connects_per_address_per_minute=1000)
    return Harness(CoreSettings(limits=limits, accounts=AccountSettings(**accounts)))  # type: ignore[arg-type]


def _registration_value(client: SimClient) -> str | None:
    for msg in client.cmd("CAP LS 302"):
        for token in msg.params[-1].split():
            name, sep, value = token.partition("=")
            if name == "draft/account-registration":
                return value if sep else None
    raise AssertionError("draft/account-registration not offered")


def _early(h: Harness, nick: str) -> SimClient:
    """A connection that sent NICK and is still negotiating caps (no welcome yet)."""
    c = h.connect()
    c.send("CAP LS 302", "CAP REQ :draft/account-registration", f"NICK {nick}")
    c.take()
    return c


# ----------------------------------------------------------------------------- before-connect


def test_by_default_register_may_come_before_the_welcome() -> None:
    h = _harness()
    assert _registration_value(h.connect()) == "before-connect"
    c = _early(h, "early")
    assert one(c.cmd(f"REGISTER * * {PASSWORD}"), "REGISTER").params[:2] == ("SUCCESS", "early")


def test_without_before_connect_register_waits_for_the_welcome() -> None:
    """The spec: a server without "before-connect" answers an early REGISTER with
    ``FAIL REGISTER COMPLETE_CONNECTION_REQUIRED``; the client retries after the welcome."""
    h = _harness(registration_before_connect=False)
    assert _registration_value(h.connect()) is None
    c = _early(h, "early")
    fail = one(c.cmd(f"REGISTER * * {PASSWORD}"), "FAIL")
    assert fail.params[:2] == ("REGISTER", "COMPLETE_CONNECTION_REQUIRED")
    assert "early" not in h.store.load().accounts
    c.send("USER early 0 * :Early", "CAP END")
    c.take()
    assert one(c.cmd(f"REGISTER * * {PASSWORD}"), "REGISTER").params[:2] == ("SUCCESS", "early")


def test_an_early_register_cannot_get_round_the_server_password() -> None:
    """The spec's server considerations: early REGISTER must not bypass PASS."""
    h = Harness(CoreSettings(server_password="letmein"))
    c = _early(h, "sneaky")
    fail = one(c.cmd(f"REGISTER * * {PASSWORD}"), "FAIL")
    assert fail.params[:2] == ("REGISTER", "TEMPORARILY_UNAVAILABLE")
    assert h.world.fold("sneaky") not in h.world.accounts
    ok = _early(h, "honest")
    ok.send("PASS letmein")
    assert one(ok.cmd(f"REGISTER * * {PASSWORD}"), "REGISTER").params[0] == "SUCCESS"


# ----------------------------------------------------------------------------- require_email


def test_required_email_is_announced_in_the_capability_value() -> None:
    assert _registration_value(_harness(require_email=True).connect()) == (
        "before-connect,email-required"
    )
    value = _registration_value(
        _harness(require_email=True, registration_before_connect=False).connect()
    )
    assert value == "email-required"


def test_register_without_an_address_needs_one_when_required() -> None:
    h = _harness(require_email=True)
    c = h.connect("dana")
    fail = one(c.cmd(f"REGISTER * * {PASSWORD}"), "FAIL")
    assert fail.params[:3] == ("REGISTER", "NEED_EMAIL", "dana")
    assert h.world.fold("dana") not in h.world.accounts


def test_register_stores_the_address_it_was_given() -> None:
    h = _harness(require_email=True)
    c = h.connect("dana")
    assert one(c.cmd(f"REGISTER * dana@example.org {PASSWORD}"), "REGISTER").params[0] == (
        "SUCCESS"
    )
    assert h.store.load().accounts["dana"].email == "dana@example.org"


def test_register_refuses_something_that_is_no_address() -> None:
    h = _harness()
    c = h.connect("dana")
    fail = one(c.cmd(f"REGISTER * not-an-address {PASSWORD}"), "FAIL")
    assert fail.params[:2] == ("REGISTER", "INVALID_EMAIL")


def test_nickserv_register_needs_an_address_when_required() -> None:
    h = _harness(require_email=True)
    c = h.connect("erin")
    notice = one(c.cmd(f"PRIVMSG NickServ :REGISTER {PASSWORD}"), "NOTICE")
    assert "email address" in notice.params[-1]
    assert h.world.fold("erin") not in h.world.accounts
    c.cmd(f"PRIVMSG NickServ :REGISTER {PASSWORD} erin@example.org")
    assert c.session.account == "erin"
    assert h.store.load().accounts["erin"].email == "erin@example.org"


def test_pass_cannot_create_an_account_without_an_address_when_one_is_required() -> None:
    """PASS has no place for an address, so with require_email it only logs in."""
    h = _harness(require_email=True)
    c = h.connect()
    c.send(f"PASS {PASSWORD}", "NICK fresh", "USER fresh 0 * :Fresh")
    assert c.closed_reason is not None
    assert h.world.fold("fresh") not in h.world.accounts
