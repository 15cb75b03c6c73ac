"""Helpers for the web tests: a server with its HTTP listener, a plain TCP IRC client,
and browser users (``People``). The fixtures that build them are in conftest.py.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import socket
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

from playwright.sync_api import Browser, BrowserContext, Dialog, FloatRect, Locator, Page, expect

from chatroom import config as cfg
from tests.realserver import ServerThread

T = TypeVar("T")

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WAIT_MS = 10_000


def web_config(tmp_path: Path, extra: dict[str, object] | None = None) -> cfg.Config:
    """Free ports for IRC and HTTP, no TLS listener, a fresh data dir, cheap hashing;
    ``extra`` adds or replaces settings (``{"history.chathistory_limit": 20}``)."""
    flags: dict[str, object] = {
        "listen.port": 0,
        "listen.http_port": 0,
        "listen.tls_port": "off",
        "server.data_dir": str(tmp_path / "data"),
        # These tests are about the web client, not about argon2's cost.
        "argon2.memory_kib": 1024,
        "argon2.time_cost": 1,
    }
    flags.update(extra or {})
    return cfg.load(env={}, flags=flags)


def run_async(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` to the end on a fresh loop in its own thread.

    Playwright's sync API keeps an event loop running in the test's thread once the
    browser is up, so ``asyncio.run`` cannot be called there.
    """
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        result: T = pool.submit(asyncio.run, coro).result(timeout=30)
    return result


def http_url(server: ServerThread) -> str:
    return f"http://127.0.0.1:{server.http_port}"


def drawn_box(locator: Locator) -> FloatRect:
    """Where ``locator``'s element is drawn, measured on the element the page shows now.

    The client redraws its whole message list whenever lines arrive above what is shown (a
    history page, a display-name, a deletion), and Playwright finds the element and measures
    it in two steps: a node replaced in between measures as not drawn (``None``). Such a
    node is found afresh and measured again; one that stays undrawn fails after a bound.
    """
    deadline = time.monotonic() + WAIT_MS / 1000
    while (box := locator.bounding_box()) is None:
        assert time.monotonic() < deadline, f"{locator} is not drawn"
        time.sleep(0.05)
    return box


class LineClient:
    """A bare TCP IRC client: what any terminal client would send and see."""

    def __init__(self, port: int, nick: str, caps: str = "") -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.buffer = b""
        self.lines: list[str] = []
        self.nick = nick
        if caps:  # the capabilities are taken as granted: ask only for ones the server has
            self.send(f"CAP REQ :{caps}")
        self.send(f"NICK {nick}", f"USER {nick} 0 * :{nick}")
        if caps:
            self.send("CAP END")
        self.wait_for(lambda line: f" 001 {nick} " in line)

    def send(self, *lines: str) -> None:
        self.sock.sendall("".join(line + "\r\n" for line in lines).encode())

    def wait_for(self, predicate: Callable[[str], bool], timeout: float = 10.0) -> str:
        """Read until a line matches (answering PINGs); fails with the last lines seen."""
        seen = 0
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.lines[seen:]:
                if predicate(line):
                    return line
            seen = len(self.lines)
            self.sock.settimeout(max(0.05, deadline - time.monotonic()))
            try:
                data = self.sock.recv(65536)
            except TimeoutError:
                continue
            if not data:
                break
            self.buffer += data
            *complete, self.buffer = self.buffer.split(b"\r\n")
            for raw in complete:
                line = raw.decode("utf-8", "replace")
                if line.startswith("PING "):
                    self.send("PONG " + line[5:])
                self.lines.append(line)
        raise AssertionError(f"{self.nick}: no matching line; last: {self.lines[-10:]}")

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.send("QUIT :bye")
        self.sock.close()


class People:
    """Browser users of one server: each ``open`` is a separate person (own context)."""

    def __init__(self, browser: Browser, server: ServerThread) -> None:
        self.browser = browser
        self.server = server
        self.contexts: list[BrowserContext] = []
        self.dialogs: list[str] = []
        self.errors: list[str] = []

    def _dialog(self, dialog: Dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def open(self, width: int = 1280, height: int = 800) -> Page:
        context = self.browser.new_context(viewport={"width": width, "height": height})
        self.contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(WAIT_MS)
        # An alert() would mean injected script ran; record it rather than block on it.
        page.on("dialog", self._dialog)
        # Script errors in the page fail the test that caused them.
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        page.goto(http_url(self.server) + "/")
        return page

    def login(self, page: Page, nick: str, password: str = "", create: bool = False) -> None:
        """Fill the login form and submit; does not wait for the outcome."""
        if create:
            page.click("#tab-create")
        page.fill("#nick", nick)
        page.fill("#password", password)
        page.click("#login-button")

    def join_as(self, nick: str, password: str = "", create: bool = False) -> Page:
        """Open a page, log in and wait until #lobby is shown with ourselves in it."""
        page = self.open()
        self.login(page, nick, password, create)
        expect(page.locator("#buffer-name")).to_have_text("#lobby")
        expect(page.locator(f'#members .member[data-nick="{nick}"]')).to_be_visible()
        return page

    @staticmethod
    def say(page: Page, text: str) -> None:
        page.fill("#input", text)
        page.press("#input", "Enter")

    def close(self) -> None:
        for context in self.contexts:
            context.close()
