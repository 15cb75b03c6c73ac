"""The QUIT reason others see when a connection breaks: plain words, never Python's text."""

from __future__ import annotations

import errno
import ssl

import pytest

from chatroom.server.net.connection import quit_reason


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (None, "Connection closed"),
        (
            ConnectionResetError(errno.ECONNRESET, "Connection reset by peer"),
            "Connection reset by peer",
        ),
        (BrokenPipeError(errno.EPIPE, "Broken pipe"), "Broken pipe"),
        (TimeoutError(), "Connection timed out"),
        (OSError(errno.EHOSTUNREACH, "No route to host"), "No route to host"),
        (ssl.SSLError(1, "[SSL: DECRYPTION_FAILED_OR_BAD_RECORD_MAC] bad record mac"), "TLS error"),
        (RuntimeError("something odd"), "Read error"),
    ],
)
def test_quit_reason_is_plain_words(error: BaseException | None, reason: str) -> None:
    shown = quit_reason(error)
    assert shown == reason
    assert "Errno" not in shown
    assert "[" not in shown
