"""Nickname and password, account creation, and the first-connection certificate question."""

from __future__ import annotations

from rich.console import Console, ConsoleOptions, RenderResult
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, Checkbox, Footer, Input, Label, Static

from chatroom.client.servers import SavedServer, ServerStore
from chatroom.client.vault import PasswordVault
from chatroom.fingerprints import grouped
from chatroom.tui.widgets import FORM_FOCUS_KEYS, safe_text

__all__ = ["FingerprintRows", "LoginScreen", "TrustScreen"]


class FingerprintRows:
    """The fingerprint's eight groups, as many to a row as the width holds (8, 4, 2 or 1):
    rows stay even and no group is ever cut, however narrow the terminal."""

    def __init__(self, fingerprint: str) -> None:
        self.groups = grouped(fingerprint).split()

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width = max(1, options.max_width)
        size = max((len(g) for g in self.groups), default=1)
        per_row = next((k for k in (8, 4, 2) if k * (size + 1) - 1 <= width), 1)
        rows = [" ".join(self.groups[i : i + per_row]) for i in range(0, len(self.groups), per_row)]
        yield Text("\n".join(rows), no_wrap=False, overflow="fold")


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
            yield Static(FingerprintRows(self.fingerprint), id="fingerprint")
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
    """Log in, create an account, or come in as a guest (empty password).

    With a password saved in the system keyring the form comes filled in, and with
    ``auto_connect`` (a server named on the command line) it connects at once: nothing
    to type. The app does the connecting; this screen only asks for it (``Connect``).
    """

    BINDINGS = [Binding("escape", "back", "Servers"), *FORM_FOCUS_KEYS]

    class Connect(Message):
        """The user asks to connect with these details."""

        def __init__(
            self,
            server: SavedServer,
            nick: str,
            password: str | None,
            create: bool,
            remember: bool,
        ) -> None:
            super().__init__()
            self.server, self.nick, self.password = server, nick, password
            self.create, self.remember = create, remember

    class Back(Message):
        """The user leaves the login: any connection attempt stops, the servers show."""

    def __init__(
        self,
        store: ServerStore,
        server: SavedServer,
        nick: str = "",
        vault: PasswordVault | None = None,
        *,
        auto_connect: bool = False,
    ) -> None:
        super().__init__()
        self.store = store
        self.server = server
        self.nick = nick or server.nick
        self.vault = vault or PasswordVault()
        self.auto_connect = auto_connect
        self._refocus_connect = False

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
            yield Checkbox(
                "Remember the password (system keyring)",
                id="remember",
                disabled=not self.vault.available(),
            )
            yield Static("", id="status")
            with Horizontal(classes="buttons"):
                yield Button("Connect", variant="primary", id="connect")
                yield Button("Back", id="back")
        yield Footer()

    def on_mount(self) -> None:
        remember = self.query_one("#remember", Checkbox)
        if remember.disabled:
            remember.tooltip = "No system keyring is available on this machine."
        saved = self.vault.get(self.server, self.nick) if self.nick else None
        if saved is None:
            self.query_one("#password" if self.nick else "#nick", Input).focus()
            return
        self.query_one("#password", Input).value = saved
        remember.value = True
        self.query_one("#connect", Button).focus()
        if self.auto_connect:
            self.connect()
        else:
            self.set_status("The saved password is filled in: press Enter to connect.")
            self.query_one("#connect", Button).disabled = False

    def set_status(self, text: str, error: bool = False) -> None:
        status = self.query_one("#status", Static)
        status.update(safe_text(text))
        status.set_class(error, "error")
        if error:  # its end says what to do: on a short terminal, scroll down to it
            self.call_after_refresh(self.query_one("#login").scroll_end, animate=False)
        connect = self.query_one("#connect", Button)
        busy = not error and bool(text)
        if busy and self.focused is connect:
            self._refocus_connect = True  # disabling it sends the focus on to Back
        connect.disabled = busy
        if not busy and self._refocus_connect:
            self._refocus_connect = False
            connect.focus()  # so Enter tries again, rather than leaving for the servers

    @on(Input.Submitted, "#nick")
    def nick_entered(self) -> None:
        """Enter after the nickname goes on to the password, as in any login form: a
        user with an account must not be logged in as a guest before typing it."""
        self.query_one("#password", Input).focus()

    @on(Input.Submitted, "#password")
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
        remember = self.query_one("#remember", Checkbox).value
        self.set_status(f"Connecting to {self.server.address}…")
        self.post_message(self.Connect(self.server, nick, password or None, create, remember))

    @on(Button.Pressed, "#back")
    def action_back(self) -> None:
        self.post_message(self.Back())  # the app stops connecting and shows the servers
