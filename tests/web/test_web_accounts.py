"""Accounts from the browser: create one (REGISTER), log in with it (SASL PLAIN), a wrong
password gets a clear error, and a dropped connection comes back on its own.
"""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import expect

from tests.realserver import ServerThread
from tests.web.web_support import LineClient, People


def test_web_creates_an_account_and_logs_in_with_it_later(
    people: People, tcp_client: Callable[[str], LineClient]
) -> None:
    page = people.open()
    people.login(page, "carol", "correct horse battery", create=True)
    expect(page.locator("#buffer-name")).to_have_text("#lobby")
    expect(page.locator('#members .member[data-nick="carol"]')).to_be_visible()
    watcher = tcp_client("watcher")
    watcher.send("WHOIS carol")
    watcher.wait_for(lambda line: " 330 watcher carol carol " in line)

    page.click("#logout")
    expect(page.locator("#login-form")).to_be_visible()
    people.login(page, "carol", "not the password")
    expect(page.locator("#login-error")).to_have_text("Wrong nickname or password.")
    expect(page.locator("#chat-screen")).to_be_hidden()

    people.login(page, "carol", "correct horse battery")
    expect(page.locator("#buffer-name")).to_have_text("#lobby")
    watcher.send("WHOIS carol")
    watcher.wait_for(lambda line: " 330 watcher carol carol " in line)


def test_web_refuses_to_create_an_account_for_a_taken_or_registered_nick(people: People) -> None:
    first = people.open()
    people.login(first, "dave", "a long enough password", create=True)
    expect(first.locator("#buffer-name")).to_have_text("#lobby")
    second = people.open()
    people.login(second, "dave", "another long password", create=True)
    # dave is online and an account: the answer names the account, not the nick in use
    # (a device of the same account could attach to dave; a stranger must log in).
    expect(second.locator("#login-error")).to_contain_text("already has an account")
    first.click("#logout")
    expect(first.locator("#login-form")).to_be_visible()
    second.click("#login-button")
    expect(second.locator("#login-error")).to_contain_text("already has an account")


def test_web_reconnects_after_the_connection_drops(
    people: People, web_server: ServerThread
) -> None:
    page = people.join_as("erin")
    shell = web_server.shell
    assert shell is not None
    assert shell._loop is not None
    for conn in list(shell.connections.values()):
        shell._loop.call_soon_threadsafe(conn.abort)
    expect(page.locator("#status-banner")).to_contain_text("Reconnecting")
    expect(page.locator("#status-banner")).to_be_hidden()
    expect(page.locator('#members .member[data-nick="erin"]')).to_be_visible()
    people.say(page, "back again")
    expect(page.locator("#message-list .msg-msg .text").last).to_have_text("back again")
