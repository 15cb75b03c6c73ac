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
import os
import sys
import threading
from typing import TextIO

from chatroom.client.connection import ConnectionStatus, Endpoint, IrcClient, format_fingerprint
from chatroom.client.session import ClientSession
from chatroom.client.state import AuthFailed, Deleted, Event, LineKind, LoggedIn, Show
from chatroom.irc.formatting import terminal_safe

__all__ = ["format_plain", "run_plain"]


def format_plain(line: Show, current: str | None) -> str:
    """``[12:34] <alice> hi``; actions as ``* alice waves``, events as ``-- text``.

    Safe to print: formatting removed, controls made visible (``terminal_safe``).
    """
    return terminal_safe(_layout(line, current), keep_newlines=True)  # multiline messages


def _layout(line: Show, current: str | None) -> str:
    stamp = line.time.astimezone().strftime("%H:%M")
    where = "" if current is not None and line.buffer.lower() == current.lower() else line.buffer
    head = f"[{stamp}] " + (f"{where} " if where and where != "*" else "")
    if line.deleted:
        return f"{head}-- {line.nick}: {line.text}"
    if line.kind is LineKind.MESSAGE:
        return _indented(f"{head}<{line.nick}> ", line.text)
    if line.kind is LineKind.NOTICE:
        return _indented(f"{head}-{line.nick}- ", line.text)
    if line.kind is LineKind.ACTION:
        return _indented(f"{head}* {line.nick} ", line.text)
    if line.kind is LineKind.ERROR:
        return f"{head}!! {line.text}"
    return f"{head}-- {line.text}"


def _indented(lead: str, text: str) -> str:
    """A multi-line message (draft/multiline) under one head: later lines are indented
    to the text, so a script still reads one message per unindented line."""
    return lead + text.replace("\n", "\n" + " " * len(lead))


class PlainUI:
    def __init__(self, out: TextIO, err: TextIO, accept_new_cert: bool) -> None:
        self.out = out
        self.err = err
        self.accept_new_cert = accept_new_cert
        self.session: ClientSession | None = None
        self.failed = False
        self.pinned = ""

    def on_event(self, event: Event | ConnectionStatus) -> None:
        s = self.session
        assert s is not None
        if isinstance(event, Show):
            if event.kind is LineKind.JOIN and event.own:
                s.set_active(event.buffer)
            current = s.buffers[s.active].name if s.active in s.buffers else None
            self.out.write(format_plain(event, current) + "\n")
            self.out.flush()
        elif isinstance(event, Deleted):
            current = s.buffers[s.active].name if s.active in s.buffers else None
            self.out.write(format_plain(event.line, current) + "\n")
            self.out.flush()
        elif isinstance(event, AuthFailed):
            self.failed = True
            self.err.write(f"chatroom: {terminal_safe(event.text, keep_newlines=True)}\n")
        elif isinstance(event, LoggedIn):
            what = "created account" if event.created else "logged in as"
            self.err.write(f"chatroom: {what} {terminal_safe(event.account)}\n")
        elif isinstance(event, ConnectionStatus):
            self.err.write(f"chatroom: {terminal_safe(event.text, keep_newlines=True)}\n")
            if event.final and not event.connected and "Disconnected" not in event.text:
                self.failed = True
        self.err.flush()

    async def ask(self, host: str, port: int, fingerprint: str) -> bool:
        self.err.write(
            f"chatroom: first connection to {host}:{port}; its certificate's SHA-256 is\n"
            f"  {format_fingerprint(fingerprint)}\n"
        )
        if self.accept_new_cert:
            self.err.write("chatroom: accepted (--insecure-accept-new-cert) and pinned\n")
            return True
        try:
            tty = open("/dev/tty", encoding="utf-8")  # noqa: SIM115 (closed below)
        except OSError:
            self.err.write(
                "chatroom: not accepted. Check it with the server's operator, then run once "
                "with --insecure-accept-new-cert (or from a terminal) to pin it.\n"
            )
            return False
        # Ask on the terminal itself: stdin carries the messages to send.
        self.err.write("Accept and remember it? [y/N] ")
        self.err.flush()
        with tty:
            answer = await asyncio.to_thread(tty.readline)
        return answer.strip().lower() in ("y", "yes")


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
    client = IrcClient(
        session,
        endpoint,
        ui.on_event,
        ui.ask,
        on_pin if callable(on_pin) else (lambda fp: None),
    )
    runner = asyncio.create_task(client.run())
    source = stdin or sys.stdin

    lines: asyncio.Queue[str] = asyncio.Queue()
    loop = asyncio.get_running_loop()

    def read_stdin() -> None:
        # A daemon thread, not asyncio.to_thread: a readline blocked on a terminal must not
        # keep the process alive after the server has closed the connection.
        for line in iter(source.readline, ""):
            loop.call_soon_threadsafe(lines.put_nowait, line)
        loop.call_soon_threadsafe(lines.put_nowait, "")

    threading.Thread(target=read_stdin, name="stdin", daemon=True).start()

    async def pump() -> None:
        while True:
            line = await lines.get()
            if not line:
                await client.quit("end of input")
                return
            text = line.rstrip("\r\n")
            if text:
                client.submit(session.buffers[session.active].name, text)
                if client.quitting:
                    return

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


def password_from_env_or_prompt() -> str | None:
    """CHATROOM_PASSWORD, else a prompt on the terminal; empty means guest."""
    env = os.environ.get("CHATROOM_PASSWORD")
    if env is not None:
        return env or None
    if not sys.stdin.isatty():
        return None
    import getpass

    return getpass.getpass("Password (empty for guest): ") or None
