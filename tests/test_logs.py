"""The server's readable log lines carry strangers' text without its escape codes.

A login name is whatever a client sends in SASL PLAIN, before any account exists, and
"login failed" logs it: on the operator's terminal (`chatroom serve` in the foreground)
an escape sequence there retitled the window and cleared the screen.
"""

from __future__ import annotations

import base64
import logging
import socket
import time
from pathlib import Path

from chatroom.logs import HumanFormatter, error_text
from tests.serve_process import ServeProcess

HOSTILE = "ev\x1b]0;pwned\x07\x1b[2Jil\x9b31m"


def record(msg: str, **fields: object) -> logging.LogRecord:
    made = logging.LogRecord("chatroom.auth", logging.WARNING, __file__, 1, msg, None, None)
    made.__dict__.update(fields)
    return made


def test_a_log_line_shows_controls_in_its_message_and_fields_as_text() -> None:
    line = HumanFormatter().format(record(f"said {HOSTILE}", account=HOSTILE, ip="127.0.0.1"))
    assert not any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in line)
    assert "␛]0;pwned␇␛[2Jil␛[31m" in line
    assert line.endswith(" ip=127.0.0.1")


def test_bidi_and_invisible_marks_are_written_by_code_point() -> None:
    """A right-to-left override would make the rest of the line display backwards."""
    sneaky = "adm\u200bin\u202egnp.exe\u2066"
    line = HumanFormatter().format(record(f"said {sneaky}", account=sneaky))
    assert not any(c in line for c in "\u200b\u202e\u2066")
    assert "said adm<U+200B>in<U+202E>gnp.exe<U+2066>" in line
    assert "account=adm<U+200B>in<U+202E>gnp.exe<U+2066>" in line
    assert "שלום" in HumanFormatter().format(record("said שלום"))  # letters stay letters


def test_a_log_line_starts_with_its_date_and_time() -> None:
    """A log kept in a file for weeks: '07:23:46' alone would name no day."""
    made = record("listening", port=6667)
    made.created = time.mktime((2030, 1, 31, 19, 4, 5, 0, 0, -1))
    line = HumanFormatter().format(made)
    assert line == "2030-01-31 19:04:05 WARNING listening port=6667"


def test_a_field_with_spaces_cannot_pass_for_more_fields() -> None:
    line = HumanFormatter().format(record("login failed", account="x ip=10.9.8.7", ip="1.2.3.4"))
    assert 'account="x ip=10.9.8.7" ip=1.2.3.4' in line


def test_an_error_of_several_lines_is_one_field_and_an_empty_one_names_its_type() -> None:
    """libpq's messages span lines; every store, listener and network error field goes
    through ``error_text``, so none shows as text broken by "␊"."""
    libpq = ConnectionError("connection to server failed: No such file\n\tIs the server running?\n")
    assert error_text(libpq) == "connection to server failed: No such file; Is the server running?"
    line = HumanFormatter().format(
        record("store listener lost its connection", error=error_text(libpq))
    )
    assert "␊" not in line
    assert error_text(TimeoutError()) == "TimeoutError"


def test_a_hostile_login_name_reaches_the_servers_log_as_visible_text(tmp_path: Path) -> None:
    server = ServeProcess(tmp_path)
    try:
        with socket.create_connection(("127.0.0.1", server.irc_port), timeout=10) as conn:
            blob = base64.b64encode(f"\0{HOSTILE}\0guess".encode()).decode()
            for line in ("CAP REQ :sasl", "NICK mallory", "USER m 0 * :m", "AUTHENTICATE PLAIN"):
                conn.sendall(f"{line}\r\n".encode())
            got = b""
            while b"AUTHENTICATE +" not in got:
                got += conn.recv(4096)
            conn.sendall(f"AUTHENTICATE {blob}\r\n".encode())
            while b" 904 " not in got:
                got += conn.recv(4096)
        deadline = time.monotonic() + 10
        while "login failed" not in server.stderr() and time.monotonic() < deadline:
            time.sleep(0.05)
        log = server.stderr()
    finally:
        server.stop()
    [failed] = [line for line in log.splitlines() if "login failed" in line]
    assert "account=ev␛]0;pwned␇␛[2Jil␛[31m" in failed
    assert not any(c in log for c in "\x1b\x07\x9b")
