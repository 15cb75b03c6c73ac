"""Fixtures for the web client's end-to-end tests: a real server, Debian's Chromium driven
by Playwright, and a plain TCP IRC client.

Playwright never downloads a browser here: it launches /usr/bin/chromium. Every wait is
bounded, so a broken page fails a test in seconds instead of hanging the run.

`page.wait_for_function` takes a function (`"() => ..."`), never a bare expression: Playwright
re-checks a bare expression through `eval`, which the page's Content-Security-Policy refuses,
so such a wait fails whenever its condition is not already true at the first look.

Measure what is drawn with `web_support.drawn_box` (or in one page-side function), never
`locator.bounding_box()` or `locator.evaluate()` alone: the client may redraw its message
list between Playwright finding an element and measuring it, and a replaced node measures
as nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright

from tests.realserver import ServerThread
from tests.web.web_support import CHROMIUM, CHROMIUM_ARGS, LineClient, People, web_config


@pytest.fixture
def web_server(tmp_path: Path) -> Iterator[ServerThread]:
    server = ServerThread(web_config(tmp_path)).start()
    yield server
    server.stop()


@pytest.fixture
def tcp_client(web_server: ServerThread) -> Iterator[Callable[..., LineClient]]:
    clients: list[LineClient] = []

    def make(nick: str, caps: str = "") -> LineClient:
        client = LineClient(web_server.port, nick, caps)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    """One Chromium for the web tests; each test gets fresh contexts (no shared storage).

    Package scope, not session: Playwright's sync API keeps an event loop running in the
    test thread while it is open, and tests run after it that call ``asyncio.run`` (the
    terminal client's) would fail.
    """
    # `make test` installs it; a missing browser must fail loudly, not skip the web tests.
    assert CHROMIUM.exists(), "Debian's chromium is not installed: run `make /usr/bin/chromium`"
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True, timeout=30_000
        )
        yield chromium
        chromium.close()


@pytest.fixture
def people(browser: Browser, web_server: ServerThread) -> Iterator[People]:
    crowd = People(browser, web_server)
    yield crowd
    crowd.close()
    assert not crowd.errors, f"script errors in the page: {crowd.errors}"
