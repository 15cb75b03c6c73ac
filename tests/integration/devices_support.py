"""Shared steps of the tests of one account on many devices across crashes: raw
connections logged in with SASL PLAIN, a commit barrier, and ``kill -9``."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from chatroom.config import Config
from tests.integration.moderation_support import PASSWORD
from tests.realserver import Wire
from tests.serve_process import ServeProcess, store_args


def device(port: int, wires: list[Wire], account: str, nick: str, *caps: str) -> Wire:
    """A connection logged in to ``account`` with SASL PLAIN, registered as ``nick``
    (``caps`` requested too); returns after the end of its welcome (MOTD)."""
    wire = Wire(port)
    wires.append(wire)
    sasl_only(wire, account, *caps)
    wire.write("CAP END", f"NICK {nick}", f"USER {nick} 0 * :{nick}")
    wire.until((" 376 ", " 422 "))
    return wire


def always_on_device(port: int, wires: list[Wire], *then: str) -> Wire:
    """A ``device`` of the account alice as the nick alice, always-on turned on, then the
    lines ``then`` sent; returns once always-on is confirmed."""
    alice = device(port, wires, "alice", "alice")
    alice.write("PRIVMSG NickServ :SET ALWAYS-ON ON", *then)
    alice.until("ALWAYS-ON is now ON")
    return alice


def sasl_only(wire: Wire, account: str, *caps: str) -> None:
    """Log ``wire`` in to ``account`` with SASL PLAIN, leaving CAP negotiation open (the
    caller sends CAP END, NICK and USER when it wants the connection to register)."""
    plain = base64.b64encode(f"{account}\0{account}\0{PASSWORD}".encode()).decode()
    wire.write("CAP LS 302", f"CAP REQ :{' '.join(('sasl', *caps))}")
    wire.until(" ACK ")
    wire.write("AUTHENTICATE PLAIN")
    wire.until("AUTHENTICATE +")
    wire.write(f"AUTHENTICATE {plain}")
    wire.until(" 903 ")


def barrier(wire: Wire) -> None:
    """Returns once everything the server was asked to save before is saved: NickServ
    answers SET only after its own commit, and the store commits in order. (A private
    message to an offline account is no barrier: "kept" follows the history's commit, in
    another database.) ``wire`` must be logged in; its account keeps multiclient on."""
    wire.write("PRIVMSG NickServ :SET MULTICLIENT ON")
    wire.until("MULTICLIENT is now ON")


def crash(server: ServeProcess) -> None:
    """``kill -9``: nothing orderly runs."""
    server.proc.kill()
    server.proc.wait(timeout=15)
    server.stop()


def serve(tmp_path: Path, config: Config) -> ServeProcess:
    return ServeProcess(tmp_path, args=store_args(config))


@contextmanager
def serving(tmp_path: Path, config: Config) -> Iterator[ServeProcess]:
    """``serve``, stopped at the end of the block whatever happened in it (stopping after
    ``crash`` is harmless)."""
    server = serve(tmp_path, config)
    try:
        yield server
    finally:
        server.stop()
