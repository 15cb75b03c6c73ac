"""What ``chatroom connect --plain`` prints: every field from the network made safe."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest

from chatroom.client.connection import ConnectionStatus
from chatroom.client.plain import PlainUI, format_plain
from chatroom.client.session import ClientSession
from chatroom.client.state import AuthFailed, LineKind, Show

AT = datetime(2030, 1, 2, 3, 4, tzinfo=UTC)


@pytest.mark.parametrize("kind", list(LineKind))
def test_every_kind_of_line_shows_controls_from_nick_room_and_text(kind: LineKind) -> None:
    line = Show("#r\x1b[2J", kind, "bo\x07b", "hi \x1b]0;t\x07 \x02there\x02", AT)
    shown = format_plain(line, current="#lobby")
    assert "\x1b" not in shown
    assert "\x07" not in shown
    assert "\x02" not in shown
    assert "hi ␛]0;t␇ there" in shown
    assert "#r␛[2J" in shown


@pytest.mark.parametrize(
    "event",
    [
        AuthFailed("banned", "You are banned: \x1b]0;pwned\x07"),
        ConnectionStatus("Connection lost: \x1b[2J\x9b2J"),
    ],
)
def test_status_lines_on_stderr_are_safe_too(event: AuthFailed | ConnectionStatus) -> None:
    out, err = io.StringIO(), io.StringIO()
    ui = PlainUI(out, err, accept_new_cert=False)
    ui.session = ClientSession("tina", None)
    ui.on_event(event)
    assert err.getvalue().startswith("chatroom: ")
    assert not any((ord(c) < 0x20 and c != "\n") or 0x7F <= ord(c) <= 0x9F for c in err.getvalue())
    assert "␛" in err.getvalue()
