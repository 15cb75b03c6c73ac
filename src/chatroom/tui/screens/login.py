"""Nickname and password, account creation, and the first-connection certificate question."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, Checkbox, Footer, Input, Label, Static

from chatroom.client.connection import format_fingerprint
from chatroom.client.servers import SavedServer, ServerStore
from chatroom.tui.widgets import safe_text

if TYPE_CHECKING:
    from chatroom.tui.app import ChatApp

__all__ = ["LoginScreen", "TrustScreen"]


class TrustScreen(ModalScreen[bool]):
    """Shown once per server, like SSH's "authenticity of host can't be established"."""

    BINDINGS = [
        Binding("y", "accept", "Accept"),
        Binding("n,escape", "reject", "Reject"),
    ]

    def __init__(self, host: str, port: int, fingerprint: str) -> None:
        super().__init__()
        self.host, self.port, self.fingerprint = host, port, fingerprint

    def compose(self) -> ComposeResult:
        with Vertical(id="trust", classes="dialog"):
            yield Label("New server certificate", classes="title")
            yield Static(
                safe_text(
                    f"This is the first connection to {self.host}:{self.port}. Its certificate "
                    "is not signed by an authority your system knows, so check its fingerprint "
                    "with the server's operator (it is printed when the server starts):"
                )
            )
            yield Static(format_fingerprint(self.fingerprint), id="fingerprint")
            yield Static(
                "Accept (y) to remember it: later connections are refused if it ever changes. "
                "Reject (n) to disconnect; nothing has been sent yet.",
                classes="hint",
            )
            with Horizontal(classes="buttons"):
                yield Button("Accept and remember", variant="warning", id="accept")
                yield Button("Reject", id="reject")

    @on(Button.Pressed, "#accept")
    def action_accept(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#reject")
    def action_reject(self) -> None:
        self.dismiss(False)


class LoginScreen(Screen[None]):
    """Log in, create an account, or come in as a guest (empty password)."""

    BINDINGS = [Binding("escape", "back", "Servers")]

    def __init__(self, store: ServerStore, server: SavedServer, nick: str = "") -> None:
        super().__init__()
        self.store = store
        self.server = server
        self.nick = nick or server.nick

    @property
    def chat_app(self) -> ChatApp:
        from chatroom.tui.app import ChatApp

        assert isinstance(self.app, ChatApp)
        return self.app

    def compose(self) -> ComposeResult:
        s = self.server
        with Vertical(id="login", classes="dialog"):
            yield Label(safe_text(f"Log in to {s.name}"), classes="title")
            security = "TLS" if s.tls else "plain TCP: the password would travel unencrypted"
            yield Static(safe_text(f"{s.address} · {security}"), classes="hint")
            yield Label("Nickname")
            yield Input(self.nick, placeholder="nickname", id="nick")
            yield Label("Password (empty: join as a guest)")
            yield Input(placeholder="password", password=True, id="password")
            yield Checkbox("Create a new account with this nickname", id="create")
            yield Static("", id="status")
            with Horizontal(classes="buttons"):
                yield Button("Connect", variant="primary", id="connect")
                yield Button("Back", id="back")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#password" if self.nick else "#nick", Input).focus()

    def set_status(self, text: str, error: bool = False) -> None:
        status = self.query_one("#status", Static)
        status.update(safe_text(text))
        status.set_class(error, "error")
        self.query_one("#connect", Button).disabled = not error and bool(text)

    @on(Input.Submitted)
    @on(Button.Pressed, "#connect")
    def connect(self) -> None:
        nick = self.query_one("#nick", Input).value.strip()
        password = self.query_one("#password", Input).value
        create = self.query_one("#create", Checkbox).value
        if not nick:
            self.set_status("Type a nickname first.", error=True)
            return
        if create and not password:
            self.set_status("A new account needs a password.", error=True)
            return
        self.set_status(f"Connecting to {self.server.address}…")
        self.chat_app.start_session(self.server, nick, password or None, create)

    @on(Button.Pressed, "#back")
    def action_back(self) -> None:
        self.chat_app.stop_session()
        if len(self.app.screen_stack) > 2:
            self.app.pop_screen()
        else:
            from chatroom.tui.screens.servers import ServersScreen

            self.app.switch_screen(ServersScreen(self.store))
