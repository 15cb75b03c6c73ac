"""``chatroom connect --plain``: a line mode for scripts and screen readers.

Each stdin line is a message to the current room (the last one joined or queried) or a
/command; each stdout line is ``[HH:MM] <nick> text``, with the room inserted after the
time when the line belongs to another one. Status and errors go to stderr, so a script
reading stdout sees only the conversation. No colours, no cursor movement.

Everything another party wrote (nicks, messages, topics, reasons, the server's own ERROR
text) goes through ``terminal_safe`` before it is printed: IRC formatting is removed, and
control characters and escape sequences are shown, never obeyed by the terminal.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import textwrap
import threading
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TextIO

from chatroom.client.connection import ConnectionStatus, Endpoint, IrcClient
from chatroom.client.session import ClientSession
from chatroom.client.state import (
    SERVER_BUFFER,
    AuthFailed,
    Deleted,
    Event,
    LineKind,
    LoggedIn,
    Registered,
    Show,
)
from chatroom.client.timeline import DayBreak, Timeline
from chatroom.fingerprints import grouped_rows
from chatroom.irc.formatting import terminal_safe

__all__ = ["format_plain", "retry_hint", "run_plain"]


JOIN_WAIT = 10.0
"""Seconds the line mode waits for a room it joins before sending the next line anyway."""


def format_plain(line: Show, current: str | None, width: int | None = None) -> str:
    """``[12:34] <alice> hi``; actions as ``* alice waves``, events as ``-- text``.

    Safe to print: formatting removed, controls made visible (``terminal_safe``). With a
    ``width`` (the terminal's), the client's own lines and errors (``/help``, replies) are
    word-wrapped to it, later rows indented under their text as the full-screen client
    does. The conversation is left whole for the terminal to wrap, so a long link still
    copies as one piece.
    """
    lead, text = _layout(line, current)
    lead = terminal_safe(lead)
    text = terminal_safe(text, keep_newlines=True)  # multiline messages
    if line.deleted:
        return lead + text
    if line.kind in (LineKind.MESSAGE, LineKind.NOTICE, LineKind.ACTION):
        return _indented(lead, text)
    if width and line.kind in (LineKind.INFO, LineKind.ERROR):
        return _wrapped(lead, text, width)
    return lead + text


def _layout(line: Show, current: str | None) -> tuple[str, str]:
    """The line as (lead, text): time, room, nick and marker, then what was said."""
    stamp = line.time.astimezone().strftime("%H:%M")
    where = "" if current is not None and line.buffer.lower() == current.lower() else line.buffer
    head = f"[{stamp}] " + (f"{where} " if where and where != "*" else "")
    if line.deleted:
        return f"{head}-- ", f"{line.nick}: {line.text}"
    if line.kind is LineKind.MESSAGE:
        return f"{head}<{line.nick}> ", line.text
    if line.kind is LineKind.NOTICE:
        return f"{head}-{line.nick}- ", line.text
    if line.kind is LineKind.ACTION:
        return f"{head}* {line.nick} ", line.text
    if line.kind is LineKind.ERROR:
        return f"{head}!! ", line.text
    return f"{head}-- ", line.text


def _indented(lead: str, text: str) -> str:
    """A multi-line message (draft/multiline) under one head: later lines are indented
    to the text, so a script still reads one message per unindented line."""
    return lead + text.replace("\n", "\n" + " " * len(lead))


MIN_TEXT_WIDTH = 20
"""Narrower than this after the indent, wrapped rows give up the indent to keep their text
(as ``chatroom.tui.chatlog`` does)."""


def _wrapped(lead: str, text: str, width: int) -> str:
    """``lead + text`` in rows of at most ``width`` columns, broken between words; rows
    after the first start under the text, so a script still reads one line per unindented
    row."""
    indent = len(lead) if width - len(lead) >= MIN_TEXT_WIDTH else 0
    pad = " " * indent
    rows: list[str] = []
    for i, part in enumerate(text.split("\n")):
        first = lead if i == 0 else pad
        rows += textwrap.wrap(
            part,
            width=max(width, len(first) + 1),
            initial_indent=first,
            subsequent_indent=pad,
            break_on_hyphens=False,
        ) or [first.rstrip()]
    return "\n".join(rows)


_RETRY_HINTS = {
    "password": "to try again, run the same command with the right password in "
    "CHATROOM_PASSWORD (or type it at the prompt; empty: join as a guest). New here? Add "
    "--create-account to create the account {nick} with that password.",
    "nick_taken": "{nick} belongs to an account: run the same command with its password in "
    "CHATROOM_PASSWORD, or choose another name with --nick.",
    "account_exists": "to log in to it, run the same command without --create-account; "
    "to make a new account, choose another name with --nick.",
    "nick_invalid": "choose another name with --nick and run the command again.",
    "registration": "fix that and run the same command again with --create-account.",
    "throttled": "wait a few minutes, then run the same command again.",
}
"""What to do after a failed login, for each ``AuthFailed.reason``: the line mode ends
there (it never logs in as a guest instead), so the next step is on the command line."""


def retry_hint(reason: str, nick: str) -> str:
    """The next step after a failed login of ``nick``; "" when there is none to give."""
    return _RETRY_HINTS.get(reason, "").format(nick=nick)


class PlainUI:
    def __init__(self, out: TextIO, err: TextIO, accept_new_cert: bool) -> None:
        self.out = out
        self.err = err
        self.accept_new_cert = accept_new_cert
        self.session: ClientSession | None = None
        self.failed = False
        self.pinned = ""
        self.lines: TerminalLines | None = None
        self.talking = asyncio.Event()
        """Set once typed lines may go to the server (see ``ready_to_talk``)."""
        self.ended = False
        """The connection is over for good: typed lines have nowhere to go."""
        self.join_answered = asyncio.Event()
        """Set when our JOIN of a room came back, or an error did (see ``pump``)."""
        self.days = Timeline(None, datetime.now().astimezone().date())
        """Where the day changes between the lines printed (see ``_print``)."""
        self.join_requested = False
        """The user typed /join: the room that comes back becomes the current one. Rooms
        rejoined after a reconnect do not take the user's lines elsewhere."""
        self.welcomed = False
        """The server welcomed us once: a later welcome is a reconnect, said in one line."""
        self.reconnected_to = ""
        """What ``Connected to ...`` said on a reconnect, held back for the one line."""

    def width(self) -> int | None:
        """The terminal's width now (it may have been resized); None when stdout is not
        a terminal (a script reads it: nothing is wrapped)."""
        try:
            if self.out.isatty():
                return os.get_terminal_size(self.out.fileno()).columns
        except (AttributeError, ValueError, OSError):
            pass
        return None

    def _print(self, line: Show) -> None:
        """One line on stdout. In a terminal, a line said on another day than the one
        printed before it comes under the day's date (``-- Friday, 4 December 2026``), as
        the full-screen client's separators: scrollback shows only the time of day. A
        script reading a pipe gets only the lines."""
        s = self.session
        assert s is not None
        current = s.buffers[s.active].name if s.active in s.buffers else None
        width = self.width()
        for entry in self.days.feed(line):
            if isinstance(entry, DayBreak) and width is not None:
                self.out.write(f"-- {entry.label}\n")
        self.out.write(format_plain(line, current, width) + "\n")
        self.out.flush()

    def on_event(self, event: Event | ConnectionStatus) -> None:
        s = self.session
        assert s is not None
        if not self.talking.is_set() and self.ready_to_talk(event):
            self.talking.set()
        if isinstance(event, Registered):
            if self.welcomed:
                where = self.reconnected_to or "the server"
                self.err.write(
                    f"chatroom: back: {terminal_safe(where)} again, as "
                    f"{terminal_safe(event.nick)}\n"
                )
            self.welcomed = True
        if isinstance(event, Show):
            if event.greeting and self.welcomed and self.reconnected_to:
                return  # the welcome and MOTD were printed on the first connection
            if (event.kind is LineKind.JOIN and event.own) or event.kind is LineKind.ERROR:
                self.join_answered.set()
            if event.kind is LineKind.JOIN and event.own:
                if self.join_requested or s.active == SERVER_BUFFER:
                    s.set_active(event.buffer)
                self.join_requested = False
            self._print(event)
        elif isinstance(event, Deleted):
            self._print(event.line)
        elif isinstance(event, AuthFailed):
            self.failed = True
            self.err.write(f"chatroom: {terminal_safe(event.text, keep_newlines=True)}\n")
            hint = retry_hint(event.reason, terminal_safe(s.nick))
            if hint:
                self.err.write(f"chatroom: {hint}\n")
        elif isinstance(event, LoggedIn):
            if self.reconnected_to:
                return  # logged in again after a reconnect: the "back" line says it
            what = "created account" if event.created else "logged in as"
            self.err.write(f"chatroom: {what} {terminal_safe(event.account)}\n")
        elif isinstance(event, ConnectionStatus):
            if event.connected and self.welcomed:
                self.reconnected_to = event.text.removeprefix("Connected to ")
                return  # said with the welcome back, in one line
            self.ended = self.ended or event.final
            self.err.write(f"chatroom: {terminal_safe(event.text, keep_newlines=True)}\n")
            if event.final and not event.connected and "Disconnected" not in event.text:
                self.failed = True
        self.err.flush()

    async def ask(self, host: str, port: int, fingerprint: str) -> bool:
        self.err.write(
            f"chatroom: first connection to {host}:{port}; its certificate's SHA-256 is\n"
            + "".join(f"  {row}\n" for row in grouped_rows(fingerprint))
        )
        if self.accept_new_cert:
            self.err.write("chatroom: accepted (--insecure-accept-new-cert) and pinned\n")
            return True
        if self.lines is not None and self.lines.interactive:
            # stdin is the terminal: its one reader hands us the next line typed.
            return await self._ask_on(self.lines.answer)
        try:
            tty = open("/dev/tty", encoding="utf-8")  # noqa: SIM115 (closed below)
        except OSError:
            self.err.write(
                "chatroom: not accepted. Check it with the server's operator, then run once "
                "with --insecure-accept-new-cert (or from a terminal) to pin it.\n"
            )
            return False
        # stdin carries a script's messages: ask on the terminal itself, which nobody else
        # reads.
        with tty:
            return await self._ask_on(lambda: asyncio.to_thread(tty.readline))

    async def _ask_on(self, read: Callable[[], Awaitable[str]]) -> bool:
        """Ask until the answer is yes or no; an empty answer or the end of input is no."""
        prompt = "Accept and remember it? [y/N] "
        while True:
            self.err.write(prompt)
            self.err.flush()
            answer = (await read()).strip().lower()
            if answer in ("y", "yes"):
                return True
            if answer in ("", "n", "no"):
                return False
            prompt = "Please type y (accept and pin it) or n (disconnect): "

    def ready_to_talk(self, event: Event | ConnectionStatus) -> bool:
        """Whether what the user types can go to the server now: in a room, or the server
        said something went wrong, or it closed. Until then typed lines wait, so neither
        a certificate answer nor a first message reaches the wrong place."""
        s = self.session
        if isinstance(event, Show):
            return (event.kind is LineKind.JOIN and event.own) or event.kind is LineKind.ERROR
        if isinstance(event, Registered):
            return s is not None and not s.autojoin
        return isinstance(event, AuthFailed) or (
            isinstance(event, ConnectionStatus) and event.final
        )


class TerminalLines:
    """The one reader of stdin. Chat lines and the certificate answer both come from here,
    so a ``y`` meant for the question can never become a message, nor a message the
    answer.

    A daemon thread reads, not ``asyncio.to_thread``: a readline blocked on a terminal must
    not keep the process alive after the server has closed the connection.
    """

    def __init__(self, source: TextIO, loop: asyncio.AbstractEventLoop) -> None:
        self.interactive = _isatty(source)
        self._queue: asyncio.Queue[str] = asyncio.Queue()
        self._typed_before: list[str] = []

        def read() -> None:
            try:
                for line in iter(source.readline, ""):
                    loop.call_soon_threadsafe(self._queue.put_nowait, line)
                loop.call_soon_threadsafe(self._queue.put_nowait, "")
            except RuntimeError:  # the loop closed: the client ended, nobody reads on
                return

        threading.Thread(target=read, name="stdin", daemon=True).start()

    async def next_line(self) -> str:
        """The next chat line ("" at the end of input)."""
        if self._typed_before:
            return self._typed_before.pop(0)
        return await self._queue.get()

    async def answer(self) -> str:
        """The first line typed after the question was asked; lines typed before it were
        meant for the chat and are kept for it."""
        while not self._queue.empty():
            self._typed_before.append(self._queue.get_nowait())
        if self._typed_before and self._typed_before[-1] == "":
            return ""  # the input had already ended
        return await self._queue.get()


def _isatty(source: TextIO) -> bool:
    try:
        return source.isatty()
    except (AttributeError, ValueError):
        return False


async def run_plain(
    endpoint: Endpoint,
    session: ClientSession,
    *,
    accept_new_cert: bool = False,
    on_pin: object = None,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    """Run until stdin ends or the server closes; 1 when login or connecting failed."""
    ui = PlainUI(stdout or sys.stdout, stderr or sys.stderr, accept_new_cert)
    ui.session = session
    ui.lines = lines = TerminalLines(stdin or sys.stdin, asyncio.get_running_loop())
    client = IrcClient(
        session,
        endpoint,
        ui.on_event,
        ui.ask,
        on_pin if callable(on_pin) else (lambda fp: None),
    )
    runner = asyncio.create_task(client.run())

    async def pump() -> None:
        await ui.talking.wait()
        while True:
            line = await lines.next_line()
            if ui.ended:
                return  # refused or closed: a line waiting for the room is not sent anywhere
            if not line:
                await client.quit("end of input")
                return
            text = line.rstrip("\r\n")
            if text:
                before = session.active
                ui.join_answered.clear()
                client.submit(session.buffers[session.active].name, text)
                if client.quitting:
                    return
                if session.active != before:  # /query, or /join of a room we are in
                    name = terminal_safe(session.buffers[session.active].name)
                    ui.err.write(f"chatroom: your lines now go to {name}\n")
                    ui.err.flush()
                elif text.split()[0].lower() in ("/join", "/j"):
                    ui.join_requested = True
                    # The next lines are for the room joined: wait for its JOIN (or the
                    # refusal), as a person would before typing there.
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(ui.join_answered.wait(), JOIN_WAIT)

    reader = asyncio.create_task(pump())
    done, _ = await asyncio.wait({runner, reader}, return_when=asyncio.FIRST_COMPLETED)
    if reader in done:
        try:
            await asyncio.wait_for(runner, 5)
        except TimeoutError:
            runner.cancel()
    else:
        reader.cancel()
    return 1 if ui.failed else 0


def password_from_env_or_prompt(
    saved: Callable[[], str | None] = lambda: None, err: TextIO | None = None
) -> str | None:
    """CHATROOM_PASSWORD, else the one saved in the system keyring (``saved``), else a
    prompt on the terminal; empty means guest."""
    env = os.environ.get("CHATROOM_PASSWORD")
    if env is not None:
        return env or None
    found = saved()
    if found:
        (err or sys.stderr).write("chatroom: using the password saved in the system keyring\n")
        return found
    if not sys.stdin.isatty():
        return None
    import getpass

    return getpass.getpass("Password (empty for guest): ") or None
