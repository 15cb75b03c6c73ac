"""The start screen: saved servers to pick, add, edit and remove."""

from __future__ import annotations

from dataclasses import replace

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, Checkbox, Footer, Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from chatroom.client.servers import (
    DEFAULT_PLAIN_PORT,
    DEFAULT_TLS_PORT,
    SavedServer,
    ServerStore,
)
from chatroom.client.vault import PasswordVault
from chatroom.tui.widgets import FORM_FOCUS_KEYS

__all__ = ["ServerForm", "ServersScreen"]


class ServerForm(ModalScreen[SavedServer | None]):
    """Add or edit one server. Changing host or port drops the pin: it was for that host."""

    BINDINGS = [Binding("escape", "cancel", "Cancel"), *FORM_FOCUS_KEYS]

    def __init__(self, server: SavedServer | None = None) -> None:
        super().__init__()
        self.server = server

    def compose(self) -> ComposeResult:
        s = self.server or SavedServer(name="", host="")
        with Vertical(id="form", classes="dialog"):
            yield Label("Edit server" if self.server else "Add a server", classes="title")
            yield Label("Name")
            yield Input(s.name, placeholder="home", id="name")
            yield Label("Host")
            yield Input(s.host, placeholder="chat.example.org", id="host")
            yield Label("Port")
            yield Input(str(s.port), id="port", type="integer")
            yield Checkbox("TLS (recommended)", s.tls, id="tls")
            yield Label("Nickname")
            yield Input(s.nick, placeholder="your nickname", id="nick")
            yield Label("", id="form-error", classes="error")
            with Horizontal(classes="buttons"):
                yield Button("Save", variant="primary", id="save")
                yield Button("Cancel", id="cancel")

    @on(Checkbox.Changed, "#tls")
    def _tls_toggled(self, event: Checkbox.Changed) -> None:
        port = self.query_one("#port", Input)
        if port.value in (str(DEFAULT_TLS_PORT), str(DEFAULT_PLAIN_PORT), ""):
            port.value = str(DEFAULT_TLS_PORT if event.value else DEFAULT_PLAIN_PORT)

    @on(Input.Submitted)
    @on(Button.Pressed, "#save")
    def _save(self) -> None:
        name = self.query_one("#name", Input).value.strip()
        host = self.query_one("#host", Input).value.strip()
        port_text = self.query_one("#port", Input).value.strip()
        error = self.query_one("#form-error", Label)
        if not host:
            error.update("A host is needed.")
            return
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            error.update("The port is a number from 1 to 65535.")
            return
        tls = self.query_one("#tls", Checkbox).value
        nick = self.query_one("#nick", Input).value.strip()
        old = self.server
        pin = old.fingerprint if old and (old.host, old.port) == (host, int(port_text)) else ""
        self.dismiss(SavedServer(name or host, host, int(port_text), tls, nick, pin))

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


class ServersScreen(Screen[None]):
    """Pick a server; Enter connects (the app shows the login for it: ``Picked``)."""

    BINDINGS = [
        Binding("a", "add", "Add"),
        Binding("e", "edit", "Edit"),
        Binding("d", "remove", "Remove"),
        Binding("q", "app.quit", "Quit"),
    ]

    class Picked(Message):
        """The user wants to connect to ``server``."""

        def __init__(self, server: SavedServer) -> None:
            super().__init__()
            self.server = server

    def __init__(self, store: ServerStore, vault: PasswordVault | None = None) -> None:
        super().__init__()
        self.store = store
        self.vault = vault or PasswordVault()

    def compose(self) -> ComposeResult:
        with Vertical(id="start", classes="dialog"):
            yield Label("ChatRoom", classes="title")
            yield Static("Pick a server and press Enter, or add one.", classes="hint")
            yield OptionList(id="servers")
            with Horizontal(classes="buttons"):
                yield Button("Connect", variant="primary", id="connect")
                yield Button("Add", id="add")
                yield Button("Edit", id="edit")
                yield Button("Remove", id="remove", variant="error")
        yield Footer()

    def on_mount(self) -> None:
        self.refresh_list()

    def refresh_list(self, select: str | None = None) -> None:
        options = self.query_one("#servers", OptionList)
        options.clear_options()
        for i, s in enumerate(self.store.servers):
            label = Text()
            label.append(s.name, style="bold")
            label.append(f"  {s.address}", style="dim")
            label.append("  TLS" if s.tls else "  plain", style="green" if s.tls else "yellow")
            if s.nick:
                label.append(f"  as {s.nick}", style="cyan")
            options.add_option(Option(label, id=s.name))
            if select is not None and s.name == select:
                options.highlighted = i
        if not self.store.servers:
            options.add_option(Option(Text("No servers yet: press a to add one.", "dim")))
        elif options.highlighted is None:
            options.highlighted = 0
        options.focus()

    def _selected(self) -> SavedServer | None:
        options = self.query_one("#servers", OptionList)
        if options.highlighted is None or not self.store.servers:
            return None
        option_id = options.get_option_at_index(options.highlighted).id
        return self.store.get(option_id) if option_id else None

    @on(OptionList.OptionSelected, "#servers")
    @on(Button.Pressed, "#connect")
    def action_connect(self) -> None:
        server = self._selected()
        if server is not None:
            self.post_message(self.Picked(server))

    @on(Button.Pressed, "#add")
    def action_add(self) -> None:
        def added(server: SavedServer | None) -> None:
            if server is not None:
                server = replace(server, name=self.store.unique_name(server.name))
                self.store.put(server)
                self.refresh_list(server.name)

        self.app.push_screen(ServerForm(), added)

    @on(Button.Pressed, "#edit")
    def action_edit(self) -> None:
        current = self._selected()
        if current is None:
            return

        def edited(server: SavedServer | None) -> None:
            if server is not None:
                self.store.put(server, old_name=current.name)
                self.refresh_list(server.name)

        self.app.push_screen(ServerForm(current), edited)

    @on(Button.Pressed, "#remove")
    def action_remove(self) -> None:
        current = self._selected()
        if current is not None:
            self.store.remove(current.name)
            self.vault.forget(current, current.nick)  # its saved password goes with it
            self.refresh_list()
