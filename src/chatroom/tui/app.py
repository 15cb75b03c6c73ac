"""``chatroom connect``: the Textual app. Servers → login → chat.

The network client runs as a Textual worker on the app's event loop and posts each event
as a ``NetEvent`` message; the app hands it to whichever screen is showing. Attributes go
down, messages come up: screens post what the user asks for (``ServersScreen.Picked``,
``LoginScreen.Connect``, ``ChatScreen.Submit``...) and the app, the only one that knows the
network and the screen stack, does it. No screen imports this module.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import datetime
from pathlib import Path

from textual import events
from textual.app import App
from textual.css.query import NoMatches
from textual.message import Message
from textual.worker import Worker

from chatroom.client.connection import ConnectionStatus, Endpoint, IrcClient
from chatroom.client.servers import SavedServer, ServerStore
from chatroom.client.session import ClientSession
from chatroom.client.state import (
    SERVER_BUFFER,
    AuthFailed,
    Event,
    LineKind,
    LoggedIn,
    Registered,
    Show,
    StateChanged,
)
from chatroom.client.vault import PasswordVault
from chatroom.irc.formatting import terminal_safe
from chatroom.tui.altkeys import read_meta_digits_as_alt
from chatroom.tui.screens.chat import ChatScreen
from chatroom.tui.screens.login import LoginScreen, TrustScreen
from chatroom.tui.screens.servers import ServersScreen

__all__ = ["ChatApp", "NetEvent"]


class NetEvent(Message):
    """One event from the network client, carried up to the app."""

    def __init__(self, event: Event | ConnectionStatus) -> None:
        super().__init__()
        self.event = event


class ChatApp(App[None]):
    CSS_PATH = Path(__file__).with_name("app.tcss")
    TITLE = "ChatRoom"
    # Textual's command palette would take Ctrl+P, which is "previous room" here.
    ENABLE_COMMAND_PALETTE = False

    def __init__(
        self,
        store: ServerStore,
        server: SavedServer | None = None,
        nick: str = "",
        *,
        accept_new_cert: bool = False,
        vault: PasswordVault | None = None,
    ) -> None:
        super().__init__()
        read_meta_digits_as_alt()  # Alt+1..9 switch windows (tui/altkeys.py)
        self.store = store
        self.initial_server = server
        self.initial_nick = nick
        self.accept_new_cert = accept_new_cert
        self.vault = vault or PasswordVault()
        self.remember_as: str | None = None
        """The nickname whose password goes to the keyring once the login succeeds."""
        self.server: SavedServer | None = None
        self.session: ClientSession | None = None
        self.client: IrcClient | None = None
        self.worker: Worker[None] | None = None
        self.chat: ChatScreen | None = None
        self._away_shown = False
        """Whether the status line says we are away (see ``_own_away_changed``)."""

    def on_mount(self) -> None:
        if self.initial_server is not None:
            login = LoginScreen(
                self.store, self.initial_server, self.initial_nick, self.vault, auto_connect=True
            )
            self.push_screen(login)
        else:
            self.push_screen(ServersScreen(self.store, self.vault))

    def on_login_screen_connect(self, message: LoginScreen.Connect) -> None:
        self.start_session(message.server, message.nick, message.password, message.create)
        self.remember_as = message.nick if message.remember and message.password else None
        if not message.remember:
            self.vault.forget(message.server, message.nick)

    def on_login_screen_back(self, message: LoginScreen.Back) -> None:
        self.stop_session()
        if len(self.screen_stack) > 2:
            self.pop_screen()
        else:  # started straight at the login (a server named on the command line)
            self.switch_screen(ServersScreen(self.store, self.vault))

    def on_servers_screen_picked(self, message: ServersScreen.Picked) -> None:
        self.push_screen(LoginScreen(self.store, message.server, vault=self.vault))

    def on_chat_screen_submit(self, message: ChatScreen.Submit) -> None:
        chat, session = self.chat, self.session
        before = session.active if session is not None else None
        self.submit(message.buffer, message.text)
        if chat is not None and session is not None and session.active != before:
            chat.switch_to(session.buffers[session.active].name)  # /query opened a window

    def on_chat_screen_older_wanted(self, message: ChatScreen.OlderWanted) -> None:
        self.request_older(message.room, message.before)

    def _save_password(self) -> None:
        """Logged in: the password is right, so it may be remembered (if asked)."""
        session, server, nick = self.session, self.server, self.remember_as
        if nick and session is not None and server is not None and session.login.password:
            self.vault.put(server, nick, session.login.password)
            self.remember_as = None  # saved once; reconnects need not save it again

    # ------------------------------------------------------------------ the session

    def start_session(
        self, server: SavedServer, nick: str, password: str | None, create: bool
    ) -> None:
        """Connect in a worker; the login screen waits for Registered or a failure."""
        self.stop_session()
        self.server = server
        self.chat = None
        if server.nick != nick and self.store.get(server.name) is not None:
            self.server = server = SavedServer(
                server.name, server.host, server.port, server.tls, nick, server.fingerprint
            )
            self.store.put(server)
        self.session = ClientSession(nick, password, create_account=create)
        endpoint = Endpoint(server.host, server.port, server.tls, server.fingerprint, server.name)
        self.client = IrcClient(
            self.session,
            endpoint,
            self._post_event,
            self._ask_trust,
            self._save_pin,
        )
        self.worker = self.run_worker(self.client.run(), name="irc", exclusive=True)

    def describe_connection(self) -> str:
        """The status line: where we are, as whom, and how the server was trusted."""
        server, session = self.server, self.session
        if server is None or session is None:
            return ""
        security = "TLS, certificate pinned" if server.fingerprint else "TLS"
        if not server.tls:
            security = "plain TCP, not encrypted"
        who = f"logged in as {session.account}" if session.account else "guest"
        if not session.account and not session.registered and session.login.password:
            who = "logging in…"
        away = " · away" if session.marked_away else ""
        return f"{server.address} · {security} · {session.nick} ({who}){away} · /help for commands"

    def _post_event(self, event: Event | ConnectionStatus) -> None:
        self.post_message(NetEvent(event))

    def stop_session(self) -> None:
        if self.worker is not None:
            self.worker.cancel()
        self.worker = None
        self.client = None

    def submit(self, buffer: str, text: str) -> None:
        if self.client is not None:
            self.client.submit(buffer, text)
            if self.client.quitting:
                self.set_timer(0.5, self.exit)

    def request_older(self, room: str, before: datetime) -> None:
        if self.client is not None and self.session is not None:
            self.session.history.request(room, before)
            self.client.flush()

    async def _ask_trust(self, host: str, port: int, fingerprint: str) -> bool:
        if self.accept_new_cert:
            return True
        answer: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self.push_screen(
            TrustScreen(host, port, fingerprint), lambda ok: answer.set_result(bool(ok))
        )
        return await answer

    def _save_pin(self, fingerprint: str) -> None:
        """Remember the accepted certificate; a server typed on the command line is saved
        too, or its pin would be forgotten and asked for again next time."""
        server = self.server
        if server is None:
            return
        nick = self.session.nick if self.session is not None else server.nick
        if self.store.get(server.name) is None:
            server = SavedServer(
                self.store.unique_name(server.name), server.host, server.port, True, nick
            )
        self.server = SavedServer(server.name, server.host, server.port, True, nick, fingerprint)
        self.store.put(self.server)

    # ------------------------------------------------------------------ events

    def on_app_focus(self, event: events.AppFocus) -> None:
        if self.chat is not None:
            self.chat.set_viewing(True)  # what arrived meanwhile is read now

    def on_app_blur(self, event: events.AppBlur) -> None:
        if self.chat is not None:
            self.chat.set_viewing(False)  # in the background: new lines stay unread

    def _own_nick_changed(self, event: Event | ConnectionStatus) -> bool:
        """The "You are now known as" line: our nick changed (/nick, or the server's
        rename of a guest holding a registered nick)."""
        return (
            isinstance(event, Show)
            and event.kind is LineKind.NICK
            and event.buffer == SERVER_BUFFER
        )

    def _own_away_changed(self, event: Event | ConnectionStatus) -> bool:
        """The server said we are away, or back (306/305): the status line shows it."""
        session = self.session
        if not isinstance(event, StateChanged) or session is None or not session.registered:
            return False
        changed = session.marked_away != self._away_shown
        self._away_shown = session.marked_away
        return changed

    def on_net_event(self, message: NetEvent) -> None:
        event = message.event
        if isinstance(event, LoggedIn):
            self._save_password()
        if self.chat is not None:
            with contextlib.suppress(NoMatches):  # the app is closing: widgets are gone
                self.chat.handle(event)
                if isinstance(event, ConnectionStatus):
                    text = self.describe_connection() if event.connected else event.text
                    self.chat.set_status(text, event.connected)
                elif (
                    isinstance(event, (LoggedIn, Registered))
                    or self._own_nick_changed(event)
                    or self._own_away_changed(event)
                ):
                    # After a reconnect the login ends after "Connected", and /nick renames
                    # us: say who we are now.
                    self.chat.set_status(self.describe_connection(), connected=True)
            if isinstance(event, ConnectionStatus) and event.final:
                text = terminal_safe(event.text, keep_newlines=True)
                self.notify(text, severity="error", timeout=10, markup=False)
            return
        login = self.screen if isinstance(self.screen, LoginScreen) else None
        if isinstance(event, Registered) and self.session is not None:
            self.chat = ChatScreen(self.session, self.describe_connection())
            self.switch_screen(self.chat)
        elif isinstance(event, AuthFailed) and login is not None:
            text = event.text
            if event.reason == "password" and "no account named" in text:
                # A new user's first try: the way to an account is on this very form.
                text += ' New here? Tick "Create a new account with this nickname" and connect.'
            login.set_status(text, error=True)
        elif isinstance(event, LoggedIn) and login is not None:
            what = "Account created" if event.created else "Logged in"
            login.set_status(f"{what}: {event.account}")
        elif isinstance(event, ConnectionStatus) and login is not None:
            failed = self.session is not None and self.session.login.failed is not None
            if event.final and not failed:
                login.set_status(event.text, error=True)
            elif not event.final:
                login.set_status(event.text)
