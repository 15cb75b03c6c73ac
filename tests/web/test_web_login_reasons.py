"""A refused login says why in the browser.

Off loopback without TLS the server refuses a password sent in clear (SASL PLAIN), and
says so in its 904. The web client used to show "Wrong nickname or password." for every
904, so a user with the right password was told it was wrong. Here the browser's
connection comes through a trusted reverse proxy (127.0.0.0/8 in ``http.trusted_proxies``)
that names a remote client in ``X-Forwarded-For``, so the server sees a remote user on an
unencrypted link, exactly as a user elsewhere on the network would be.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.realserver import ServerThread
from tests.web.web_support import WAIT_MS, LineClient, http_url, web_config

PASSWORD = "the right password"


@pytest.fixture
def proxied_server(tmp_path: Path) -> Iterator[ServerThread]:
    server = ServerThread(web_config(tmp_path, {"http.trusted_proxies": "127.0.0.0/8"})).start()
    owner = LineClient(server.port, "fiona")
    owner.send(f"REGISTER * * :{PASSWORD}")
    owner.wait_for(lambda line: " REGISTER SUCCESS " in line)
    owner.close()
    yield server
    server.stop()


@pytest.fixture
def remote_page(browser: Browser, proxied_server: ServerThread) -> Iterator[Page]:
    """A browser whose requests the "proxy" attributes to 203.0.113.9."""
    context = browser.new_context(extra_http_headers={"X-Forwarded-For": "203.0.113.9"})
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    page.goto(http_url(proxied_server) + "/")
    yield page
    context.close()


def test_web_shows_the_servers_reason_when_a_password_may_not_be_sent_in_clear(
    remote_page: Page,
) -> None:
    remote_page.fill("#nick", "fiona")
    remote_page.fill("#password", PASSWORD)
    remote_page.click("#login-button")
    error = remote_page.locator("#login-error")
    expect(error).to_contain_text("The server refused the login")
    expect(error).to_contain_text("use TLS to send a password")
    expect(remote_page.locator("#chat-screen")).to_be_hidden()
